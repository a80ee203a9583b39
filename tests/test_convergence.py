"""ToleranceStopping: scikit-learn's tol / n_iter_no_change / adaptive-rate rule."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.convergence import ToleranceStopping
from mlpzero.datasets import make_circles


def _run(rule, values, key="loss", lr=1.0):
    """Feed ``values`` one epoch at a time; return the epoch that stopped (or None)."""
    model = SimpleNamespace(stop_training=False, optimizer_=SimpleNamespace(learning_rate=lr))
    rule.set_model(model)
    rule.on_train_begin()
    for epoch, value in enumerate(values):
        rule.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            return epoch, model
    return None, model


def test_stops_once_the_count_exceeds_patience():
    # gains of 0.5 are progress, gains of 0.05 are not (tol 0.1): epochs 3, 4, 5 count
    values = [10.0, 9.5, 9.0, 8.95, 8.9, 8.85, 8.8]
    stopped, _ = _run(ToleranceStopping(tol=0.1, patience=2), values)
    assert stopped == 5


def test_best_follows_every_improvement_even_below_tol():
    # 0.06 + 0.06 beat the first value by more than tol, but each epoch only by 0.06
    rule = ToleranceStopping(tol=0.1, patience=1)
    stopped, _ = _run(rule, [1.0, 0.94, 0.88, 0.5])
    assert stopped == 2 and rule.best == pytest.approx(0.88)


def test_maximises_scores_and_never_stops_with_infinite_patience():
    rule = ToleranceStopping(monitor="validation_score", tol=0.01, patience=math.inf, mode="max")
    stopped, _ = _run(rule, [0.5] * 50, key="validation_score")
    assert stopped is None and rule.wait == 49 and rule.best == 0.5


def test_reduce_divides_the_rate_until_the_floor_then_stops():
    rule = ToleranceStopping(tol=0.1, patience=0, on_plateau="reduce", factor=5.0, min_lr=1e-3)
    stopped, model = _run(rule, [1.0] * 10, lr=0.1)
    # 0.1 -> 0.02 -> 0.004 -> 0.0008 (at most the floor), then the next plateau stops
    assert model.optimizer_.learning_rate == pytest.approx(0.0008)
    assert stopped == 4


@pytest.mark.parametrize("patience", [np.int64(2), np.int32(2), np.float64(2.0)])
def test_numpy_patience_counts_as_the_python_number(patience):
    rule = ToleranceStopping(tol=0.1, patience=patience)
    stopped, _ = _run(rule, [10.0, 9.5, 9.0, 8.95, 8.9, 8.85, 8.8])
    assert stopped == 5 and type(rule.patience) in (int, float)
    json.dumps(rule.state_dict())  # a checkpoint's settings: Python numbers only


@pytest.mark.parametrize("patience", [-1, float("nan"), True, "3"])
def test_patience_that_is_no_count_is_refused(patience):
    with pytest.raises(ValueError, match="patience must be a non-negative number"):
        ToleranceStopping(patience=patience)


def test_non_finite_values_are_never_progress():
    rule = ToleranceStopping(tol=0.0, patience=1)
    stopped, _ = _run(rule, [1.0, float("nan"), float("inf"), 0.5])
    assert stopped == 2 and rule.best == 1.0


def test_state_carries_the_count_into_a_later_fit():
    first = ToleranceStopping(tol=0.1, patience=3)
    _run(first, [1.0, 1.0, 1.0])
    second = ToleranceStopping(tol=0.1, patience=3)
    second.load_state(first.state())
    stopped, _ = _run(second, [1.0, 1.0])
    assert first.wait == 2 and stopped == 1


def test_a_rule_reused_on_another_model_starts_afresh():
    """The count and best value of the first model's fit carried into the second's: the
    second model, its loss compared with the first one's best, stopped after one epoch
    where a new rule let it train five."""
    X, y = make_circles(n_samples=100, noise=0.1, factor=0.5, random_state=0)
    rule = ToleranceStopping(tol=0.01, patience=3)
    MLP(hidden=(4,), seed=0).fit(
        X, y, epochs=200, optimizer="adam", learning_rate=0.05, callbacks=[rule]
    )
    fresh = ToleranceStopping(tol=0.01, patience=3)
    expected = MLP(hidden=(4,), seed=1).fit(X, y, epochs=200, callbacks=[fresh])
    reused = MLP(hidden=(4,), seed=1).fit(X, y, epochs=200, callbacks=[rule])
    assert reused.history.epochs == expected.history.epochs
    assert (rule.best, rule.wait, rule.stopped_epoch) == (
        fresh.best,
        fresh.wait,
        fresh.stopped_epoch,
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="on_plateau"):
        ToleranceStopping(on_plateau="halve")
    with pytest.raises(ValueError, match="patience"):
        ToleranceStopping(patience=-1)


def test_nan_patience_is_refused_rather_than_stopping_at_the_first_epoch():
    # wait <= nan is never true: the rule stopped at epoch 0 of a loss that fell each epoch
    with pytest.raises(ValueError, match=r"patience must be a non-negative number or inf, got nan"):
        ToleranceStopping(patience=float("nan"))


@pytest.mark.parametrize("factor", [0.5, 1.0])
def test_a_factor_that_would_not_lower_the_rate_is_refused(factor):
    # the rate is divided by factor: 0.5 took 0.1 to 51.2 over 9 plateaus, and 1.0 kept it
    # above min_lr forever, so "reduce" never stopped
    with pytest.raises(ValueError, match=rf"factor must be > 1.*got {factor}"):
        ToleranceStopping(on_plateau="reduce", factor=factor)


def test_stops_an_mlp_fit():
    X, y = make_circles(n_samples=100, noise=0.1, factor=0.5, random_state=0)
    rule = ToleranceStopping(tol=1.0, patience=2)  # no epoch gains a whole unit of loss
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=100, callbacks=[rule])
    assert model.history.epochs == 4 and rule.stopped_epoch == 3  # 1 + (patience + 1)
    assert np.isfinite(model.history["loss"]).all()


def test_a_score_is_maximised_by_default_in_both_the_rule_and_its_best():
    from mlpzero.monitor import Monitor

    monitor = Monitor("validation_score", 0.0, "auto")
    assert [monitor.improved(e, {"validation_score": v}) for e, v in enumerate([0.5, 0.9])] == [
        True,
        True,
    ]
    assert monitor.best == 0.9


def test_the_state_dict_survives_json_and_refuses_other_settings():
    """What a checkpoint keeps (through JSON, where inf is not a number) loads into a rule
    of the same settings, and is refused by one of others."""
    from mlpzero.callbacks import SettingsChanged
    from mlpzero.io import jsonable

    rule = ToleranceStopping(tol=0.1, patience=math.inf)
    _run(rule, [1.0, 0.5, 0.45, 0.44])
    saved = json.loads(json.dumps(jsonable(rule.state_dict()), allow_nan=False))
    again = ToleranceStopping(tol=0.1, patience=math.inf)
    again.load_state_dict(saved)
    assert again.state() == {"best": 0.44, "best_epoch": 3, "wait": 2}
    with pytest.raises(SettingsChanged, match=r"ToleranceStopping\(patience=10\) differs"):
        ToleranceStopping(tol=0.1, patience=10).load_state_dict(saved)
    with pytest.raises(ValueError, match="wait must be >= 0"):
        again.load_state_dict({**saved, "wait": -1})


def test_a_first_value_of_another_metric_is_progress_not_compared_with_the_old_best():
    """Under ``monitor=None`` a fit without validation data watches ``loss`` and a later
    one with it ``val_loss``. The best training loss is forgotten then, as in
    ``EarlyStopping``, yet the first validation loss was still compared with it: a
    validation loss above the training loss counted as no progress, and with
    ``patience=0`` stopped the second fit at its first epoch."""
    rule = ToleranceStopping(tol=0.01, patience=0)
    assert _run(rule, [0.5, 0.3, 0.1])[0] is None
    model = SimpleNamespace(stop_training=False, optimizer_=SimpleNamespace(learning_rate=1.0))
    rule.set_model(model)
    rule.on_train_begin()
    rule.on_epoch_end(3, {"loss": 0.09, "val_loss": 0.4})
    assert not model.stop_training and rule.wait == 0 and rule.best == 0.4


def test_reduce_without_a_learning_rate_is_refused_before_training():
    """``on_plateau="reduce"`` with ``optimizer="lbfgs"``, which has no learning rate,
    ran until the first plateau and then failed with "'NoneType' object has no attribute
    'learning_rate'"; it is refused before the first iteration, naming the setting."""
    X, y = make_circles(60, random_state=0)
    model = MLP(hidden=[4], seed=0)
    rule = ToleranceStopping(on_plateau="reduce", patience=0, tol=10.0)
    with pytest.raises(ValueError, match=r"on_plateau='reduce'.*learning rate.*'stop'"):
        model.fit(X, y, optimizer="lbfgs", epochs=5, callbacks=[rule], verbose=0)
    assert not model.history.epochs
    assert not model.built  # refused before the model was built, as other lbfgs refusals
