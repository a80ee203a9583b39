"""Data sets: real ones (digits, MNIST) and your own files (CSV, ``.npz``)."""

from .files import load_csv, load_npz
from .real import DownloadError, load_digits, load_mnist, parse_idx

__all__ = ["DownloadError", "load_csv", "load_digits", "load_mnist", "load_npz", "parse_idx"]
