"""The ``mlpzero`` command (also ``python -m mlpzero``).

Sub-commands: ``demo``, ``train``, ``evaluate``, ``predict``, ``convert``, ``summary``,
``plot`` (``activations``, ``boundary``, ``history``), ``export`` and ``playground``
(:mod:`mlpzero.playground.cli`). ``mlpzero COMMAND --help`` shows each one's usage and an
example.

The command is a thin adapter: it parses options, loads data with
:func:`mlpzero.datasets.load_data` and models with :func:`mlpzero.load`, and calls
:class:`~mlpzero.MLP` and :mod:`mlpzero.plotting`. It holds no math and no parsing of its
own. No output may be one of the command's inputs (:func:`refuse_overwriting`).

Errors end the command with exit status 1 (2 for a bad option) and one line on stderr
that names the problem; ``--debug`` shows the full traceback instead.

Adding a command: write a function ``add_parser(subparsers, add_command)`` that calls
the :func:`add_command` it is handed (which gives the command ``--help``, ``--debug`` and
an example; a module of another floor so never imports this one back) and
sets ``handler=`` to a function taking the parsed arguments and returning an exit status;
then list the function in :data:`COMMANDS`, or expose it as ``add_parser`` in one of the
modules named in :data:`COMMAND_MODULES` (loaded when present).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import io
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .activations import ACTIVATIONS
from .datasets.loading import BUILTIN_DATASETS, DATA_HELP, TOY_DATASETS, Dataset, load_data
from .io import replace_atomically
from .losses import LOSSES
from .optimizers import OPTIMIZERS

__all__ = [
    "COMMANDS",
    "COMMAND_MODULES",
    "CommandError",
    "add_command",
    "main",
    "refuse_overwriting",
]


class CommandError(Exception):
    """A problem with what the user asked for, reported as one line without a traceback."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: the problem and where to get help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


# ---------------------------------------------------------------------------- option types
def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "an integer >= 1")


def _non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def _positive_float(text: str) -> float:
    return _number(text, float, lambda v: np.isfinite(v) and v > 0, "a number > 0")


def _non_negative_float(text: str) -> float:
    return _number(text, float, lambda v: np.isfinite(v) and v >= 0, "a number >= 0")


def _fraction(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _scale(text: str) -> float:
    return _number(text, float, lambda v: 0 < v <= 1, "a number in (0, 1]")


def _number(text: str, kind: type, ok: Callable[[Any], bool], expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


# ---------------------------------------------------------------------------- building
def add_command(
    subparsers: Any, name: str, *, help: str, example: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Add sub-command ``name`` with ``--help`` text, an example and ``--debug``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback when something fails",
    )
    return parser


def _add_demo(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "demo",
        help="run the article's experiments; write their figures and print a table",
        example="mlpzero demo --out figures",
    )
    parser.add_argument("--out", default="out", metavar="DIR", help="folder for the figures")
    parser.add_argument(
        "--epoch-scale",
        type=_scale,
        default=1.0,
        metavar="X",
        help="multiply every epoch count by X in (0, 1] for a quick run (default: 1)",
    )
    parser.set_defaults(handler=_demo)


def _add_train(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "train",
        help="train a model on a dataset and save it",
        description=(
            "Train a multi-layer perceptron on DATA, show progress, print a table of "
            "metrics and save the model to --out. Ctrl-C stops training with exit status "
            "130 and leaves --out as it was; with --checkpoint, --resume continues the run. "
            "When stdout or stderr closes early (| head), the rest of the output is discarded and "
            "training goes on to save the model."
            "\n\nDATA is " + DATA_HELP + "."
        ),
        example="mlpzero train moons --hidden 16 8 --epochs 2000 --lr 0.1 --out moons.npz",
    )
    parser.add_argument("data", metavar="DATA", help="dataset name or file (see above)")
    parser.add_argument("--out", required=True, metavar="MODEL.npz", help="where to save")
    parser.add_argument("--target", metavar="COL", help="CSV target column (default: last)")
    parser.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="*",
        default=[16, 8],
        metavar="N",
        help="hidden layer sizes (default: 16 8; none for logistic regression)",
    )
    parser.add_argument(
        "--activation", default="relu", metavar="A", help=f"{_names(ACTIVATIONS)} (default: relu)"
    )
    parser.add_argument(
        "--loss", default="auto", metavar="L", help=f"auto (default), {_names(LOSSES)}"
    )
    parser.add_argument(
        "--optimizer",
        default="sgd",
        metavar="O",
        help=f"{_names(OPTIMIZERS)}, or lbfgs: full-batch, --epochs iterations, needs SciPy "
        "(default: sgd)",
    )
    parser.add_argument(
        "--lr", type=_positive_float, metavar="X", help="learning rate (default: the optimizer's)"
    )
    parser.add_argument(
        "--epochs", type=_positive_int, default=1000, metavar="N", help="(default: 1000)"
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, metavar="N", help="mini-batch size (default: all)"
    )
    parser.add_argument("--l2", type=_non_negative_float, metavar="X", help="L2 penalty")
    parser.add_argument("--dropout", type=_fraction, metavar="X", help="dropout rate")
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="standardise the features inside the model (mean and standard deviation of "
        "the training rows, saved with it)",
    )
    parser.add_argument(
        "--validation-split",
        type=_fraction,
        metavar="X",
        help="hold out this fraction of the data for validation",
    )
    parser.add_argument(
        "--early-stopping",
        type=_positive_int,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without improvement of val_loss (loss without "
        "--validation-split) and keep the weights of the best epoch",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, metavar="N", help="model and data seed"
    )
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    _add_samples(parser)
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="also draw the decision boundary (2-D classification data) or else the loss "
        "curve; the extension sets the format (none: .png is added)",
    )
    parser.add_argument(
        "--checkpoint", metavar="PATH", help="save the training state as training goes"
    )
    parser.add_argument(
        "--checkpoint-interval",
        type=_non_negative_float,
        metavar="SECONDS",
        help="with --checkpoint: least time between checkpoints; the last epoch is always "
        "saved (default: 1)",
    )
    parser.add_argument(
        "--resume", metavar="PATH", help="continue an interrupted run from its checkpoint"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="one rank of an MPI job: mpirun -n N mlpzero train ... --distributed "
        "(rank 0 prints and saves)",
    )
    parser.set_defaults(handler=_train)


def _add_evaluate(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "evaluate",
        help="print a saved model's loss and accuracy (or mse) on a dataset",
        description=(
            "Evaluate MODEL on DATA. DATA is " + DATA_HELP + "; for mnist the test split "
            "is used, for the toy datasets the same draw as train with the same --seed and "
            "--samples."
        ),
        example="mlpzero evaluate moons.npz moons",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file saved by train")
    parser.add_argument("data", metavar="DATA", help="dataset name or file")
    _data_options(parser)
    parser.set_defaults(handler=_evaluate)


def _add_predict(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "predict",
        help="write a saved model's predictions for a dataset as CSV",
        description=(
            "Predict with MODEL for every row of DATA and write CSV (to stdout by default). "
            "A CSV input may hold only the feature columns."
        ),
        example="mlpzero predict moons.npz new_points.csv --proba --output predictions.csv",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file saved by train")
    parser.add_argument("data", metavar="DATA", help="dataset name or file")
    parser.add_argument("--proba", action="store_true", help="class probabilities, not labels")
    parser.add_argument(
        "--output", metavar="FILE", help="write the CSV here, not to stdout ('-': stdout)"
    )
    _data_options(parser)
    parser.set_defaults(handler=_predict)


def _add_convert(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "convert",
        help="stream a CSV file into a data folder (X.npy, y.npy) for data larger than memory",
        description=(
            "Convert CSV (a header row, numeric features, a target column) into the folder "
            "DIR: X.npy, y.npy and columns.json, read in chunks with bounded memory. Every "
            "command that takes DATA accepts DIR and opens it memory-mapped. A bad row "
            "stops the conversion with its line number and leaves no folder behind."
        ),
        example="mlpzero convert data.csv data --target label --dtype float32",
    )
    parser.add_argument("csv", metavar="CSV", help="the CSV file to read")
    parser.add_argument("dir", metavar="DIR", help="the folder to write (new or empty)")
    parser.add_argument("--target", metavar="COL", help="target column (default: last)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--delimiter", default=",", metavar="C", help="(default: ,)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_convert)


def _add_summary(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "summary",
        help="print a saved model's layers, output shapes, activations and parameters",
        example="mlpzero summary moons.npz",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file saved by train")
    parser.set_defaults(handler=_summary)


def _add_plot(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "plot",
        help="draw activations, a decision boundary or a training history",
        example="mlpzero plot boundary moons.npz moons --out boundary.png",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    activations = add_command(
        kinds,
        "activations",
        help="activation functions and their derivatives",
        example="mlpzero plot activations sigmoid tanh relu --out activations.png",
    )
    activations.add_argument(
        "names", nargs="*", default=["sigmoid", "tanh", "relu"], metavar="NAME"
    )
    activations.add_argument("--out", required=True, metavar="PNG")
    activations.set_defaults(handler=_plot_activations)
    boundary = add_command(
        kinds,
        "boundary",
        help="a model's decision regions over 2-D data",
        example="mlpzero plot boundary moons.npz moons --out boundary.png",
    )
    boundary.add_argument("model", metavar="MODEL")
    boundary.add_argument("data", metavar="DATA")
    boundary.add_argument("--out", required=True, metavar="PNG")
    _data_options(boundary)
    boundary.set_defaults(handler=_plot_boundary)
    history = add_command(
        kinds,
        "history",
        help="the loss per epoch recorded in a model file",
        example="mlpzero plot history moons.npz --out loss.png",
    )
    history.add_argument("model", metavar="MODEL")
    history.add_argument("--out", required=True, metavar="PNG")
    history.set_defaults(handler=_plot_history)


def _add_export(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "export",
        help="write a saved model as ONNX (.onnx) or as a C99 header (.h)",
        description=(
            "Export MODEL to OUT; the format follows OUT's extension: .onnx writes an ONNX "
            "model (needs the onnx extra), .h a self-contained C99 header whose functions "
            "are prefixed with --name."
        ),
        example="mlpzero export moons.npz moons.onnx",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file saved by train")
    parser.add_argument("out", metavar="OUT", help="OUT.onnx or OUT.h")
    parser.add_argument(
        "--name", metavar="NAME", help="C identifier prefix for a .h (default: OUT's stem)"
    )
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from .export import FORMATS, export, export_format

    _refuse_empty(args.out, "OUT")
    suffix = export_format(args.out)
    if args.name is not None and suffix != ".h":
        raise CommandError("--name applies to a C header (.h) only")
    _check_folder(args.out, "OUT")
    refuse_overwriting({"OUT": args.out}, [args.model])
    path = export(_load_model(args.model), args.out, name=args.name)
    print(f"wrote the {FORMATS[suffix]} to {path}")
    return 0


def _names(registry: Any) -> str:
    return ", ".join(sorted(registry))


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="COL", help="CSV target column (default: last)")
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, metavar="N", help="toy dataset draw"
    )
    _add_samples(parser)


def _add_samples(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples",
        type=_positive_int,
        metavar="N",
        help=f"size of a generated dataset ({', '.join(TOY_DATASETS)})",
    )


#: The functions that add the built-in sub-commands, in the order ``--help`` lists them.
COMMANDS: list[Callable[[Any], None]] = [
    _add_demo,
    _add_train,
    _add_evaluate,
    _add_predict,
    _add_convert,
    _add_summary,
    _add_plot,
    _add_export,
]
#: Modules that add more sub-commands through an ``add_parser(subparsers, add_command)``
#: function.
COMMAND_MODULES: tuple[str, ...] = ("mlpzero.playground.cli",)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="mlpzero",
        description="Multi-layer neural networks from scratch on NumPy.",
        epilog="example:\n  mlpzero train xor --hidden 8 4 --epochs 2000 --lr 0.1 --out xor.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mlpzero {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and name.startswith(error.name):
                continue  # that command is not installed in this version
            raise
        module.add_parser(subparsers, add_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = " ".join(filter(None, ["mlpzero", args.command, getattr(args, "kind", None)]))
    try:
        with warnings.catch_warnings():
            # The library's advice (a column float32 cannot hold, ...) as one line of the
            # command's own, not as Python's report of a source line.
            warnings.simplefilter("default", UserWarning)
            warnings.showwarning = lambda message, *_: print(
                f"{command}: warning: {message}", file=sys.stderr
            )
            return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("mlpzero: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Whoever read our output stopped early (``mlpzero predict ... | head``): fine.
        _discard_output(sys.stdout)
        return 0
    except Exception as error:
        if args.debug:
            raise
        print(f"{command}: error: {_one_line(error)}", file=sys.stderr)
        return 1


def _discard_output(stream: TextIO) -> None:
    """Send the rest of ``stream``'s output, buffered or to come, to the null device: its
    reader has gone, and the flush at exit must not fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)


class _OutputOutlivingItsReader:
    """A text stream that, once its reader has gone (``mlpzero train ... | head``),
    discards what is written to it instead of raising :class:`BrokenPipeError`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            _discard_output(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            _discard_output(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _output_not_needed() -> Iterator[None]:
    """For a command whose product is a file: a closed stdout or stderr (``2>&1 | head``)
    neither stops nor fails it."""
    with (
        open(os.devnull, "w") as null,  # for a stream closed from the start (>&-): None
        contextlib.redirect_stdout(_OutputOutlivingItsReader(sys.stdout or null)),
        contextlib.redirect_stderr(_OutputOutlivingItsReader(sys.stderr or null)),
    ):
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


def _one_line(error: Exception) -> str:
    if isinstance(error, FileNotFoundError) and error.filename is not None:
        return f"file not found: {error.filename}"
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.strerror.lower()}: {error.filename}"
    if isinstance(error, OSError) and error.strerror and str(error).startswith("[Errno "):
        return " ".join(error.strerror.split())  # without Python's "[Errno 98] "
    known = (CommandError, ValueError, TypeError, OSError, RuntimeError, ImportError)
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, MemoryError):  # data or a network larger than this machine holds
        return "not enough memory" + ("" if text == type(error).__name__ else f": {text}")
    if isinstance(error, known):
        return text
    return f"unexpected {type(error).__name__}: {text} (run with --debug for the traceback)"


# ---------------------------------------------------------------------------- data
def _load_model(path: str) -> Any:
    from .model import load

    _refuse_empty(path, "MODEL", "the path of a model file")
    return load(path)


def _data(args: argparse.Namespace, model: Any = None, **options: Any) -> Dataset:
    """DATA as the options describe it; given a model, matched to its features."""
    _refuse_empty(args.data, "DATA", "a dataset name or the path of a file or folder")
    if args.samples is not None and args.data.lower() not in TOY_DATASETS:
        raise CommandError(
            f"--samples {args.samples} applies to the generated datasets "
            f"({', '.join(TOY_DATASETS)}), not to {args.data}"
        )
    if model is not None:
        options.setdefault("features", model.feature_names_in_)
        options.setdefault("n_features", model.network.layer_sizes[0])
    return load_data(
        args.data, target=args.target, seed=args.seed, n_samples=args.samples, **options
    )


def _data_path(spec: str) -> str | None:
    """DATA's path when it names a file or folder rather than a built-in dataset."""
    return None if spec.lower() in BUILTIN_DATASETS else spec


def _require_targets(data: Dataset, spec: str) -> np.ndarray:
    if data.y is None:
        raise CommandError(f"{spec} has no target column, so the model cannot be evaluated")
    return data.y


def refuse_overwriting(outputs: dict[str, str | None], inputs: Sequence[str | None]) -> None:
    """Fail before anything is written when an output would replace an input or another output.

    ``outputs`` maps each option (``"--out"``) to its path; ``inputs`` are the paths the
    command reads. Paths are compared after resolving symlinks and ``./``, and an existing
    output is also compared by file identity, so that a hard link to an input counts as
    that input; a data folder counts with the files in it.
    """
    read: list[str] = []
    for path in inputs:
        if path is None or not os.path.exists(path):
            continue
        read.append(os.path.realpath(path))
        if os.path.isdir(path):
            read += [os.path.realpath(os.path.join(path, name)) for name in os.listdir(path)]
    identities = {_identity(path) for path in read} - {None}
    written: dict[str, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in read or _identity(real) in identities:
            raise CommandError(
                f"{flag} {path} is one of the command's inputs; refusing to overwrite it"
            )
        if real in written:
            raise CommandError(
                f"{flag} {path} is also {written[real]}; give each output its own path"
            )
        written[real] = flag


def _identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at ``path``, None when there is none."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


# ---------------------------------------------------------------------------- commands
def _demo(args: argparse.Namespace) -> int:
    from .demo import run

    if args.out == "":
        raise CommandError("--out '' is empty; give a folder for the figures")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CommandError(f"--out {args.out} is a file; give a folder for the figures")
    run(out=args.out, epoch_scale=args.epoch_scale)
    return 0


def _train(args: argparse.Namespace) -> int:
    # The product is the model file: the progress and the table are only for a reader.
    with _output_not_needed():
        return _train_or_join_the_job(args)


def _train_or_join_the_job(args: argparse.Namespace) -> int:
    if not getattr(args, "distributed", False):
        return _train_here(args)
    from .distributed import DistributedFitError, communicator, errors_end_the_job
    from .training import TrainingDivergedError

    def report(error: BaseException) -> str | None:  # as main reports it in one process
        if args.debug:
            return None  # the traceback
        if isinstance(error, KeyboardInterrupt):
            return "mlpzero: interrupted"
        return f"mlpzero train: error: {_one_line(error)}" if isinstance(error, Exception) else None

    # A failure on one rank (its copy of the data is missing, say) must end the whole job
    # rather than leave the other ranks waiting for it in the fit.
    collective = (DistributedFitError, TrainingDivergedError)
    with errors_end_the_job(communicator(True), collective, report):
        return _train_here(args)


def _train_here(args: argparse.Namespace) -> int:
    from .model import MLP, check_model_path

    for flag in ("out", "checkpoint"):
        _check_folder(getattr(args, flag), f"--{flag}")
    if args.resume is not None:
        _refuse_empty(args.resume, "--resume", "the path of a checkpoint")
    figure = None if args.plot is None else _figure_path(args.plot, "--plot")
    resumed = args.resume
    if resumed is not None and args.checkpoint is not None:
        same = os.path.realpath(resumed) == os.path.realpath(args.checkpoint)
        if same or _identity(resumed) in {_identity(args.checkpoint)} - {None}:
            resumed = None  # the run goes on in the checkpoint it resumes from: allowed
    refuse_overwriting(
        {"--out": args.out, "--plot": figure, "--checkpoint": args.checkpoint},
        [_data_path(args.data), resumed],
    )
    check_model_path(args.out, f"--out {args.out}")  # before training, not after
    model, options = _model_and_fit_options(MLP, args)  # bad options fail before the data
    # A resumed run takes the columns by the names in its checkpoint, in their training
    # order, as predict does with a model's: the same CSV with its columns moved resumes.
    names = None if args.resume is None else _load_model(args.resume).feature_names_in_
    # Distributed, each rank's fit scans its share of a data folder: none reads it whole.
    scan = not getattr(args, "distributed", False)
    data = _data(args, scan=scan, **({"features": names} if names else {}))
    y = _require_targets(data, args.data)
    if y.dtype.kind == "S":  # the save after training would refuse them: say so before
        raise CommandError(
            f"{args.data}: the labels are bytes (dtype {y.dtype}), which a model file cannot "
            "hold; save y as text (str) labels"
        )
    if data.feature_names is not None and len(data.feature_names) == data.X.shape[1]:
        model.feature_names_in_ = list(data.feature_names)  # in every checkpoint too
    start = time.perf_counter()
    model.fit(data.X, y, **options)
    seconds = time.perf_counter() - start
    if model.history.interrupted:
        return _interrupted_training(args)
    path = model.save(args.out)
    if path is None:  # another rank of a distributed fit: rank 0 reports and saves
        return 0
    held = model.validation_rows_
    if held is None:
        rows = [("samples", str(len(data.X))), ("epochs", str(model.history.epochs))]
        rows += [(key, f"{value:.6g}") for key, value in model.evaluate(data.X, y).items()]
    else:  # the final weights, scored separately on the training and held-out rows
        trained = np.ones(len(data.X), dtype=bool)
        trained[held] = False
        rows = [
            ("samples", str(len(data.X))),
            ("train_samples", str(int(trained.sum()))),
            ("val_samples", str(len(held))),
            ("epochs", str(model.history.epochs)),
        ]
        for prefix, mask in (("train_", trained), ("val_", ~trained)):
            # The rows as 0/1 sample weights: each metric is a weighted mean, and a
            # memory-mapped X is then read in blocks rather than copied row by row.
            scores = model.evaluate(data.X, y, sample_weight=mask.astype(np.float64))
            rows += [(prefix + key, f"{value:.6g}") for key, value in scores.items()]
    rows.append(("seconds", f"{seconds:.2f}"))
    report = sys.stderr if _is_stdout(path) else sys.stdout  # the model went to stdout
    with contextlib.redirect_stdout(report):
        _print_table(rows, ("metric", "value"))
        print(f"saved the model to {path}")
        if figure is not None:
            print(f"saved the figure to {_plot_training(model, data, y, figure)}")
    return 0


def _is_stdout(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (``/dev/stdout``, say) names the file or pipe the process's stdout
    writes to."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.__stdout__.fileno()))
    except (OSError, AttributeError, ValueError):  # no stdout, or one with no descriptor
        return False


def _interrupted_training(args: argparse.Namespace) -> int:
    """Exit status 130 when Ctrl-C stopped the fit: a half-trained model must not replace
    what ``--out`` holds, nor let a command chained with ``&&`` go on."""
    message = f"mlpzero train: interrupted; {args.out} was not written"
    if args.checkpoint is not None and os.path.exists(args.checkpoint):
        message += f" (continue from the last checkpoint with --resume {args.checkpoint})"
    print(message, file=sys.stderr)
    return 130


def _model_and_fit_options(mlp: Any, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The model and the ``fit`` keyword arguments the options ask for."""
    from .callbacks import EarlyStopping
    from .losses import get as get_loss
    from .optimizers import get as get_optimizer

    lbfgs = args.optimizer.lower() == "lbfgs"
    if lbfgs:  # named as the command line names them, not as fit does
        flags = {"--lr": args.lr, "--batch-size": args.batch_size,
                 "--checkpoint": args.checkpoint, "--resume": args.resume}  # fmt: skip
        given = [f"{flag} {value}" for flag, value in flags.items() if value is not None]
        if given:
            raise CommandError(
                f"--optimizer lbfgs trains on the full batch with its own step sizes: "
                f"{', '.join(given)} {'do' if len(given) > 1 else 'does'} not apply; leave "
                "it out, or pick a stochastic optimizer such as adam"
            )
    else:
        try:  # an unknown name fails before the data is loaded
            get_optimizer(args.optimizer)
        except ValueError as error:
            raise CommandError(f"--optimizer: {error}, or lbfgs") from None
    loss = args.loss
    if loss.lower() == "auto":  # case-insensitive, as every name of a loss
        loss = "auto"
    else:
        try:  # an unknown name fails naming auto too
            get_loss(loss)
        except ValueError as error:
            raise CommandError(f"--loss: {error}, or auto") from None
    settings: dict[str, Any] = {
        "hidden": tuple(args.hidden),
        "activation": args.activation,
        "loss": loss,
        "seed": args.seed,
        "dtype": args.dtype,
    }
    if args.dropout is not None:
        settings["dropout"] = args.dropout
    if args.standardize:
        settings["standardize"] = True
    options: dict[str, Any] = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": "lbfgs" if lbfgs else args.optimizer,
        "checkpoint": args.checkpoint,
        "resume": args.resume,
    }
    if args.checkpoint_interval is not None:
        if args.checkpoint is None:
            raise CommandError(
                f"--checkpoint-interval {args.checkpoint_interval:g} applies with --checkpoint only"
            )
        options["checkpoint_interval"] = args.checkpoint_interval
    if getattr(args, "distributed", False):
        options["distributed"] = True
    if args.lr is not None:
        options["learning_rate"] = args.lr
    if args.l2 is not None:
        options["l2"] = args.l2
    if args.validation_split is not None:
        options["validation_split"] = args.validation_split
    if args.early_stopping is not None:
        options["callbacks"] = [
            EarlyStopping(patience=args.early_stopping, restore_best_weights=True)
        ]
    if not args.quiet:
        options["verbose"] = 1
        options["print_every"] = max(1, args.epochs // 10)
    return mlp(**settings), options


def _figure_path(path: str, flag: str) -> str:
    """The file a figure saved to ``path`` goes to, checked before any work: matplotlib
    adds its default extension (``.png``) to a path without one, and fails on one it
    cannot write. Compare this path, not ``path``, with the other files of the command."""
    from matplotlib import rcParams
    from matplotlib.backend_bases import FigureCanvasBase

    _refuse_empty(path, flag)
    if not os.path.basename(path).strip("."):  # out/ would be out/.png, saved as .png.png
        raise CommandError(f"{flag} {path} is a folder; give the path of a file")
    extension = os.path.splitext(path)[1][1:]
    if not extension:
        extension = rcParams["savefig.format"]
        path = f"{path.rstrip('.')}.{extension}"
    formats = FigureCanvasBase.get_supported_filetypes()
    if extension.lower() not in formats:
        raise CommandError(
            f"{flag} {path}: cannot write a figure as {extension!r}; the extension must be "
            f"one of {', '.join(sorted(formats))}"
        )
    _check_folder(path, flag)
    return path


def _check_folder(path: str | None, flag: str) -> None:
    """Fail before training, not after, when an output is a folder (``out/`` too, which
    would otherwise become a file ``out``) or its folder does not exist."""
    if path is None:
        return
    _refuse_empty(path, flag)
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise CommandError(f"{flag} {path} is a folder; give the path of a file")
    # A symbolic link is written through: the folder that must exist is its target's.
    folder = Path(os.path.realpath(path) if os.path.islink(path) else path).parent
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{flag} {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise CommandError(f"{flag} {path}: folder {folder} does not exist")


def _refuse_empty(path: str, flag: str, wanted: str = "the path of a file") -> None:
    """An empty path (an unset shell variable) names nothing: it would be the current
    folder, or for ``predict --output`` stdout, as if no path had been given."""
    if path == "":
        raise CommandError(f"{flag} '' is empty; give {wanted}")


def _evaluate(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    data = _data(model=model, args=args, split="test")
    y = _require_targets(data, args.data)
    rows = [("samples", str(len(data.X)))]
    rows += [(key, f"{value:.6g}") for key, value in model.evaluate(data.X, y).items()]
    _print_table(rows, ("metric", "value"))
    return 0


def _predict(args: argparse.Namespace) -> int:
    if args.output == "-":
        args.output = None
    _check_folder(args.output, "--output")
    refuse_overwriting({"--output": args.output}, [args.model, _data_path(args.data)])
    _refuse_array_file(args.output, "--output")
    model = _load_model(args.model)
    if args.proba and model.task == "regression":  # before the data, the long part
        raise CommandError("--proba needs a classifier; this model does regression")
    data = _data(model=model, args=args, split="test", features_only=True)
    if args.proba:
        values = model.predict_proba(data.X)  # a column per class (one if training saw one)
        header = [f"p({c})" for c in model.classes_]
    else:
        values = model.predict(data.X)
        values = values.reshape(len(values), -1)
        header = (
            ["prediction"]
            if values.shape[1] == 1
            else [f"prediction_{i}" for i in range(values.shape[1])]
        )
    # Probabilities and regression outputs at the digits that round-trip the model's
    # dtype; labels as they are (a float label at 9 digits would be another number).
    labels = not args.proba and model.task != "regression"
    digits = None if labels else 9 if model.dtype == np.float32 else 17
    if args.output:

        def write(handle: Any) -> None:  # a whole file replaces an earlier one, never half
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            _write_csv(text, header, values, digits)
            text.flush()
            text.detach()

        replace_atomically(args.output, write)
    else:
        _write_csv(sys.stdout, header, values, digits)
    return 0


#: How a zip archive (a model file, an .npz) and a .npy array file begin.
_ARRAY_MAGICS = (b"PK\x03\x04", b"\x93NUMPY")


def _refuse_array_file(path: str | None, flag: str) -> None:
    """Refuse a text output ``path`` that holds a model file or NumPy arrays (``.npz``,
    ``.npy``): whatever it is, writing text over it would destroy it."""
    if path is None or not os.path.isfile(path):
        return
    with open(path, "rb") as handle:
        start = handle.read(6)
    if start.startswith(_ARRAY_MAGICS):
        raise CommandError(
            f"{flag} {path} holds a model file or NumPy arrays; refusing to write CSV over "
            "it: give another path"
        )


def _write_csv(handle: TextIO, header: list[str], values: np.ndarray, digits: int | None) -> None:
    """``values`` as CSV rows; floats at ``digits`` significant digits (None: exactly)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    floats = values.dtype.kind == "f" and digits is not None
    for row in values:
        writer.writerow([f"{v:.{digits}g}" if floats else v for v in row.tolist()])


def _convert(args: argparse.Namespace) -> int:
    from .datasets import convert_csv

    _refuse_empty(args.csv, "CSV", "the path of a CSV file")
    _refuse_empty(args.dir, "DIR", "the path of a folder")
    refuse_overwriting({"DIR": args.dir}, [args.csv])
    target: str | int = -1 if args.target is None else args.target
    progress = False if args.quiet else None
    with _output_not_needed():  # the product is the folder: the bar's reader may go
        folder = convert_csv(
            args.csv, args.dir, target=target, dtype=args.dtype, delimiter=args.delimiter,
            progress=progress,
        )  # fmt: skip
    X, y = (np.load(folder / name, mmap_mode="r") for name in ("X.npy", "y.npy"))  # headers
    print(
        f"wrote {X.shape[0]} rows, {X.shape[1]} features ({X.dtype}) and y ({y.dtype}) to {folder}"
    )
    return 0


def _summary(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    print(model.summary())
    details = [("task", model.task), ("loss", model.loss_.name)]
    if model.classes_ is not None and model.task != "multilabel":
        details.append(("classes", _names_list(model.classes_.tolist())))
    if model.feature_names_in_:
        details.append(("features", _names_list(model.feature_names_in_)))
    details.append(("epochs trained", str(model.history.epochs)))
    width = max(len(key) for key, _ in details)
    for key, value in details:
        print(f"{key.ljust(width)}  {value}")
    return 0


def _names_list(names: list[Any]) -> str:
    """``names`` for one line of the terminal: as they are, or each quoted (escapes shown
    as such) when one holds a line break or another character that is not printable, or
    would not read as one name in the list: empty, or holding the comma that joins them."""
    from .validation import brief_list

    quoted = any(not str(n).isprintable() or not str(n) or "," in str(n) for n in names)
    return brief_list(names, quoted=quoted)


def _plot_activations(args: argparse.Namespace) -> int:
    from .plotting import plot_activations

    path = _figure_path(args.out, "--out")
    plot_activations(path, activations=args.names)
    print(f"saved the figure to {path}")
    return 0


def _plot_boundary(args: argparse.Namespace) -> int:
    from .plotting import plot_decision_boundary

    path = _figure_path(args.out, "--out")
    refuse_overwriting({"--out": path}, [args.model, _data_path(args.data)])
    model = _load_model(args.model)
    data = _data(model=model, args=args, split="train")
    y = _require_targets(data, args.data)
    if data.X.shape[1] != 2:
        raise CommandError(
            f"a decision boundary needs 2-D data; {args.data} has {data.X.shape[1]} features"
        )
    plot_decision_boundary(model, data.X, y, path=path)
    print(f"saved the figure to {path}")
    return 0


def _plot_history(args: argparse.Namespace) -> int:
    from .plotting import plot_loss_curve

    path = _figure_path(args.out, "--out")
    refuse_overwriting({"--out": path}, [args.model])
    model = _load_model(args.model)
    if model.history.epochs == 0:
        raise CommandError(f"{args.model} has no training history to plot")
    plot_loss_curve(model.history, path=path)
    print(f"saved the figure to {path}")
    return 0


def _plot_training(model: Any, data: Dataset, y: np.ndarray, path: str) -> str:
    from .plotting import plot_decision_boundary, plot_loss_curve

    if data.X.shape[1] == 2 and model.task in ("binary", "multiclass"):
        plot_decision_boundary(model, data.X, y, path=path)
    else:
        plot_loss_curve(model.history, path=path)
    return path


def _print_table(rows: Sequence[tuple[str, str]], header: tuple[str, str]) -> None:
    width = max(len(r[0]) for r in [header, *rows])
    value_width = max(len(r[1]) for r in [header, *rows])
    print(f"{header[0].ljust(width)}  {header[1].rjust(value_width)}")
    print("-" * (width + 2 + value_width))
    for key, value in rows:
        print(f"{key.ljust(width)}  {value.rjust(value_width)}")
