import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_circles

from conftest import blobs, circles
from mlpzero import MLP, Network, load
from mlpzero.callbacks import Callback
from mlpzero.gradcheck import gradcheck
from mlpzero.losses import BinaryCrossEntropy
from mlpzero.optimizers import SGD, Adam
from mlpzero.preparation import split_validation
from mlpzero.progress import ProgressLogger
from mlpzero.training import TrainingDivergedError, clip_global_norm


class Recorder(Callback):
    """Keeps a copy of the parameters at the start and end of every epoch."""

    def __init__(self):
        self.begin, self.end, self.batches = {}, {}, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.begin[epoch] = self.model.network.params.copy()

    def on_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.end[epoch] = self.model.network.params.copy()


# ---------------------------------------------------------------------- the headline race
def test_adam_reaches_99_percent_on_circles_in_far_fewer_epochs_than_gradient_descent():
    X, y = circles()

    class Reached(Callback):
        epochs = None

        def on_epoch_end(self, epoch, logs=None):
            if self.model.evaluate(X, y)["accuracy"] >= 0.99:
                self.epochs = epoch + 1
                self.model.stop_training = True

    gd, adam = Reached(), Reached()
    MLP(hidden=(16, 8), seed=0).fit(X, y, epochs=3000, learning_rate=0.1, callbacks=[gd])
    MLP(hidden=(16, 8), seed=0).fit(
        X, y, epochs=3000, optimizer="adam", learning_rate=0.01, callbacks=[adam]
    )
    # Measured with seed 0: plain full-batch gradient descent at the article's rate 0.1
    # needs 621 epochs, Adam at 0.01 needs 61. The claim checked is the robust one, with
    # room for another BLAS or seed: both get there, Adam well within 150 epochs and
    # gradient descent only after more than four times as many.
    assert gd.epochs is not None and adam.epochs is not None
    assert adam.epochs < 150
    assert gd.epochs > 4 * adam.epochs


# ---------------------------------------------------------------------- mini-batches
def test_last_partial_batch_is_used_and_batches_are_counted():
    X, y = blobs(50)
    recorder = Recorder()
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, batch_size=16, callbacks=[recorder])
    assert recorder.batches == 3 * 4  # 16 + 16 + 16 + 2
    assert model.optimizer_.iterations == 12


def test_batches_are_reshuffled_every_epoch_but_not_with_shuffle_false():
    X, y = blobs(64)

    def batch_losses(shuffle):
        seen = []

        class Batches(Callback):
            def on_batch_end(self, batch, logs=None):
                seen.append(logs["loss"])

        model = MLP(hidden=(3,), seed=0)
        model.fit(
            X, y, epochs=2, batch_size=8, learning_rate=1e-9, callbacks=[Batches()], shuffle=shuffle
        )
        return np.array(seen)

    # A tiny rate leaves the weights as they were. Reshuffled, the batches of the second
    # epoch hold other rows (other batch losses) but the same rows in all (same mean).
    shuffled, ordered = batch_losses(True), batch_losses(False)
    assert shuffled[:8].mean() == pytest.approx(shuffled[8:].mean(), rel=1e-6)
    assert not np.allclose(np.sort(shuffled[:8]), np.sort(shuffled[8:]), rtol=1e-3)
    np.testing.assert_allclose(ordered[:8], ordered[8:], rtol=1e-6)


def test_a_row_order_function_sets_each_epochs_batches(tmp_path):
    X, y = blobs(40)
    seen = []

    def reverse(order):
        seen.append(order.copy())
        order[...] = order[::-1].copy()

    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, batch_size=8, shuffle=reverse)
    # called with the previous epoch's order: 0..n-1 first, then the reversed one
    np.testing.assert_array_equal(seen[0], np.arange(40))
    np.testing.assert_array_equal(seen[1], np.arange(40)[::-1])
    # the same as training unshuffled on the reversed rows, then on the rows in order
    by_hand = MLP(hidden=(3,), seed=0)
    by_hand.fit(X[::-1], y[::-1], epochs=1, batch_size=8, shuffle=False)
    by_hand.fit(X, y, epochs=1, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(model.network.params, by_hand.network.params)
    assert model.fit_config_["shuffle"] == "custom"
    model.save(tmp_path / "model.npz")  # the record stays JSON


def test_a_row_order_function_must_leave_a_permutation_and_cannot_resume_or_spread(tmp_path):
    X, y = blobs(40)

    def repeat_first(order):
        order[...] = 0

    with pytest.raises(ValueError, match=r"permutation of 0\.\.39 .* repeated or out-of-range"):
        MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, batch_size=8, shuffle=repeat_first)
    with pytest.raises(TypeError, match="permute the array it is given in place and return"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, batch_size=8, shuffle=lambda o: np.flip(o))
    calls = []
    MLP(hidden=(3,)).fit(X, y, epochs=3, shuffle=calls.append)  # one batch: called all the same
    assert len(calls) == 3
    with pytest.raises(ValueError, match="checkpoint: a fit with a row-order function"):
        MLP(hidden=(3,)).fit(
            X, y, epochs=1, batch_size=8, shuffle=calls.append, checkpoint=tmp_path / "c.npz"
        )
    with pytest.raises(ValueError, match="every rank to draw the same batches"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, batch_size=8, shuffle=repeat_first, distributed=True)
    path = tmp_path / "run.ckpt.npz"
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, batch_size=8, checkpoint=path)
    with pytest.raises(ValueError, match="row-order function as shuffle cannot be resumed"):
        MLP(hidden=(3,), seed=0).fit(
            X, y, epochs=2, batch_size=8, shuffle=lambda order: None, resume=path
        )


def test_same_seed_gives_identical_history_and_weights_bit_for_bit():
    X, y = circles()

    def run(seed):
        model = MLP(hidden=(16, 8), seed=seed, dropout=0.2)
        model.fit(
            X,
            y,
            epochs=15,
            optimizer="adam",
            learning_rate=0.01,
            batch_size=32,
            validation_split=0.2,
            l2=1e-3,
        )
        return model

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    assert a.history.as_dict() == b.history.as_dict()
    assert not np.array_equal(a.network.params, c.network.params)


# ---------------------------------------------------------------------- penalties, clipping
def _one_step(**kwargs):
    X, y = blobs(40)
    model = MLP(hidden=(4,), activation="tanh", seed=1, dtype="float64")
    model.fit(X, y, epochs=1, learning_rate=0.5, **kwargs)
    return model


def test_l2_penalises_weights_not_biases_and_is_reported_in_the_loss():
    plain, penalised = _one_step(), _one_step(l2=0.3)
    start = MLP(hidden=(4,), activation="tanh", seed=1, dtype="float64")
    start._build(*blobs(40))
    p0, mask = start.network.params, start.network.weight_mask
    # θ₁ = θ₀ - lr (g + λ w): the runs differ by -lr·λ·w on weights and not at all on biases
    difference = penalised.network.params - plain.network.params
    np.testing.assert_allclose(difference[mask], -0.5 * 0.3 * p0[mask], rtol=1e-10)
    np.testing.assert_array_equal(difference[~mask], 0)
    expected = plain.history["loss"][0] + 0.5 * 0.3 * np.sum(p0[mask] ** 2)
    assert penalised.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_l1_adds_lambda_sign_w():
    plain, penalised = _one_step(), _one_step(l1=0.01)
    start = MLP(hidden=(4,), activation="tanh", seed=1, dtype="float64")
    start._build(*blobs(40))
    p0, mask = start.network.params, start.network.weight_mask
    difference = penalised.network.params - plain.network.params
    np.testing.assert_allclose(difference[mask], -0.5 * 0.01 * np.sign(p0[mask]), rtol=1e-10)
    np.testing.assert_array_equal(difference[~mask], 0)
    expected = plain.history["loss"][0] + 0.01 * np.abs(p0[mask]).sum()
    assert penalised.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def _regression_rows(n=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("weights", [None, "large"])
def test_per_sample_penalty_divides_l2_and_l1_by_each_batchs_weight(weights):
    """One epoch of batches of 4, 4 and 2 rows with ``penalty_per_sample`` is three
    full-batch steps, each with ``l2 / W_b`` and ``l1 / W_b`` for its batch's total weight
    ``W_b`` in the units given (large weights: not their ratios)."""
    X, y = _regression_rows()
    w = None if weights is None else np.random.default_rng(1).uniform(100, 3000, len(y))
    settings = dict(hidden=(5,), activation="tanh", seed=2, dtype="float64")
    options = dict(epochs=1, optimizer="sgd", learning_rate=0.1, shuffle=False)
    batched = MLP(**settings).fit(
        X, y, batch_size=4, l2=0.3, l1=0.02, penalty_per_sample=True, sample_weight=w, **options
    )
    stepped = MLP(**settings)
    losses = []
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        w_b = None if w is None else w[rows]
        total = 4 if rows.stop - rows.start == 4 else 2
        total = total if w is None else float(np.sum(w_b))
        stepped.fit(X[rows], y[rows], sample_weight=w_b, l2=0.3 / total, l1=0.02 / total, **options)
        losses.append(stepped.history["loss"][-1])
    np.testing.assert_allclose(batched.network.params, stepped.network.params, rtol=1e-13)
    sizes = [4, 4, 2] if w is None else [np.sum(w[0:4]), np.sum(w[4:8]), np.sum(w[8:])]
    expected = np.average(losses, weights=sizes)  # the epoch's loss: weighted by batch
    assert batched.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_per_sample_penalty_with_lbfgs_divides_by_the_total_weight():
    pytest.importorskip("scipy")
    X, y = _regression_rows(40)
    w = np.random.default_rng(3).uniform(1, 5, len(y))
    settings = dict(hidden=(5,), activation="tanh", seed=2, dtype="float64")
    per_sample = MLP(**settings).fit(
        X, y, optimizer="lbfgs", epochs=15, l2=2.0, penalty_per_sample=True, sample_weight=w
    )
    divided = MLP(**settings).fit(
        X, y, optimizer="lbfgs", epochs=15, l2=2.0 / np.sum(w), sample_weight=w
    )
    np.testing.assert_allclose(per_sample.network.params, divided.network.params, rtol=1e-12)


def test_per_sample_penalty_of_val_loss_is_the_same_from_arrays_and_a_generator():
    """``val_loss`` takes the penalty for the mean weight of an epoch's batches, whether
    the batches come from arrays or from a generator (a partial last batch included)."""
    X, y = _regression_rows(30)
    w = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    options = dict(epochs=2, optimizer="sgd", learning_rate=0.05, l2=2.0)
    options.update(penalty_per_sample=True, validation_data=(X[:9], y[:9]))
    settings = dict(hidden=(4,), activation="tanh", seed=1, dtype="float64")

    def batches():
        for begin in range(0, 30, 7):
            yield X[begin : begin + 7], y[begin : begin + 7], w[begin : begin + 7]

    from_arrays = MLP(**settings).fit(X, y, batch_size=7, shuffle=False, sample_weight=w, **options)
    from_generator = MLP(**settings).fit(batches, **options)
    # the same steps, but for rounding (a generator's weights are relative per batch)
    params = from_arrays.network.params
    np.testing.assert_allclose(params, from_generator.network.params, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        from_arrays.history["val_loss"], from_generator.history["val_loss"], rtol=1e-13
    )
    # by hand: the loss of the held-out rows plus l2 / 2 * sum(w^2) / (sum(w) / 5 batches)
    mask = from_arrays.network.weight_mask
    squares = float(np.sum(from_arrays.network.params[mask] ** 2))
    held_out = from_arrays.evaluate(X[:9], y[:9])["loss"]
    expected = held_out + 0.5 * 2.0 * squares / (np.sum(w) / 5)
    assert from_arrays.history["val_loss"][-1] == pytest.approx(expected, rel=1e-12)


def test_a_per_sample_penalty_beyond_the_dtype_is_refused_and_the_epoch_undone():
    """float32 relative weights of 1e-44 make the last batch weigh 1e-43: ``l2 / W_b`` is
    beyond float32, which would turn every weight into NaN. The fit stops with an error
    naming ``l2`` and the batch weight, not a divergence blamed on the learning rate, and
    the four updates of the epoch before it are undone."""
    X, y = _regression_rows(50)
    w = np.ones(50)
    w[40:] = 1e-44
    model = MLP(hidden=(3,), seed=0, dtype="float32").fit(X, y, epochs=1, l2=1e-4)
    before = model.network.params.copy()
    options = dict(epochs=1, batch_size=10, shuffle=False, l2=1e-4, penalty_per_sample=True)
    with pytest.raises(ValueError, match=r"l2=0.0001 divided by a batch's total sample weight"):
        model.fit(X, y, sample_weight=w, **options)
    np.testing.assert_array_equal(model.network.params, before)
    assert model.history.epochs == 1
    # float64 holds the same coefficient: the same fit trains
    MLP(hidden=(3,), seed=0, dtype="float64").fit(X, y, sample_weight=w, **options)


def test_a_penalty_beyond_the_dtype_is_refused_before_training():
    X, y = _regression_rows()
    model = MLP(hidden=(3,), seed=0, dtype="float32")
    with pytest.raises(ValueError, match=r"l2=1e\+39 is beyond the largest float32 number"):
        model.fit(X, y, epochs=1, l2=1e39)
    assert not model.built  # as before the fit
    with pytest.raises(ValueError, match=r"l2=0.0001 divided by a batch's total sample weight"):
        model.fit(X, y, epochs=1, optimizer="lbfgs", l2=1e-4, penalty_per_sample=True,
                  sample_weight=np.full(10, 1e-300))  # fmt: skip
    assert not model.built


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_per_sample_only_the_divided_penalty_must_fit_the_dtype(optimizer):
    """With ``penalty_per_sample`` an ``l2`` beyond float32 is fine when the batch weights
    bring ``l2 / W_b`` into range: ``(c l2, c w)`` trains as ``(l2, w)``."""
    if optimizer == "lbfgs":
        pytest.importorskip("scipy")
    X, y = _regression_rows(50)
    options = dict(epochs=3, batch_size=10, shuffle=False, penalty_per_sample=True)
    if optimizer == "lbfgs":
        options = dict(epochs=5, optimizer="lbfgs", penalty_per_sample=True)
    scaled = MLP(hidden=(3,), seed=0, dtype="float32").fit(
        X, y, l2=1e39, sample_weight=np.full(50, 1e40), **options
    )
    plain = MLP(hidden=(3,), seed=0, dtype="float32").fit(X, y, l2=0.1, **options)
    np.testing.assert_allclose(scaled.network.params, plain.network.params, rtol=1e-5)


def test_an_error_raised_in_an_epoch_puts_back_the_last_completed_epoch():
    """The weights and the optimizer's step count and moments are those at the end of
    epoch 1, as if the failing epoch had not begun."""
    X, y = _regression_rows(40)

    class FailsInBatch3(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.model.history.epochs == 2 and batch == 3:
                raise RuntimeError("stop here")

    class OptimizerRecorder(Recorder):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            state = self.model.optimizer_.state
            self.end[epoch] = (self.end[epoch], self.model.optimizer_.iterations,
                               {key: value.copy() for key, value in state.items()})  # fmt: skip

    model, recorder = MLP(hidden=(3,), seed=0), OptimizerRecorder()
    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(X, y, epochs=5, batch_size=5, optimizer="adam",
                  callbacks=[recorder, FailsInBatch3()])  # fmt: skip
    params, iterations, state = recorder.end[1]
    np.testing.assert_array_equal(model.network.params, params)
    assert model.history.epochs == 2
    assert model.optimizer_.iterations == iterations == 16
    for key, value in state.items():
        np.testing.assert_array_equal(model.optimizer_.state[key], value)


def test_the_history_says_when_ctrl_c_stopped_the_fit(capsys):
    """Ctrl-C is caught (the model keeps its completed epochs), so the caller learns of it
    from ``history.interrupted``, which the next fit clears."""
    X, y = _regression_rows(40)

    class CtrlCInEpoch2(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    model = MLP(hidden=(3,), seed=0)
    assert not model.history.interrupted
    model.fit(X, y, epochs=5, callbacks=[CtrlCInEpoch2()])
    assert model.history.interrupted and model.history.epochs == 3
    # It said "during epoch 2", counting from 0 where the progress line counts from 1,
    # of an epoch already complete.
    assert "interrupted (Ctrl-C) after 3 completed epochs" in capsys.readouterr().err
    model.fit(X, y, epochs=2)
    assert not model.history.interrupted and model.history.epochs == 5


def test_ctrl_c_just_after_an_epochs_metrics_leaves_history_and_weights_agreeing(monkeypatch):
    """Ctrl-C landing after the loop recorded an epoch's metrics, but before the epoch
    counted as complete, took the weights back to the start of that epoch and left its
    metrics in the history: the model claimed one epoch more than its weights had, and a
    Ctrl-C while the metrics were being recorded left lists of different lengths. The
    history now goes back with the weights."""
    from mlpzero.history import History

    X, y = _regression_rows(40)
    record = History.append

    def interrupted_after_epoch_2(history, logs):
        record(history, logs)
        if history.epochs == 3:
            raise KeyboardInterrupt

    expected = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, callbacks=[Callback()])
    model = MLP(hidden=(3,), seed=0)
    with monkeypatch.context() as patch:
        patch.setattr(History, "append", interrupted_after_epoch_2)
        model.fit(X, y, epochs=5, callbacks=[Callback()])
    assert model.history.interrupted
    np.testing.assert_array_equal(model.network.params, expected.network.params)
    assert model.history.history == expected.history.history


def test_feature_names_set_before_the_first_fit_name_an_arrays_columns(tmp_path):
    """They are on the model from the start, so its checkpoints carry them too."""
    X, y = _regression_rows(20)
    names = [f"f{i}" for i in range(X.shape[1])]
    model = MLP(hidden=(3,), seed=0)
    model.feature_names_in_ = names
    model.fit(X, y, epochs=2, checkpoint=tmp_path / "run.npz")
    assert model.feature_names_in_ == names
    assert load(tmp_path / "run.npz").feature_names_in_ == names
    short = MLP(hidden=(3,), seed=0)
    short.feature_names_in_ = names[:1]
    with pytest.raises(ValueError, match=f"names 1 features, but X has {X.shape[1]}"):
        short.fit(X, y, epochs=1)
    assert not short.built and short.feature_names_in_ == names[:1]


def test_after_a_divergence_the_same_optimizer_object_trains_on():
    """A diverging step leaves NaN in SGD's velocity; the epoch is undone with the
    optimizer's state, so the same object, at a small rate, then trains finitely (it
    used to diverge again at any rate)."""
    X, y = _regression_rows(200)
    X = X * 1e3
    optimizer = SGD(learning_rate=10.0, momentum=0.9)
    model = MLP(hidden=(4,), seed=0, dtype="float64")
    with pytest.raises(TrainingDivergedError):
        model.fit(X, y, epochs=50, batch_size=20, optimizer=optimizer)
    assert optimizer.iterations == 0 and optimizer.state == {}  # as before epoch 0
    optimizer.learning_rate = optimizer.initial_learning_rate = 1e-8
    model.fit(X, y, epochs=2, batch_size=20, optimizer=optimizer)
    assert np.isfinite(model.history["loss"]).all()


def test_penalty_per_sample_must_be_a_bool():
    X, y = _regression_rows()
    with pytest.raises(TypeError, match="penalty_per_sample must be True or False, got str 'yes'"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, penalty_per_sample="yes")


def test_clip_norm_bounds_the_step():
    start = MLP(hidden=(4,), activation="tanh", seed=1, dtype="float64")
    start._build(*blobs(40))
    clipped = _one_step(clip_norm=1e-3)
    step = np.linalg.norm(clipped.network.params - start.network.params)
    assert step == pytest.approx(0.5 * 1e-3, rel=1e-5)
    free = _one_step(clip_norm=1e6)
    np.testing.assert_array_equal(free.network.params, _one_step().network.params)


def test_clip_global_norm_follows_the_formula():
    grads = np.array([3.0, 4.0])
    assert clip_global_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose(grads, [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    untouched = np.array([0.3, 0.4])
    clip_global_norm(untouched, 1.0)
    np.testing.assert_array_equal(untouched, [0.3, 0.4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_global_norm_leaves_a_gradient_within_a_small_bound_untouched(dtype):
    """A gradient of norm 5e-7 is within clip_norm=1e-6: the ``1e-6`` of the factor must
    not scale it (by 1e-6 / 1.5e-6) all the same; one just above the bound is clipped."""
    grads = np.array([3e-7, 4e-7, 0.0], dtype=dtype)
    given = grads.copy()
    assert clip_global_norm(grads, 1e-6) == pytest.approx(5e-7, rel=1e-6)
    np.testing.assert_array_equal(grads, given)
    above = np.array([6e-7, 8e-7, 0.0], dtype=dtype)  # norm 1e-6, above the bound 5e-7
    clip_global_norm(above, 5e-7)
    assert np.linalg.norm(above.astype(np.float64)) <= 5e-7


def test_a_fit_leaves_a_gradient_within_clip_norm_untouched():
    """clip_norm rescales the gradient only when its norm exceeds it: a bound just above
    the first step's gradient norm trains as no clipping does, bit for bit."""
    plain = _one_step()
    start = MLP(hidden=(4,), activation="tanh", seed=1, dtype="float64")
    start._build(*blobs(40))
    norm = np.linalg.norm(plain.network.params - start.network.params) / 0.5
    bound = norm * (1 + 1e-9)  # the gradient is within it, by far more than rounding
    np.testing.assert_array_equal(_one_step(clip_norm=bound).network.params, plain.network.params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_global_norm_clips_gradients_whose_squares_overflow_the_dtype(dtype):
    """3e20 and 4e20 square beyond float32 (and 3e160 beyond float64): the clipped
    gradient is still the direction scaled to max_norm, not zero."""
    big = {np.float32: 1e20, np.float64: 1e160}[dtype]
    grads = np.array([3.0, 4.0, 0.0], dtype=dtype) * dtype(big)
    with np.errstate(over="ignore"):  # as in training, where overflow is expected
        norm = clip_global_norm(grads, 2.0)
    assert norm == pytest.approx(5 * big, rel=1e-6)
    np.testing.assert_allclose(grads, [1.2, 1.6, 0.0], rtol=1e-6)
    assert grads.dtype == dtype


def test_clipping_trains_a_float32_model_on_huge_features_as_float64_does():
    """Features of 1e20 (raw timestamps in nanoseconds, say) give gradients whose squared
    norm overflows float32: the clipped step must still move the weights by lr * max_norm."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2)) * 1e20
    y = (X[:, 0] > 0).astype(int)
    steps = {}
    for dtype in ("float32", "float64"):
        model = MLP(hidden=(4,), seed=0, dtype=dtype)
        start = model.build(X, y).network.params.astype(np.float64)
        model.fit(X, y, epochs=1, learning_rate=0.1, clip_norm=1.0)
        steps[dtype] = np.linalg.norm(model.network.params - start)
    assert steps["float64"] == pytest.approx(0.1, rel=1e-3)
    assert steps["float32"] == pytest.approx(0.1, rel=1e-3)


# ---------------------------------------------------------------------- dropout
def test_dropout_keeps_the_expected_activation_and_drops_the_right_share():
    rng = np.random.default_rng(0)
    net = Network([3, 40, 2], activation="relu", dtype="float64", rng=1)
    X = rng.standard_normal((5, 3))
    clean = net.forward(X).copy()
    net.dropout = [0.3]
    net.dropout_rng = np.random.default_rng(2)
    draws = np.array([net.forward(X, training=True).copy() for _ in range(4000)])
    # The output layer is linear in the dropped units, so E[logits] = clean logits.
    # With 4000 draws the mean is within a few standard errors of it.
    stderr = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - clean) < 4 * stderr)
    mask = net._dropout.masks[0]
    assert set(np.unique(mask)) <= {0.0, 1 / 0.7}
    shares = []
    for _ in range(200):
        net.forward(X, training=True)
        shares.append(np.mean(net._dropout.masks[0] == 0))
    assert np.mean(shares) == pytest.approx(0.3, abs=0.01)


def test_dropout_is_off_at_predict():
    X, y = circles()
    model = MLP(hidden=(16, 8), seed=0, dropout=[0.5, 0.2])
    model.fit(X, y, epochs=20, optimizer="adam", learning_rate=0.01)
    assert model.network.dropout == [0.5, 0.2]
    first = model.predict_proba(X)
    np.testing.assert_array_equal(first, model.predict_proba(X))
    model.network.dropout = [0.0, 0.0]
    np.testing.assert_array_equal(first, model.predict_proba(X))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_backward_through_a_fixed_dropout_mask_matches_finite_differences(activation):
    net = Network([3, 6, 5, 1], activation=activation, dtype="float64", rng=4)
    net.dropout = [0.5, 0.25]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3))
    Y = (rng.random((7, 1)) > 0.5).astype(float)
    # Non-zero biases: a sample whose inputs to a unit are all dropped would otherwise sit
    # exactly on ReLU's kink at 0, where finite differences and the derivative disagree.
    net.params[~net.weight_mask] = rng.normal(0, 0.5, np.count_nonzero(~net.weight_mask))

    class FixedMask:
        """The network with the same dropout mask at every forward pass."""

        params, grads = net.params, net.grads

        def forward(self, X):
            net.dropout_rng = np.random.default_rng(11)
            return net.forward(X, training=True)

        def backward(self, dlogits):
            return net.backward(dlogits)

    result = gradcheck(FixedMask(), BinaryCrossEntropy(), X, Y)
    assert result.passed(1e-7), result.relative_error
    assert np.count_nonzero(net._dropout.masks[0] == 0) > 0  # some units were dropped


def test_bad_dropout_is_refused():
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        MLP(hidden=(4, 4), dropout=[0.1])
    with pytest.raises(ValueError, match=r"dropout rates must be in \[0, 1\)"):
        MLP(hidden=(4,), dropout=1.0)
    with pytest.raises(TypeError, match="dropout must be a rate"):
        MLP(hidden=(4,), dropout="half")


# ---------------------------------------------------------------------- validation
def test_validation_split_holds_out_the_same_rows_on_every_fit():
    X, y = blobs(80)
    held = split_validation(80, 0.25, np.random.default_rng([0, 1]), strata=y)[1]
    explicit = {
        "validation_data": (X[held], y[held]),
        "X": np.delete(X, held, axis=0),
        "y": np.delete(y, held),
    }
    by_split = MLP(hidden=(3,), seed=0)
    by_rows = MLP(hidden=(3,), seed=0)
    for _ in range(2):  # the second fit must hold out the same rows as the first
        by_split.fit(X, y, epochs=3, validation_split=0.25)
        by_rows.fit(
            explicit["X"], explicit["y"], epochs=3, validation_data=explicit["validation_data"]
        )
    assert by_split.history.as_dict() == by_rows.history.as_dict()
    np.testing.assert_array_equal(by_split.network.params, by_rows.network.params)


def test_validation_data_metrics_match_evaluate():
    X, y = circles()
    X_val, y_val = make_circles(n_samples=200, noise=0.1, factor=0.5, random_state=7)
    model = MLP(hidden=(16, 8), seed=0).fit(
        X, y, epochs=30, optimizer="adam", learning_rate=0.01, validation_data=(X_val, y_val)
    )
    assert model.history.keys() == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    result = model.evaluate(X_val, y_val)
    assert model.history["val_loss"][-1] == pytest.approx(result["loss"], rel=1e-6)
    assert model.history["val_accuracy"][-1] == result["accuracy"]


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_accuracy_in_the_history_matches_evaluate_for_other_tasks(task):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 3))
    if task == "multiclass":
        y = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])  # three classes
    else:
        y = np.c_[X[:, 0] > 0, X[:, 1] > 0.3].astype(int)  # two labels
    X_val, y_val = X[100:], y[100:]
    model = MLP(hidden=(8,), seed=0).fit(
        X[:100],
        y[:100],
        epochs=40,
        optimizer="adam",
        learning_rate=0.02,
        validation_data=(X_val, y_val),
    )
    assert model.task == task
    assert model.history["val_accuracy"][-1] == model.evaluate(X_val, y_val)["accuracy"]
    assert model.history["accuracy"][-1] > 0.8


def test_regression_history_has_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    model = MLP(hidden=(3,), seed=0).fit(X, X[:, 0] * 0.5 + 0.1, epochs=3, validation_split=0.2)
    assert model.history.keys() == ["loss", "val_loss", "lr"]


# ---------------------------------------------------------------------- weights
def imbalanced(seed=0):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(0, 1, (270, 2)), rng.normal(1.2, 1, (30, 2))]
    return X, np.r_[np.zeros(270, int), np.ones(30, int)]


def test_class_weight_moves_the_decision_towards_the_rare_class():
    X, y = imbalanced()
    kwargs = {"epochs": 300, "optimizer": "adam", "learning_rate": 0.01}
    plain = MLP(hidden=(8,), seed=0).fit(X, y, **kwargs)
    balanced = MLP(hidden=(8,), seed=0).fit(X, y, class_weight="balanced", **kwargs)
    rare_plain = np.mean(plain.predict(X) == 1)
    rare_balanced = np.mean(balanced.predict(X) == 1)
    # Unweighted, the rare class (10%) is mostly ignored; balanced, it is predicted often.
    assert rare_plain < 0.1 < rare_balanced
    assert balanced.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.15


def test_class_weight_equals_the_matching_sample_weight():
    X, y = imbalanced()
    kwargs = {"epochs": 5, "batch_size": 64, "learning_rate": 0.1}
    by_class = MLP(hidden=(4,), seed=0).fit(X, y, class_weight={1: 3.0}, **kwargs)
    by_sample = MLP(hidden=(4,), seed=0).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1), **kwargs)
    np.testing.assert_array_equal(by_class.network.params, by_sample.network.params)


def test_zero_sample_weights_act_like_removing_the_rows():
    X, y = blobs(60)
    weights = np.ones(60)
    weights[40:] = 0
    kwargs = {"epochs": 10, "learning_rate": 0.5}
    weighted = MLP(hidden=(4,), seed=0, dtype="float64").fit(X, y, sample_weight=weights, **kwargs)
    removed = MLP(hidden=(4,), seed=0, dtype="float64").fit(X[:40], y[:40], **kwargs)
    np.testing.assert_allclose(weighted.network.params, removed.network.params, rtol=1e-10)


# ---------------------------------------------------------------------- divergence
def test_divergence_raises_and_keeps_the_last_finite_weights():
    X, y = circles()
    recorder = Recorder()
    model = MLP(hidden=(16, 8), seed=0, loss="squared_error")
    with pytest.raises(TrainingDivergedError, match="lower one") as caught:
        model.fit(X, y, epochs=200, learning_rate=50.0, callbacks=[recorder])
    error = caught.value
    assert isinstance(error, ValueError)
    assert "learning_rate=5" in str(error)
    assert np.isfinite(model.network.params).all()
    np.testing.assert_array_equal(model.network.params, recorder.begin[error.epoch])
    assert model.history.epochs == error.epoch
    assert np.isfinite(model.predict_proba(X)).all()
    assert "standardise X" not in str(error)  # the circles lie within |X| <= 1.2


def test_divergence_on_huge_features_suggests_standardising_them():
    X, y = circles()
    X = X * 1e30
    with pytest.raises(TrainingDivergedError, match="lower one") as caught:
        MLP(seed=0).fit(X, y, epochs=5)
    largest = f"{np.abs(X).max():.3g}"
    assert f"or standardise X (largest |X| = {largest}" in str(caught.value)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_divergence_under_an_adaptive_optimizer_does_not_suggest_adam(optimizer):
    X, y = circles()  # |X| <= 1.2: clipping is the one remedy left besides the rate
    with pytest.raises(TrainingDivergedError, match="lower one") as caught:
        MLP(seed=0).fit(X, y, epochs=50, optimizer=optimizer, learning_rate=1e37)
    assert "learning_rate=1e+36), clip_norm=1.0. The model keeps" in str(caught.value)


@pytest.mark.parametrize("optimizer, buffer", [("adam", "exp_avg_sq"), ("rmsprop", "square_avg")])
def test_squared_gradients_beyond_float32_stop_the_fit(optimizer, buffer):
    """Gradients above about 1.8e19 are finite in float32 but their squares are not. The
    optimizer's average of them became infinite and froze the parameters it divides, while
    the loss stayed finite: the fit ended as if trained."""
    X, y = circles()
    X = X * 1e20
    recorder = Recorder()
    model = MLP(hidden=(4,), seed=0)
    kwargs = {"epochs": 5, "optimizer": optimizer, "learning_rate": 0.01, "batch_size": 50}
    with pytest.raises(
        TrainingDivergedError, match=f"optimizer's {buffer} overflowed float32"
    ) as caught:
        model.fit(X, y, callbacks=[recorder], **kwargs)
    message = str(caught.value)
    assert "larger than 1.8e+19" in message
    assert f"standardise X (largest |X| = {np.abs(X).max():.3g}" in message
    assert message.endswith(
        f"clip_norm=1.0, or MLP(dtype='float64'). The model keeps the "
        f"parameters from the start of epoch {caught.value.epoch}."
    )
    np.testing.assert_array_equal(model.network.params, recorder.begin[caught.value.epoch])
    assert model.optimizer_.overflowed_state() == []
    # The remedies the message names hold these gradients.
    for remedy in ({"clip_norm": 1.0}, {}):
        dtype = "float32" if remedy else "float64"
        fitted = MLP(hidden=(4,), seed=0, dtype=dtype).fit(X, y, **remedy, **kwargs)
        assert fitted.optimizer_.overflowed_state() == []
        assert np.isfinite(fitted.network.params).all()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_learning_rate_beyond_the_dtype_is_refused_before_training(optimizer):
    X, y = circles()
    model = MLP(seed=0)
    with pytest.raises(ValueError, match=r"learning_rate=1e\+39 is beyond the largest float32"):
        model.fit(X, y, epochs=2, optimizer=optimizer, learning_rate=1e39)
    assert not model.built
    MLP(seed=0, dtype="float64").fit(X, y, epochs=1, optimizer=optimizer, learning_rate=1e-3)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_a_weight_decay_beyond_the_dtype_is_refused_before_training(optimizer):
    """weight_decay=1e39 is infinite in float32: every parameter became NaN in the first
    step, and the fit ended in a divergence error that blamed the learning rate."""
    X, y = circles()
    model = MLP(seed=0)
    with pytest.raises(ValueError, match=r"weight_decay=1e\+39 is beyond the largest float32"):
        model.fit(X, y, epochs=2, optimizer={"name": optimizer, "weight_decay": 1e39})
    assert not model.built


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_an_eps_below_the_dtype_is_refused_before_training(optimizer):
    """eps=1e-50 is 0 in float32: a parameter whose gradient is always 0 stepped by 0 / 0,
    and the fit ended in a divergence error that blamed the learning rate."""
    X, y = circles()
    X = np.column_stack([X, np.zeros(len(X))])  # the third input's weights never move
    model = MLP(seed=0)
    with pytest.raises(ValueError, match=r"eps=1e-50 is below the smallest normal float32"):
        model.fit(X, y, epochs=2, optimizer={"name": optimizer, "eps": 1e-50})
    assert not model.built
    fitted = MLP(seed=0, dtype="float64").fit(
        X, y, epochs=2, optimizer={"name": optimizer, "eps": 1e-50}
    )
    assert np.isfinite(fitted.network.params).all()


def test_a_clip_norm_below_the_dtype_is_refused_before_training():
    """clip_norm=1e-50 scaled every float32 gradient by 0: the fit ran and nothing moved."""
    X, y = circles()
    model = MLP(seed=0)
    with pytest.raises(ValueError, match=r"clip_norm=1e-50 is below the smallest normal"):
        model.fit(X, y, epochs=2, clip_norm=1e-50)
    assert not model.built
    assert MLP(seed=0, dtype="float64").fit(X, y, epochs=2, clip_norm=1e-50).built


def test_a_divergence_error_comes_back_whole_from_a_worker_process():
    """A sweep's worker (joblib, Dask) sends a failing fit's error back pickled: it must
    unpickle to the same error, or the search loses it ("a result has failed to
    un-serialize") and its pool of workers with it."""
    X, y = circles()
    with pytest.raises(TrainingDivergedError) as caught:
        MLP(hidden=(4,), seed=0).fit(X * 1e3, y, epochs=5, learning_rate=1e6)
    sent = pickle.loads(pickle.dumps(caught.value))
    assert type(sent) is TrainingDivergedError
    assert str(sent) == str(caught.value) and "lower one" in str(sent)
    assert sent.epoch == caught.value.epoch and f"diverged in epoch {sent.epoch}:" in str(sent)


# ---------------------------------------------------------------------- progress
def test_verbose_zero_prints_nothing(capsys):
    X, y = blobs()
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=5, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_verbose_one_shows_no_bar_for_a_short_run(capsys):
    X, y = blobs()
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=5, verbose=1)
    out, err = capsys.readouterr()
    assert out.startswith("Epoch 0: cost = 0.")
    # stderr holds only the line that says what loss='auto' chose: no progress bar
    assert err.splitlines() == ["loss='auto': 2 classes [0, 1] -> binary_crossentropy with sigmoid"]


def test_verbose_two_prints_one_line_of_metrics_per_epoch(capsys):
    X, y = blobs()
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert "val_accuracy=" in lines[0] and "lr=0.01" in lines[0]


def test_print_every_prints_the_article_line_without_verbose(capsys):
    X, y = blobs()
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=5, print_every=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 2", "Epoch 4"]


def test_progress_bar_shows_epochs_loss_rate(capsys):
    X, y = blobs()
    bar = ProgressLogger(epochs=4, verbose=1, print_every=0, delay=0)
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=4, callbacks=[bar], validation_split=0.2)
    err = capsys.readouterr().err
    assert "4/4" in err and "epoch/s" in err
    assert "loss=" in err and "val_loss=" in err


# ---------------------------------------------------------------------- argument checks
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"validation_split": 1.5}, ValueError, r"validation_split must be in \[0, 1\)"),
        ({"validation_split": 0.2, "validation_data": ([[0, 0]], [0])}, ValueError, "not both"),
        ({"validation_data": [[0, 0]]}, TypeError, "validation_data must be"),
        ({"validation_data": ([[0, 0]],)}, TypeError, "got a tuple of 1 item$"),
        ({"validation_data": ([[0, 0]], [0], None, [1])}, TypeError, "got a tuple of 4 items"),
        ({"validation_data": ([[0, 0]], [0])}, ValueError, "X_val has 2 features"),
        ({"class_weight": {7: 2.0}}, ValueError, "not classes of y"),
        ({"class_weight": "even"}, ValueError, "'balanced' or a dict"),
        ({"verbose": 3}, ValueError, "verbose must be 0, 1 or 2"),
        ({"l2": -1}, ValueError, "l2 must be"),
        ({"clip_norm": 0}, ValueError, "clip_norm must be"),
        ({"callbacks": [print]}, TypeError, "callbacks must be Callback objects"),
        ({"optimizer": "adagrad"}, ValueError, "unknown optimizer"),
        ({"schedule": "linear"}, ValueError, "unknown schedule"),
    ],
)
def test_bad_fit_options_are_refused_before_anything_changes(kwargs, error, match):
    X, y = blobs()
    model = MLP(hidden=(3,), seed=0)
    state = model._rng.bit_generator.state
    with pytest.raises(error, match=match):
        model.fit(X, y, epochs=2, **kwargs)
    assert not model.built
    assert model._rng.bit_generator.state == state
    fresh = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2)
    np.testing.assert_array_equal(model.fit(X, y, epochs=2).network.params, fresh.network.params)


def test_weights_left_all_zero_by_the_split_are_refused():
    X, y = blobs(40)
    weights = np.zeros(40)
    held = split_validation(40, 0.25, np.random.default_rng([0, 1]), strata=y)[1]
    weights[held] = 1.0  # only the rows that the split will hold out carry weight
    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"validation_split=0.25 trains on 30 rows, whose sam"):
        model.fit(X, y, epochs=1, sample_weight=weights, validation_split=0.25)
    assert not model.built


def test_a_split_that_holds_out_only_zero_weights_is_refused_before_the_model_changes():
    """The held-out rows' weights are the denominator of val_loss: all zero, a fit that
    built its network and then failed would leave an untrained model that predicts."""
    X, y = blobs(40)
    weights = np.ones(40)
    held = split_validation(40, 0.25, np.random.default_rng([0, 1]), strata=y)[1]
    weights[held] = 0.0
    model = MLP(hidden=(3,), seed=0)
    with pytest.raises(ValueError, match=r"validation_split=0.25 holds out 10 rows, whose sa"):
        model.fit(X, y, epochs=1, sample_weight=weights, validation_split=0.25)
    assert not model.built
    assert getattr(model, "fit_config_", None) is None


def test_class_weight_on_regression_is_refused():
    X, _ = blobs()
    with pytest.raises(ValueError, match="class_weight applies to binary and multi-class"):
        MLP(hidden=(3,), seed=0).fit(X, X[:, 0] * 0.3, epochs=1, class_weight="balanced")


def test_learning_rate_sets_an_optimizer_objects_rate_and_none_keeps_it():
    X, y = blobs()
    sgd = SGD(learning_rate=0.3, momentum=0.9)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, optimizer=sgd)
    assert model.optimizer_ is sgd and model.history["lr"] == [0.3, 0.3]
    model.fit(X, y, epochs=1, optimizer=sgd, learning_rate=0.05)
    assert sgd.learning_rate == sgd.initial_learning_rate == 0.05
    assert sgd.iterations == 3  # the momentum state carried over
    assert MLP(seed=0).fit(X, y, epochs=1, optimizer="adam").history["lr"] == [0.001]
    tuned = SGD(learning_rate=0.3)
    tuned.learning_rate = 0.07  # without a schedule, fit leaves the rate as it finds it
    assert MLP(seed=0).fit(X, y, epochs=1, optimizer=tuned).history["lr"] == [0.07]


def test_an_optimizer_holding_another_models_state_is_refused():
    """Adam's moments and step count from model A steered model B's first steps, without
    a word, when B had A's shapes (one optimizer serves one model)."""
    X, y = blobs()
    adam = Adam(learning_rate=0.01)
    first = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, batch_size=10, optimizer=adam)
    steps = adam.iterations
    second = MLP(hidden=(3,), seed=1)
    with pytest.raises(ValueError, match=r"Adam object holds the state \(exp_avg, exp_avg_sq\)"):
        second.fit(X, y, epochs=1, optimizer=adam)
    assert not second.built and adam.iterations == steps
    first.fit(X, y, epochs=1, batch_size=10, optimizer=adam)  # its own model trains on
    second.optimizer_ = adam  # on purpose
    second.fit(X, y, epochs=1, optimizer=adam)
    plain = SGD(learning_rate=0.1)  # no state to carry: any model may use it
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, optimizer=plain)
    MLP(hidden=(3,), seed=1).fit(X, y, epochs=1, optimizer=plain)


@pytest.mark.parametrize("scale", [1.7e308, 1e300, 1e-300])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_or_tiny_sample_weights_train_like_their_ratios(scale, dtype):
    X, y = blobs(60)
    ratios = np.random.default_rng(1).uniform(0.2, 1.0, len(y))
    ratios[0] = 1.0

    def fitted(weights):
        options = {"epochs": 20, "learning_rate": 0.1, "batch_size": 16}
        model = MLP(hidden=(4,), seed=0, dtype=dtype)
        return model.fit(X, y, sample_weight=weights, validation_data=(X, y, weights), **options)

    expected, model = fitted(ratios), fitted(ratios * scale)
    np.testing.assert_allclose(model.network.params, expected.network.params, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.history["loss"], expected.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(model.history["val_loss"], expected.history["val_loss"], rtol=1e-4)
    assert model.evaluate(X, y, ratios * scale) == pytest.approx(expected.evaluate(X, y, ratios))


def test_weights_that_round_to_zero_in_float32_are_warned_of():
    """A positive weight more than float32's range below the largest became 0 when cast,
    and its row was not trained on (a batch of such rows was skipped) without a word."""
    X, y = blobs(40)
    weights = np.ones(40)
    weights[:3] = 1e-50
    with pytest.warns(UserWarning, match=r"sample_weight: 3 positive weight\(s\) \(the small"):
        MLP(hidden=(3,), seed=0, dtype="float32").fit(X, y, epochs=1, sample_weight=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLP(hidden=(3,), seed=0, dtype="float64").fit(X, y, epochs=1, sample_weight=weights)
        weights[:3] = 0.0  # zero on purpose: no warning
        MLP(hidden=(3,), seed=0, dtype="float32").fit(X, y, epochs=1, sample_weight=weights)


def test_ctrl_c_message_is_not_glued_to_the_progress_bar(capsys):
    """The message was written after the bar's text on its line ("...loss=0.1]Training
    interrupted ..."), and the bar was drawn again below it."""
    X, y = _regression_rows(40)

    class CtrlCInEpoch2(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    bar = ProgressLogger(epochs=5, verbose=1, print_every=0, delay=0)
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=5, callbacks=[bar, CtrlCInEpoch2()])
    err = capsys.readouterr().err
    start = err.index("Training interrupted")
    assert start == 0 or err[start - 1] in "\r\n"
