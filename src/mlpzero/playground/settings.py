"""Every playground setting: its name (as in the page's URL), default, limits and parsing.

The page keeps its settings in the URL query (``?dataset=xor&hidden=4,2&lr=0.03``), sends
them to the server as they are (strings) or as JSON values, and gets back the settings
the server accepted. :func:`parse_settings` is the single gate: it fills defaults,
converts types and rejects anything out of range with a :class:`SettingsError` that names
the setting, the value received and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from .data import CLASSIFICATION, FEATURES, REGRESSION

__all__ = ["LIMITS", "Settings", "SettingsError", "parse_settings"]

#: The bounds the server enforces (and the page shows).
LIMITS: dict[str, Any] = {
    "max_layers": 6,
    "max_neurons": 8,
    "min_samples": 20,
    "max_samples": 2000,
    "min_ratio": 10,
    "max_ratio": 90,
    "max_noise": 50,
    "max_batch": 1000,
    "max_learning_rate": 10.0,
    "max_reg_rate": 10.0,
    "max_dropout": 0.9,
    "max_seed": 2**31 - 1,
    "max_epochs_per_step": 100,
    "max_updates_per_step": 20_000,
    # A run keeps one history entry per epoch and metric (some 80 bytes an epoch): a page
    # left playing would grow it without end.
    "max_epochs": 1_000_000,
    # A page that sends nothing for this long is disconnected, freeing its place.
    "idle_timeout_seconds": 900,
}

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
INITIALIZERS = ("auto", "he_normal", "xavier_normal", "glorot_uniform")
PROBLEMS = ("classification", "regression")


class SettingsError(ValueError):
    """A setting the server refuses; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Settings:
    """One playground configuration. Field names are the URL's query keys."""

    problem: str = "classification"
    dataset: str = "circle"
    noise: int = 0
    ratio: int = 50
    samples: int = 500
    batch: int = 10
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    lr: float = 0.03
    activation: str = "tanh"
    reg: str = "none"
    reg_rate: float = 0.0
    optimizer: str = "sgd"
    dropout: float = 0.0
    init: str = "auto"
    seed: int = 0
    show_test: bool = False
    discretize: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: lists for the tuples."""
        out = asdict(self)
        out["features"] = list(self.features)
        out["hidden"] = list(self.hidden)
        return out

    def data_key(self) -> tuple[Any, ...]:
        """The settings that decide the data: a change of any of them makes new points."""
        return (self.dataset, self.noise, self.ratio, self.samples, self.seed)


_NAMES = [f.name for f in fields(Settings)]


def _choice(name: str, value: Any, allowed: tuple[str, ...] | list[str]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise SettingsError(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value.lower()


def _int(name: str, value: Any, low: int, high: int) -> int:
    # A whole float (JSON's 1e300) is named as received, not as its 301-digit integer.
    shown = repr(value) if isinstance(value, float) else None
    if isinstance(value, bool):
        raise SettingsError(name, f"expected an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise SettingsError(name, f"expected an integer, got {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, numbers.Integral):  # NumPy's integers too
        value = int(value)
    if not isinstance(value, int):
        raise SettingsError(name, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise SettingsError(name, f"expected an integer from {low} to {high}, got {shown or value}")
    return value


def _float(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> float:
    if isinstance(value, bool):
        raise SettingsError(name, f"expected a number, got {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise SettingsError(name, f"expected a number, got {value!r}") from None
    except OverflowError:  # an integer beyond every float (JSON allows any digits)
        number = math.inf if value > 0 else -math.inf
    too_low = number <= low if open_low else number < low
    if not math.isfinite(number) or too_low or number > high:
        bound = f"greater than {low} and at most" if open_low else f"from {low} to"
        raise SettingsError(name, f"expected a number {bound} {high}, got {value!r}")
    return number


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise SettingsError(name, f"expected true or false, got {value!r}")


def _list(name: str, value: Any) -> list[Any]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise SettingsError(name, f"expected a comma-separated list, got {value!r}")


def parse_settings(raw: Mapping[str, Any] | None = None) -> Settings:
    """Validate ``raw`` (URL-style strings or JSON values) into :class:`Settings`.

    Missing keys take their defaults; an unknown key or a bad value raises
    :class:`SettingsError`.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SettingsError("settings", f"expected an object, got {type(raw).__name__}")
    raw = dict(raw)
    # By text: keys of other types (a dict built in Python) do not compare with strings.
    unknown = sorted(set(raw) - set(_NAMES), key=str)
    if unknown:
        raise SettingsError(
            str(unknown[0]), f"unknown setting; known settings are {', '.join(_NAMES)}"
        )
    defaults = Settings()
    get = lambda key: raw.get(key, getattr(defaults, key))  # noqa: E731
    lim = LIMITS

    problem = _choice("problem", get("problem"), PROBLEMS)
    names = list(CLASSIFICATION if problem == "classification" else REGRESSION)
    dataset_raw = raw.get("dataset", names[0] if "problem" in raw else defaults.dataset)
    dataset = _choice("dataset", dataset_raw, names)
    samples = _int("samples", get("samples"), lim["min_samples"], lim["max_samples"])

    hidden_list = _list("hidden", get("hidden"))
    if len(hidden_list) > lim["max_layers"]:
        raise SettingsError(
            "hidden", f"at most {lim['max_layers']} hidden layers, got {len(hidden_list)}"
        )
    hidden = tuple(_int("hidden", h, 1, lim["max_neurons"]) for h in hidden_list)

    feature_list = [str(f).lower() for f in _list("features", get("features"))]
    for name in feature_list:
        _choice("features", name, list(FEATURES))
    if not feature_list:
        raise SettingsError("features", "choose at least one input feature")
    features = tuple(name for name in FEATURES if name in feature_list)

    return Settings(
        problem=problem,
        dataset=dataset,
        noise=_int("noise", get("noise"), 0, lim["max_noise"]),
        ratio=_int("ratio", get("ratio"), lim["min_ratio"], lim["max_ratio"]),
        samples=samples,
        batch=_int("batch", get("batch"), 1, lim["max_batch"]),
        features=features,
        hidden=hidden,
        lr=_float("lr", get("lr"), 0.0, lim["max_learning_rate"], open_low=True),
        activation=_choice("activation", get("activation"), ACTIVATIONS),
        reg=_choice("reg", get("reg"), REGULARIZATIONS),
        reg_rate=_float("reg_rate", get("reg_rate"), 0.0, lim["max_reg_rate"]),
        optimizer=_choice("optimizer", get("optimizer"), OPTIMIZERS),
        dropout=_float("dropout", get("dropout"), 0.0, lim["max_dropout"]),
        init=_choice("init", get("init"), INITIALIZERS),
        seed=_int("seed", get("seed"), 0, lim["max_seed"]),
        show_test=_bool("show_test", get("show_test")),
        discretize=_bool("discretize", get("discretize")),
    )
