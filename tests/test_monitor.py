"""Monitor: the one 'best value so far' rule of early stopping, checkpoints and plateaus."""

import math

import numpy as np
import pytest

from mlpzero import schedules
from mlpzero.callbacks import EarlyStopping, ModelCheckpoint
from mlpzero.monitor import Monitor, monitored_key


def run(monitor, values, key="loss"):
    return [monitor.improved(epoch, {key: value}) for epoch, value in enumerate(values)]


def test_minimises_losses_by_more_than_min_delta():
    monitor = Monitor(None, min_delta=0.1, mode="auto")
    assert run(monitor, [1.0, 0.95, 0.89, 0.9, 0.7]) == [True, False, True, False, True]
    assert (monitor.best, monitor.best_epoch) == (0.7, 4)


def test_maximises_accuracies_in_auto_mode_and_obeys_an_explicit_mode():
    auto = Monitor("val_accuracy", 0.0, "auto")
    assert run(auto, [0.5, 0.6, 0.6, 0.55], "val_accuracy") == [True, True, False, False]
    assert auto.best == 0.6 and auto.best_epoch == 1
    as_max = Monitor("loss", 0.0, "max")
    assert run(as_max, [1.0, 2.0, 1.5]) == [True, True, False]
    as_min = Monitor("accuracy", 0.0, "min")
    assert run(as_min, [0.5, 0.4, 0.6], "accuracy") == [True, True, False]


def test_non_finite_values_never_improve_nor_become_the_best():
    monitor = Monitor(None, 0.0, "min")
    assert run(monitor, [math.nan, math.inf, 2.0, -math.inf, 1.0]) == [
        False, False, True, False, True,
    ]  # fmt: skip
    assert (monitor.best, monitor.best_epoch) == (1.0, 4)


def test_a_loaded_best_must_be_finite_as_a_recorded_one_is():
    """An infinite best (from a damaged checkpoint) was taken: in the direction it bounds,
    no value beats it, so a resumed EarlyStopping counted every epoch as stalled and
    stopped with the initial weights. No epoch can record one, so none is loaded."""
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="best must be a finite number"):
            Monitor("val_accuracy", 0.0, "auto").load_best(value, 3)
    stopper = EarlyStopping(monitor="val_accuracy", patience=2)
    state = {**stopper.state_dict(), "best": math.inf, "best_epoch": 0}
    with pytest.raises(ValueError, match="best must be a finite number or None, got inf"):
        stopper.load_state_dict(state)
    monitor = Monitor("loss", 0.0, "min")
    monitor.load_best(np.float32(0.25), 1)
    assert (monitor.best, monitor.best_epoch) == (0.25, 1)


def test_reset_forgets_the_best():
    monitor = Monitor(None, 0.0, "auto")
    run(monitor, [1.0, 0.5])
    monitor.reset()
    assert monitor.best is None and monitor.best_epoch is None
    assert monitor.improved(7, {"loss": 3.0}) and monitor.best_epoch == 7


def test_monitored_key_prefers_val_loss_and_names_a_missing_metric():
    assert monitored_key(None, {"loss": 1.0}) == "loss"
    assert monitored_key(None, {"loss": 1.0, "val_loss": 2.0}) == "val_loss"
    with pytest.raises(ValueError, match=r"'val_auc' is not among .*pass validation_split"):
        monitored_key("val_auc", {"loss": 1.0})
    assert schedules.monitored_key is monitored_key  # still importable where it was


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((3, 0.0, "auto"), TypeError, "monitor must be a metric name or None, got 3"),
        (("loss", 0.0, "best"), ValueError, "mode must be 'auto', 'min' or 'max', got 'best'"),
        (("loss", -0.1, "min"), ValueError, "min_delta must be a finite number >= 0"),
    ],
)
def test_refuses_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        Monitor(*arguments)


def test_early_stopping_checkpoints_and_plateaus_share_the_rule():
    values = [1.0, 0.99, 0.95, 0.97, 0.5]
    logs = [{"loss": v} for v in values]
    reference = Monitor(None, 0.02, "auto")
    expected = [reference.improved(e, log) for e, log in enumerate(logs)]
    stopping = EarlyStopping(min_delta=0.02, patience=100)
    stopping.on_train_begin()
    plateau = schedules.ReduceLROnPlateau(min_delta=0.02, patience=100)
    assert expected == [True, False, True, False, True]
    wait = 0
    for epoch, log in enumerate(logs):
        stopping.on_epoch_end(epoch, log)
        plateau.update(epoch, log)
        wait = 0 if expected[epoch] else wait + 1
        assert stopping.wait == plateau.wait == wait
    assert (stopping.best, stopping.best_epoch) == (reference.best, reference.best_epoch)
    assert plateau.best == reference.best
    assert isinstance(ModelCheckpoint("m.npz")._monitor, Monitor)


def test_plateau_state_dict_keeps_its_format():
    plateau = schedules.ReduceLROnPlateau(patience=0)
    for epoch, value in enumerate([1.0, 1.0, 0.5]):
        plateau.update(epoch, {"loss": np.float64(value)})
    assert plateau.state_dict() == {
        "config": plateau.config,
        "state": {"reductions": 1, "best": 0.5, "wait": 0, "cooldown_left": 0},
    }
    restored = schedules.ReduceLROnPlateau(patience=0)
    restored.load_state_dict(plateau.state_dict())
    assert restored.best == 0.5
    assert not restored._monitor.improved(3, {"loss": 0.5})  # the best carried over


def test_the_default_monitor_names_what_the_logs_lack():
    """Logs without ``loss`` (an epoch's logs made by hand, say ``{"accuracy": 0.9}``)
    under ``monitor=None`` failed with a bare ``KeyError: 'loss'``."""
    with pytest.raises(
        ValueError, match=r"monitor=None watches 'val_loss' or 'loss'.*\['accuracy'\]"
    ):
        monitored_key(None, {"accuracy": 0.9})
    with pytest.raises(ValueError, match="monitor=None"):
        EarlyStopping().on_epoch_end(0, {"accuracy": 0.9})
