"""What every demo step shares: the :class:`Context` it runs in and the demo's seeds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..model import MLP

__all__ = ["DATA_SEED", "MODEL_SEED", "Context", "layers"]

#: Seed of every model in the demo (initial weights).
MODEL_SEED = 0
#: Seed of every generated dataset.
DATA_SEED = 42


@dataclass
class Context:
    """What a step needs: where figures go, and how to scale the epochs."""

    out: Path
    epoch_scale: float = 1.0

    def epochs(self, article_epochs: int) -> int:
        """The article's epoch count, scaled (for quick runs), at least 1."""
        return max(1, round(article_epochs * self.epoch_scale))

    def figure(self, name: str) -> Path:
        return self.out / f"{name}.png"


def layers(model: MLP) -> str:
    """The layer sizes of ``model`` as the table shows them, e.g. ``"2-4-3-1"``."""
    return "-".join(str(n) for n in model.network.layer_sizes)
