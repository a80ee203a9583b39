"""One playground run: its data, its :class:`~mlpzero.MLP`, the frames the page draws.

A :class:`Session` is configured from :class:`~mlpzero.playground.settings.Settings`,
trains with ``MLP.fit`` a few epochs at a time and describes the model as a *frame*: a
JSON-ready dict with the output over the whole view, a thumbnail per neuron, the weights
and the metrics (training and test loss, gradient norm per layer, share of dead ReLUs).

Any change of a training setting starts the run again from epoch 0, so a run is a
function of its settings and its epoch count alone: the same link replays the same run,
and :meth:`Session.export_code` writes a script that trains the very same model.

Grids go to the page as base64 strings of bytes, one byte per cell: ``0`` stands for
``-1`` and ``255`` for ``+1`` (values beyond are clipped).
"""

from __future__ import annotations

import base64
import math
import numbers
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import optimizers as _optimizers
from ..diagnostics import dead_relu_share, gradient_norms
from ..model import MLP
from ..training import TrainingDivergedError
from ..validation import check_features
from . import data as _data
from .settings import LIMITS, Settings, SettingsError

__all__ = ["OUTPUT_GRID", "THUMBNAIL_GRID", "Session"]

#: Cells per side of the output heatmap and of each neuron's thumbnail.
OUTPUT_GRID = 64
THUMBNAIL_GRID = 24

_ACTIVATION_NAMES = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "identity"}


def encode_grid(values: np.ndarray) -> str:
    """``values`` in ``[-1, 1]`` (clipped) as base64 bytes, ``-1 -> 0`` and ``1 -> 255``."""
    scaled = (np.clip(values, -1.0, 1.0) + 1.0) * 127.5
    return base64.b64encode(np.rint(scaled).astype(np.uint8).tobytes()).decode("ascii")


class Session:
    """A run of the playground: configure, step, frame, export.

    All methods hold the session's lock, so the server may call them from worker threads.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.settings = Settings()
        self._data_key: tuple[Any, ...] | None = None
        self.configure(settings or Settings())

    # ------------------------------------------------------------------ set-up
    def configure(self, settings: Settings) -> bool:
        """Apply ``settings``. Returns True when the run restarted (a training setting
        changed); a change of view settings alone keeps the run going."""
        if not isinstance(settings, Settings):
            raise TypeError(
                "settings must be a Settings (parse_settings(...) makes one from a dict), "
                f"got {type(settings).__name__}"
            )
        with self.lock:
            view_only = self._data_key is not None and _training_part(settings) == _training_part(
                self.settings
            )
            if view_only:
                self.settings = settings
                return False
            previous = dict(self.__dict__)
            try:
                self.settings = settings
                if settings.data_key() != self._data_key:
                    self._make_data()
                self.reset()
            except Exception as error:  # keep the run that was there
                self.__dict__.update(previous)
                if isinstance(error, SettingsError):
                    raise
                raise SettingsError(
                    "settings", f"cannot train with these settings: {error}"
                ) from None
            return True

    def _make_data(self) -> None:
        s = self.settings
        X, y = _data.make_dataset(s.dataset, s.samples, s.noise, s.seed)
        self.points_train, self.y_train, self.points_test, self.y_test = _data.split(X, y, s.ratio)
        self._data_key = s.data_key()

    def reset(self) -> None:
        """Start the run again: fresh weights from the seed, epoch 0."""
        with self.lock:
            s = self.settings
            self.X_train = _data.features(self.points_train, s.features)
            self.X_test = _data.features(self.points_test, s.features)
            self.model = MLP(**_model_options(s))
            self.optimizer = _make_optimizer(s)
            # Build the network now (the first fit would build the same one) so that
            # epoch 0 can be drawn before any training.
            self.model.build(self.X_train, self.y_train, classes=_fit_options(s).get("classes"))
            self.epoch = 0
            self.diverged: str | None = None
            self.train_seconds = 0.0

    # ------------------------------------------------------------------ training
    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` more epochs with ``MLP.fit``."""
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
            raise SettingsError("epochs", f"expected an integer, got {epochs!r}")
        epochs = int(epochs)
        if not 1 <= epochs <= LIMITS["max_epochs_per_step"]:
            raise SettingsError(
                "epochs",
                f"expected an integer from 1 to {LIMITS['max_epochs_per_step']}, got {epochs}",
            )
        with self.lock:
            if self.diverged:
                raise SettingsError("epochs", self.diverged)
            if self.epoch + epochs > LIMITS["max_epochs"]:
                raise SettingsError(
                    "epochs",
                    f"a run trains at most {LIMITS['max_epochs']} epochs and this one has "
                    f"{self.epoch}: reset to train again",
                )
            s = self.settings
            updates = epochs * -(-len(self.y_train) // min(s.batch, len(self.y_train)))
            if updates > LIMITS["max_updates_per_step"]:
                raise SettingsError(
                    "epochs",
                    f"{epochs} epochs of {len(self.y_train)} points in batches of {s.batch} "
                    f"are {updates} updates, more than {LIMITS['max_updates_per_step']} in "
                    "one request: ask for fewer epochs",
                )
            started = time.perf_counter()
            try:
                self.model.fit(
                    self.X_train,
                    self.y_train,
                    epochs=epochs,
                    learning_rate=s.lr,
                    batch_size=s.batch,
                    optimizer=self.optimizer,
                    **_fit_options(s),
                )
            except TrainingDivergedError as error:
                what = str(error).split(". ")[0]  # "training diverged in epoch 3: the loss ..."
                self.diverged = f"{what}: lower the learning rate, then reset"
            finally:
                self.train_seconds += time.perf_counter() - started
                self.epoch = self.model.history.epochs

    # ------------------------------------------------------------------ frames
    def frame(self, *, include_data: bool = False) -> dict[str, Any]:
        """The model as the page draws it (see the module docstring for the grids)."""
        with self.lock:
            started = time.perf_counter()
            network = self.model.network
            out: dict[str, Any] = {
                "type": "frame",
                "epoch": self.epoch,
                "diverged": self.diverged,
                "settings": self.settings.as_dict(),
                "train_loss": self._loss(self.X_train, self.y_train),
                "test_loss": self._loss(self.X_test, self.y_test) if len(self.y_test) else None,
            }
            if not (math.isfinite(out["train_loss"]) and np.isfinite(network.params).all()):
                self.diverged = out["diverged"] = (
                    "training diverged (the loss or the weights are no longer finite numbers); "
                    "lower the learning rate, then reset"
                )
            out["output"] = encode_grid(self._output_values(_data.grid(OUTPUT_GRID)))
            out["output_size"] = OUTPUT_GRID
            out["neurons"] = self._thumbnails()
            out["weights"] = [np.round(w, 4).tolist() for w in network.weights]
            out["biases"] = [np.round(b, 4).tolist() for b in network.biases]
            out.update(self._diagnostics())
            if include_data:
                out["data"] = {
                    "train": _points(self.points_train, self.y_train),
                    "test": _points(self.points_test, self.y_test),
                }
                out["feature_maps"] = _feature_maps()
            out["frame_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return out

    # The frame reads the network and the loss directly rather than through
    # MLP.predict_proba and MLP.evaluate: the values are the same, and a run that
    # diverged still gets drawn (the MLP methods refuse to predict from overflowing
    # outputs, rightly for a user's model, but the page should show what happened).
    def _logits(self, X: np.ndarray) -> np.ndarray:
        network = self.model.network
        return network.predict_logits(check_features(X, dtype=network.dtype))

    def _loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The model's loss (without penalties) on ``X``, ``y``."""
        Y = self.model.encoder.encode(y, dtype=self.model.network.dtype)
        return self.model.loss_.value(self._logits(X), Y)

    def _output_values(self, points: np.ndarray) -> np.ndarray:
        """The model's output on ``points`` mapped to ``[-1, 1]``: ``2p - 1`` for the
        probability of class 1, the prediction itself for regression."""
        logits = self._logits(_data.features(points, self.settings.features))
        outputs = self.model.loss_.link(logits, out=logits)[:, 0].astype(np.float64)
        return 2.0 * outputs - 1.0 if self.settings.problem == "classification" else outputs

    def _thumbnails(self) -> list[list[str]]:
        """One encoded grid per neuron, layer by layer: the input features (scaled by
        their largest value on the view), each hidden layer, and the output."""
        network = self.model.network
        points = _data.grid(THUMBNAIL_GRID)
        X = check_features(_data.features(points, self.settings.features), dtype=network.dtype)
        network.forward(X)
        layers = []
        for index, A in enumerate(network.cache()["A"]):
            A = np.array(A, dtype=np.float64)
            if index == 0:
                A /= np.maximum(np.abs(A).max(axis=0), 1e-12)
            layers.append([encode_grid(A[:, j]) for j in range(A.shape[1])])
        layers.append([encode_grid(self._output_values(points))])
        return layers

    def _diagnostics(self) -> dict[str, Any]:
        """Gradient norm of each layer's weights on the whole training set, and the share
        of ReLU units that output zero for every training point (:mod:`mlpzero.diagnostics`)."""
        model, network = self.model, self.model.network
        X = check_features(self.X_train, dtype=network.dtype)
        Y = model.encoder.encode(self.y_train, dtype=network.dtype)
        logits = network.forward(X)
        dead = dead_relu_share(network)
        dlogits = model.loss_.gradient(logits, Y, None, out=network.output_delta())
        network.backward(dlogits)
        return {"grad_norms": gradient_norms(network), "dead_relu": dead}

    # ------------------------------------------------------------------ export
    def export_model(self) -> tuple[bytes, str]:
        """The trained model as an mlpzero model file: ``(content, file name)``."""
        with self.lock:
            _require_training(self)
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / "mlpzero-playground.npz"
                path = Path(self.model.save(target) or target)
                return path.read_bytes(), path.name

    def export_code(self) -> str:
        """A Python script that trains the same model with mlpzero (same data, same
        settings, same seed, same number of epochs) and prints its metrics."""
        with self.lock:
            _require_training(self)
            return _script(self.settings, self.epoch)


def _require_training(session: Session) -> None:
    if session.diverged:
        raise SettingsError("epochs", "training diverged: reset (or change a setting) first")
    if session.epoch < 1:
        raise SettingsError("epochs", "train at least one epoch before exporting")


def _training_part(settings: Settings) -> dict[str, Any]:
    view = {"show_test", "discretize"}
    return {k: v for k, v in settings.as_dict().items() if k not in view}


def _make_optimizer(settings: Settings) -> _optimizers.Optimizer:
    name, options = _optimizer_spec(settings)
    return _optimizers.get(name, **options)


def _optimizer_spec(settings: Settings) -> tuple[str, dict[str, Any]]:
    if settings.optimizer == "momentum":
        return "sgd", {"learning_rate": settings.lr, "momentum": 0.9}
    return settings.optimizer, {"learning_rate": settings.lr}


def _model_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``MLP(...)`` for these settings."""
    options: dict[str, Any] = {
        "hidden": tuple(settings.hidden),
        "activation": _ACTIVATION_NAMES[settings.activation],
        "loss": "auto" if settings.problem == "classification" else "squared_error",
        "init": None if settings.init == "auto" else settings.init,
        "seed": settings.seed,
    }
    if settings.dropout > 0:
        options["dropout"] = settings.dropout
    return options


def _fit_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``MLP.fit`` besides the rate, batch size and optimizer: the
    classes ``0`` and ``1`` of a classification, and regularisation (``l1=`` or ``l2=``).

    The classes are named because a small training set may hold only one of them (20
    samples with 10% for training are two points): the model is then still a two-class
    one, and the test points of the other class still have a loss.
    """
    options: dict[str, Any] = {}
    if settings.problem == "classification":
        options["classes"] = [0, 1]
    if settings.reg != "none" and settings.reg_rate > 0:
        options[settings.reg] = settings.reg_rate
    return options


def _feature_maps() -> dict[str, str]:
    """Every input feature over the thumbnail grid, scaled by its largest value there:
    the page shows them on the input nodes, chosen or not."""
    points = _data.grid(THUMBNAIL_GRID)
    maps = {}
    for name in _data.FEATURES:
        values = _data.features(points, [name])[:, 0]
        maps[name] = encode_grid(values / np.abs(values).max())
    return maps


def _points(points: np.ndarray, y: np.ndarray) -> list[list[float]]:
    return np.round(np.column_stack([points, y]), 3).tolist()


def _script(s: Settings, epochs: int) -> str:
    # One fit call for all the epochs the page trained in many: fit(a) then fit(b)
    # trains exactly as fit(a + b) (the tests check this, bit for bit).
    name, options = _optimizer_spec(s)
    optimizer_args = ", ".join(f"{k}={v!r}" for k, v in options.items())
    fit_extra = "".join(f"    {k}={v!r},\n" for k, v in _fit_options(s).items())
    model_args = "".join(f"    {k}={v!r},\n" for k, v in _model_options(s).items())
    return f'''"""Train the model of an mlpzero playground run, exactly as the page did.

Dataset {s.dataset!r} ({s.samples} points, noise {s.noise}%, {s.ratio}% for training),
features {", ".join(s.features)}, hidden layers {list(s.hidden)}, {epochs} epochs.
"""

from mlpzero import MLP, optimizers
from mlpzero.playground.data import features, make_dataset, split

points, y = make_dataset({s.dataset!r}, n_samples={s.samples}, noise={s.noise}, seed={s.seed})
points_train, y_train, points_test, y_test = split(points, y, train_percent={s.ratio})
names = {list(s.features)!r}
X_train, X_test = features(points_train, names), features(points_test, names)

model = MLP(
{model_args})
optimizer = optimizers.get({name!r}, {optimizer_args})
model.fit(
    X_train,
    y_train,
    epochs={epochs},
    learning_rate={s.lr!r},
    batch_size={s.batch},
    optimizer=optimizer,
{fit_extra})

if __name__ == "__main__":
    print(model.summary())
    print("train:", model.evaluate(X_train, y_train))
    if len(y_test):
        print("test:", model.evaluate(X_test, y_test))
'''
