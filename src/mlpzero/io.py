"""A minimal model file: the flat parameters and a JSON description in one ``.npz``.

Stand-in until the full model-file module lands: :func:`save_model` writes ``params`` (the
flat parameter vector, in the model's dtype) and ``config`` (a JSON string: architecture,
loss, task, classes, dropout); :func:`load_model` reads them back with
``allow_pickle=False`` and rebuilds an :class:`~mlpzero.model.MLP` that predicts exactly
as the saved one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

__all__ = ["load_model", "save_model"]

_FORMAT = "mlpzero-minimal-1"


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted ``model`` to ``path`` (exactly that name; no suffix is added)."""
    network = model._require_built()
    encoder = model.encoder
    config = {
        "format": _FORMAT,
        "hidden": list(model.hidden),
        "activations": [a.config for a in network.activations],
        "layer_sizes": network.layer_sizes,
        "init": network.init_names(),
        "loss": model.loss_.name,
        "seed": model.seed,
        "dtype": network.dtype.name,
        "dropout": list(model.dropout),
        "encoder": encoder.config(),
    }
    with open(path, "wb") as handle:
        np.savez(handle, params=network.params, config=np.array(json.dumps(config)))


def load_model(path: str | os.PathLike[str]) -> Any:
    """Read a model written by :func:`save_model`."""
    from . import losses
    from .model import MLP
    from .network import Network
    from .targets import TargetEncoder

    with np.load(path, allow_pickle=False) as archive:
        params = archive["params"]
        config = json.loads(str(archive["config"]))
    if config.get("format") != _FORMAT:
        raise ValueError(f"{os.fspath(path)} is not an mlpzero model file")
    model = MLP(
        hidden=config["hidden"],
        activation=config["activations"],
        loss=config["loss"],
        seed=config["seed"],
        dtype=config["dtype"],
        dropout=config["dropout"],
    )
    coded = config["encoder"]
    encoder = TargetEncoder(coded["task"], coded["classes"])
    encoder.n_outputs_ = coded["n_outputs"]
    network = Network(
        config["layer_sizes"], config["activations"], init=None, dtype=config["dtype"], rng=0
    )
    if params.shape != network.params.shape:
        raise ValueError(
            f"{os.fspath(path)}: {params.size} parameters do not fit layer sizes "
            f"{config['layer_sizes']}"
        )
    network.params[...] = params
    model.network, model.encoder = network, encoder
    model.loss_ = losses.get(config["loss"])
    return model
