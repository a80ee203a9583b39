import math
from functools import partial

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero import schedules as sch


def rates(schedule, epochs, initial=0.1):
    return [schedule.learning_rate(e, initial) for e in epochs]


def test_constant():
    assert rates(sch.get(None), [0, 7, 1000]) == [0.1, 0.1, 0.1]
    assert rates(sch.get("constant"), [3]) == [0.1]


def test_step_decay_halves_every_ten_epochs():
    schedule = sch.StepDecay(step_size=10, gamma=0.5)
    assert rates(schedule, [0, 9, 10, 19, 20, 25]) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rel=1e-15
    )


def test_exponential_decay():
    schedule = sch.ExponentialDecay(gamma=0.9)
    # 0.1 · 0.9^e
    assert rates(schedule, [0, 1, 2, 10]) == pytest.approx(
        [0.1, 0.09, 0.081, 0.0348678440100], rel=1e-10
    )


def test_cosine_without_warmup():
    schedule = sch.CosineDecay(total_epochs=10)
    # half-way (e = 5) is the mean of the two ends; e = 2 gives 0.1 (1 + cos 0.2π) / 2
    assert rates(schedule, [0, 2, 5, 10, 30]) == pytest.approx(
        [0.1, 0.0904508497187, 0.05, 0.0, 0.0], rel=1e-10, abs=1e-15
    )


def test_cosine_with_warmup_and_floor():
    schedule = sch.CosineDecay(total_epochs=14, min_lr=0.01, warmup_epochs=4)
    # warm-up 0.1·(e+1)/4, then 0.01 + 0.09 (1 + cos π(e-4)/10) / 2
    assert rates(schedule, [0, 1, 3, 4, 9, 14, 20]) == pytest.approx(
        [0.025, 0.05, 0.1, 0.1, 0.055, 0.01, 0.01], rel=1e-12
    )


def test_cosine_by_name_spans_the_fit():
    schedule = sch.get("cosine")
    schedule.on_train_begin(end_epoch=100)
    assert schedule.learning_rate(50, 1.0) == pytest.approx(0.5)
    assert schedule.learning_rate(25, 1.0) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)


def test_reduce_on_plateau_waits_for_patience_then_cools_down():
    schedule = sch.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    seen = []
    for epoch, value in enumerate(losses):
        seen.append(schedule.learning_rate(epoch, 0.1))
        schedule.update(epoch, {"loss": value, "val_loss": value})
    # best 0.9 at epoch 1; the third epoch without improvement (4) cuts the rate; one
    # epoch of cooldown (5), then three more without improvement (6, 7, 8) cut it again.
    assert seen == pytest.approx([0.1] * 5 + [0.05] * 4 + [0.025], rel=1e-12)


def test_reduce_on_plateau_maximises_accuracy_and_respects_min_lr():
    schedule = sch.ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=0, min_lr=0.002)
    for epoch, accuracy in enumerate([0.5, 0.6, 0.6, 0.6, 0.6]):
        schedule.update(epoch, {"val_accuracy": accuracy})
    assert schedule.reductions == 3
    assert schedule.learning_rate(5, 0.1) == 0.002


def test_reduce_on_plateau_state_round_trip():
    schedule = sch.ReduceLROnPlateau(patience=1)
    for epoch, value in enumerate([1.0, 1.0, 1.0, 0.5]):
        schedule.update(epoch, {"loss": value})
    copy = sch.get(schedule.config)
    copy.load_state_dict(schedule.state_dict())
    assert copy.state_dict() == schedule.state_dict()
    assert copy.learning_rate(9, 1.0) == schedule.learning_rate(9, 1.0)


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [("reductions", -309, ValueError), ("wait", -1, ValueError), ("cooldown_left", 1.5, TypeError)],
)
def test_reduce_on_plateau_refuses_a_bad_saved_count(key, value, error):
    schedule = sch.ReduceLROnPlateau()
    state = schedule.state_dict()
    state["state"][key] = value
    with pytest.raises(error, match=key):
        schedule.load_state_dict(state)


@pytest.mark.parametrize("best", [float("nan"), float("-inf"), "low", True])
def test_reduce_on_plateau_refuses_a_saved_best_that_is_no_number(best):
    # A NaN best is beaten by no value: every epoch would count as one without progress,
    # and so is -inf for a loss, which a run never records.
    schedule = sch.ReduceLROnPlateau(patience=1)
    schedule.update(0, {"loss": 1.0})
    before = schedule.state_dict()
    state = schedule.state_dict()
    state["state"].update(best=best, reductions=3)
    with pytest.raises((TypeError, ValueError), match="best"):
        schedule.load_state_dict(state)
    assert schedule.state_dict() == before  # nothing loaded


def test_fit_records_the_scheduled_rate_each_epoch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(4,), seed=0).fit(
        X, y, epochs=6, learning_rate=0.2, schedule={"name": "step", "step_size": 2, "gamma": 0.5}
    )
    assert model.history["lr"] == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05, 0.05])
    # epochs are counted across fits: the schedule goes on where it stopped
    model.fit(X, y, epochs=2, learning_rate=0.2, schedule=sch.StepDecay(2, 0.5))
    assert model.history["lr"][6:] == pytest.approx([0.025, 0.025])


def test_plateau_in_fit_watches_val_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    schedule = sch.ReduceLROnPlateau(patience=0, min_delta=10.0)  # nothing counts as better
    model = MLP(hidden=(4,), seed=0).fit(
        X, y, epochs=3, learning_rate=0.1, validation_split=0.25, schedule=schedule
    )
    # epoch 0 sets the best; every later epoch fails to improve and cuts the rate
    assert model.history["lr"] == pytest.approx([0.1, 0.1, 0.01])
    assert schedule.best == model.history["val_loss"][0] != model.history["loss"][0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sch.get("linear"), "unknown schedule 'linear'"),
        (lambda: sch.get(0.5), "schedule must be a name"),
        (lambda: sch.StepDecay(step_size=0), "step_size must be >= 1"),
        (lambda: sch.CosineDecay(10, warmup_epochs=10), "warmup_epochs"),
        (lambda: sch.ReduceLROnPlateau(factor=1.5), r"factor must be in \(0, 1\)"),
        (lambda: sch.get("step", size=3), "schedule 'step'"),
    ],
)
def test_bad_schedules_are_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_plateau_on_a_missing_metric_says_so():
    schedule = sch.ReduceLROnPlateau(monitor="val_loss")
    with pytest.raises(ValueError, match="pass validation_split or validation_data"):
        schedule.update(0, {"loss": 1.0})


def test_plateau_on_a_metric_a_callback_logs_is_refused_before_training():
    # The schedule reads an epoch's logs before the callbacks add to them: it would fail
    # at the end of the first epoch, having trained it.
    from mlpzero.callbacks import LambdaCallback

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)

    def add_score(epoch, logs):
        logs["my_score"] = -logs["loss"]

    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"monitor='my_score'.*cannot watch a metric a callback"):
        model.fit(
            X,
            y,
            epochs=2,
            schedule=sch.ReduceLROnPlateau(monitor="my_score"),
            callbacks=[LambdaCallback(on_epoch_end=add_score)],
        )
    assert not model.built and model.history.epochs == 0


def test_inverse_scaling_by_hand_and_by_name():
    schedule = sch.get({"name": "invscaling", "power": 0.5, "rate": 3.0})
    assert isinstance(schedule, sch.InverseScaling)
    # 0.1 / (1 + 3 e) ** 0.5 for e = 0, 1, 5: 0.1, 0.1 / 2, 0.1 / 4
    assert [schedule(e, 0.1) for e in (0, 1, 5)] == pytest.approx([0.1, 0.05, 0.025])
    assert sch.get(schedule.config).config == schedule.config
    with pytest.raises(ValueError, match="power"):
        sch.InverseScaling(power=-1)


def test_cosine_settings_that_defeat_the_schedule_are_refused():
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    warm = {"name": "cosine", "warmup_epochs": 10}
    with pytest.raises(ValueError, match=r"warmup_epochs \(10\) must be less than the epoch"):
        MLP(hidden=(3,), seed=0).fit(X, y, epochs=4, learning_rate=0.1, schedule=warm)
    rising = {"name": "cosine", "min_lr": 1.0}
    with pytest.raises(ValueError, match=r"min_lr \(1\) is above the initial learning rate"):
        MLP(hidden=(3,), seed=0).fit(X, y, epochs=4, learning_rate=0.01, schedule=rising)
    model = MLP(hidden=(3,), seed=0).fit(
        X, y, epochs=4, learning_rate=0.1, schedule={"name": "cosine", "warmup_epochs": 2}
    )
    assert model.history["lr"][:2] == [0.05, 0.1]


def test_a_fit_refused_for_its_cosine_leaves_the_model_as_it_was():
    """The cosine's settings were refused only once the loop began: a new model was left
    built, and a fitted one recorded the refused fit's options as its last."""
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    refused = [
        dict(epochs=4, learning_rate=0.1, schedule={"name": "cosine", "warmup_epochs": 10}),
        dict(epochs=4, learning_rate=0.01, schedule={"name": "cosine", "min_lr": 1.0}),
    ]
    for options in refused:
        model = MLP(hidden=(3,), seed=0)
        with pytest.raises(ValueError, match=r"warmup_epochs \(10\)|min_lr \(1\)"):
            model.fit(X, y, **options)
        assert not model.built
    fitted = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, learning_rate=0.1)
    before = fitted.fit_config_, fitted.network.params.copy()
    for options in refused:
        with pytest.raises(ValueError, match=r"warmup_epochs \(10\)|min_lr \(1\)"):
            fitted.fit(X, y, **dict(options, epochs=options["epochs"] + 3))
        assert fitted.fit_config_ == before[0]
        np.testing.assert_array_equal(fitted.network.params, before[1])


def test_reduce_on_plateau_never_raises_the_rate_above_the_initial_one():
    # min_lr stops reductions (PyTorch's rule): with min_lr above the initial rate, the
    # rate stays the initial one rather than jumping up to min_lr from epoch 0.
    schedule = sch.ReduceLROnPlateau(factor=0.5, patience=0, min_lr=0.01)
    assert schedule.learning_rate(0, 0.001) == 0.001
    for epoch, value in enumerate([1.0, 1.0, 1.0]):
        schedule.update(epoch, {"loss": value})
    assert schedule.reductions == 2 and schedule.learning_rate(3, 0.001) == 0.001
    assert schedule.learning_rate(3, 0.1) == 0.025  # 0.1 · 0.5², above the floor
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,), seed=0).fit(
        X, y, epochs=3, learning_rate=0.001, schedule=sch.ReduceLROnPlateau(min_lr=0.01)
    )
    assert model.history["lr"] == [0.001] * 3


class _Fixed(sch.Schedule):
    """A custom schedule that gives one rate, whatever the epoch."""

    name = "fixed"

    def __init__(self, rate):
        self.rate = rate

    def learning_rate(self, epoch, initial):
        return self.rate


@pytest.mark.parametrize(
    ("schedule", "error", "match"),
    [
        (
            _Fixed(-0.1),
            ValueError,
            r"_Fixed gave for epoch 0 must be a finite number >= 0, got -0\.1",
        ),
        (_Fixed(float("nan")), ValueError, "must be a finite number >= 0, got nan"),
        (_Fixed(float("inf")), ValueError, "must be a finite number >= 0, got inf"),
        (_Fixed("0.1"), TypeError, "_Fixed gave for epoch 0 must be a number, got str '0.1'"),
        (_Fixed(None), TypeError, "must be a number, got NoneType None"),
    ],
)
def test_a_scheduled_rate_that_is_not_a_rate_is_refused(schedule, error, match):
    """A negative rate from a schedule trained uphill without a word (gradient ascent),
    NaN or infinity was blamed on a learning rate "too high" (suggesting learning_rate=nan),
    text or None failed with Python's arithmetic error, and a growing decay beyond the
    floats with OverflowError. Each is now refused by name, with the epoch, and the model
    keeps its weights."""
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(4,), seed=0).build(X, y)
    before = model.network.params.copy()
    with pytest.raises(error, match=match):
        model.fit(X, y, epochs=4, schedule=schedule, learning_rate=0.1)
    np.testing.assert_array_equal(model.network.params, before)
    assert model.history.epochs == 0


def test_a_growing_decay_beyond_the_floats_is_refused_by_name():
    """``gamma > 1`` over many epochs: Python's power raised OverflowError."""
    with pytest.raises(ValueError, match="ExponentialDecay gave for epoch 5000 must be a fin"):
        sch.ExponentialDecay(gamma=1.5).checked_rate(5000, 0.1)
    with pytest.raises(ValueError, match="StepDecay gave for epoch 9000 must be a finite"):
        sch.StepDecay(step_size=1, gamma=2.0).checked_rate(9000, 0.1)
    assert sch.ExponentialDecay(gamma=0.5).checked_rate(5000, 0.1) == 0.0


def test_inverse_scaling_whose_denominator_passes_the_floats_decays_to_zero():
    # (1 + 1000) ** 200 is beyond the floats: the rate is 0.1 / 1e600, which rounds to
    # 0, but Python's power raised OverflowError, reported as an infinite rate.
    schedule = sch.InverseScaling(power=200, rate=1e3)
    assert schedule.checked_rate(1, 0.1) == 0.0
    assert schedule(3, 0.1) == 0.0
    assert schedule.checked_rate(0, 0.1) == 0.1


def test_a_zero_rate_from_a_schedule_is_a_rate():
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(4,), seed=0).build(X, y)
    before = model.network.params.copy()
    model.fit(X, y, epochs=2, schedule=_Fixed(0.0), optimizer="sgd")
    np.testing.assert_array_equal(model.network.params, before)


# ------------------------------------------------------------------- PyTorch as an oracle
def _torch_rates(torch, make, epochs, metrics=None):
    """The rate ``torch.optim.lr_scheduler`` gives each epoch, stepped at its end."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make(optimizer)
    rates = []
    for epoch in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[epoch])
    return rates


def _our_rates(schedule, epochs, metrics=None):
    schedule.on_train_begin(epochs)
    rates = []
    for epoch in range(epochs):
        rates.append(schedule.checked_rate(epoch, 0.1))
        if metrics is not None:
            schedule.update(epoch, {"loss": metrics[epoch]})
    return rates


def test_decays_agree_with_torch_lr_scheduler():
    torch = pytest.importorskip("torch")
    lr_scheduler = torch.optim.lr_scheduler

    def warmup_then_cosine(optimizer):  # 5 epochs of linear warm-up, then 35 of cosine
        warmup = lr_scheduler.LinearLR(optimizer, 1 / 5, 1.0, 4)
        cosine = lr_scheduler.CosineAnnealingLR(optimizer, 35, 0.01)
        return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], [5])

    cases = [
        (sch.StepDecay(7, 0.5), lambda o: lr_scheduler.StepLR(o, 7, 0.5), 60),
        (sch.ExponentialDecay(0.93), lambda o: lr_scheduler.ExponentialLR(o, 0.93), 60),
        (sch.CosineDecay(40, 0.01), lambda o: lr_scheduler.CosineAnnealingLR(o, 40, 0.01), 40),
        (sch.CosineDecay(40, 0.01, warmup_epochs=5), warmup_then_cosine, 40),
    ]
    for ours, theirs, epochs in cases:
        expected = _torch_rates(torch, theirs, epochs)
        np.testing.assert_allclose(_our_rates(ours, epochs), expected, rtol=1e-12)


def test_plateau_agrees_with_torch_in_absolute_threshold_mode():
    torch = pytest.importorskip("torch")
    local = np.random.default_rng(0)
    for _ in range(50):
        metrics = np.round(1 + np.cumsum(local.normal(size=80)) * 0.01, 2)
        settings = {
            "factor": float(local.choice([0.5, 0.1])),
            "patience": int(local.integers(0, 5)),
            "cooldown": int(local.integers(0, 4)),
            "min_lr": float(local.choice([0.0, 1e-3])),
        }
        min_delta = float(local.choice([0.0, 1e-4, 0.01]))
        expected = _torch_rates(
            torch,
            partial(
                torch.optim.lr_scheduler.ReduceLROnPlateau,
                threshold=min_delta,
                threshold_mode="abs",
                eps=0,
                **settings,
            ),
            80,
            metrics,
        )
        ours = sch.ReduceLROnPlateau(min_delta=min_delta, **settings)
        np.testing.assert_allclose(_our_rates(ours, 80, metrics), expected, rtol=1e-12)
