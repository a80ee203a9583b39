"""mlpzero.lbfgs: the objective and gradient handed to SciPy, and MLP.fit(optimizer="lbfgs")."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from scipy import sparse

from mlpzero import MLP
from mlpzero.callbacks import EarlyStopping, LambdaCallback
from mlpzero.datasets import make_circles, make_xor
from mlpzero.lbfgs import loss_and_gradient, minimize
from mlpzero.losses import get as get_loss
from mlpzero.network import Network
from mlpzero.progress import ProgressLogger
from mlpzero.regularizers import WeightPenalty

RNG = np.random.default_rng(0)
X = RNG.normal(size=(23, 3))
TARGETS = {
    "binary_crossentropy": (RNG.random((23, 1)) < 0.5).astype(float),
    "categorical_crossentropy": np.eye(4)[RNG.integers(0, 4, 23)],
    "squared_error": RNG.normal(size=(23, 2)),
    "poisson": RNG.poisson(2.0, size=(23, 2)).astype(float),
}


def _finite_differences(network, objective, eps=1e-6):
    theta = network.params.copy()
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        for sign, slot in ((1, 0), (-1, 1)):
            network.params[...] = theta
            network.params[i] += sign * eps
            value = objective()
            numeric[i] = value if slot == 0 else (numeric[i] - value) / (2 * eps)
    network.params[...] = theta
    return numeric


@pytest.mark.parametrize("loss_name", sorted(TARGETS))
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(loss_name, weighted):
    Y = TARGETS[loss_name]
    network = Network([3, 5, 4, Y.shape[1]], ["tanh", "sigmoid"], dtype="float64", rng=1)
    loss = get_loss(loss_name)
    weights = RNG.uniform(0.1, 3.0, size=23) if weighted else None
    penalty = WeightPenalty(network.weight_mask, network.dtype, l2=0.3)

    def objective():
        return loss_and_gradient(network, loss, X, Y, weights, penalty, chunk_rows=5)[0]

    value, gradient = loss_and_gradient(network, loss, X, Y, weights, penalty, chunk_rows=5)
    np.testing.assert_allclose(gradient, _finite_differences(network, objective), atol=1e-7)
    # the objective is the weighted mean loss plus the penalty, whatever the chunking
    full = loss.value(network.forward(X), Y, weights) + penalty.value(network.params)
    assert value == pytest.approx(full, rel=1e-12)


def test_sparse_rows_give_the_dense_result():
    Y = TARGETS["categorical_crossentropy"]
    network = Network([3, 6, 4], "relu", dtype="float64", rng=2)
    loss = get_loss("categorical_crossentropy")
    dense = loss_and_gradient(network, loss, X, Y, chunk_rows=4)
    for container in (sparse.csr_matrix, sparse.csc_matrix):
        value, gradient = loss_and_gradient(network, loss, container(X), Y, chunk_rows=4)
        assert value == pytest.approx(dense[0], rel=1e-12)
        np.testing.assert_allclose(gradient, dense[1], rtol=1e-12)


def test_xor_converges_in_tens_of_iterations():
    X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y4 = np.array([0, 1, 1, 0])
    model = MLP(hidden=(4,), activation="tanh", seed=0, dtype="float64")
    model.fit(X4, y4, optimizer="lbfgs", epochs=200)
    assert model.history.epochs < 60
    assert model.evaluate(X4, y4) == {"loss": pytest.approx(0, abs=1e-4), "accuracy": 1.0}


def test_circles_converge_in_tens_of_iterations():
    X_c, y_c = make_circles(n_samples=200, noise=0.05, factor=0.5, random_state=0)
    model = MLP(hidden=(8,), activation="tanh", seed=0, dtype="float64")
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=100)
    assert model.history.epochs < 100  # stopped on its own
    assert model.evaluate(X_c, y_c)["accuracy"] == 1.0
    # full-batch gradient descent, the article's loop, is far from there after as many steps
    slow = MLP(hidden=(8,), activation="tanh", seed=0, dtype="float64")
    slow.fit(X_c, y_c, epochs=model.history.epochs, learning_rate=0.5)
    assert slow.evaluate(X_c, y_c)["loss"] > 10 * model.evaluate(X_c, y_c)["loss"]


def test_history_validation_and_callbacks():
    X_c, y_c = make_circles(n_samples=200, noise=0.2, factor=0.5, random_state=1)
    stop = EarlyStopping(patience=3, restore_best_weights=True)
    model = MLP(hidden=(32,), seed=0, dtype="float64")
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=500, validation_split=0.3, callbacks=[stop])
    assert model.history.keys() == ["loss", "accuracy", "val_loss", "val_accuracy"]
    held = model.validation_rows_
    last = {key: values[-1] for key, values in model.history.history.items()}
    model_at_end = MLP(hidden=(32,), seed=0, dtype="float64")  # the logs are the metrics:
    model_at_end.fit(X_c, y_c, optimizer="lbfgs", epochs=model.history.epochs,
                     validation_split=0.3)  # fmt: skip
    at_end = model_at_end.evaluate(X_c[held], y_c[held])
    assert last["val_accuracy"] == at_end["accuracy"]
    assert last["val_loss"] == pytest.approx(at_end["loss"], rel=1e-9)
    assert stop.stopped_epoch is not None and model.history.epochs == stop.stopped_epoch + 1
    assert model.fit_config_["optimizer"] == {"name": "lbfgs"}
    # the best weights are back: the held-out loss is the best one recorded
    assert model.evaluate(X_c[held], y_c[held])["loss"] == pytest.approx(stop.best, rel=1e-9)


def test_l2_and_sample_weights_reach_the_objective():
    X_c, y_c = make_circles(n_samples=100, noise=0.1, factor=0.5, random_state=2)
    weights = np.where(y_c == 1, 3.0, 1.0)
    plain = MLP(hidden=(6,), seed=0, dtype="float64").fit(X_c, y_c, optimizer="lbfgs", epochs=30)
    shrunk = MLP(hidden=(6,), seed=0, dtype="float64")
    shrunk.fit(X_c, y_c, optimizer="lbfgs", epochs=30, l2=1.0, sample_weight=weights)
    weight_norm = lambda m: float(np.sum(m.network.params[m.network.weight_mask] ** 2))  # noqa: E731
    assert weight_norm(shrunk) < 0.5 * weight_norm(plain)
    # integer weights act as repeated rows
    repeated = np.repeat(np.arange(100), weights.astype(int))
    twice = MLP(hidden=(6,), seed=0, dtype="float64")
    twice.fit(X_c[repeated], y_c[repeated], optimizer="lbfgs", epochs=30, l2=1.0)
    np.testing.assert_allclose(twice.network.params, shrunk.network.params, rtol=1e-6, atol=1e-8)


def test_refuses_dropout_and_options_it_would_ignore():
    X_c, y_c = make_circles(n_samples=50, random_state=0)
    with pytest.raises(ValueError, match=r"cannot train a network with dropout"):
        MLP(hidden=(4,), dropout=0.5).fit(X_c, y_c, optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"without batch_size, clip_norm; got batch_size=8"):
        MLP(hidden=(4,)).fit(X_c, y_c, optimizer="lbfgs", batch_size=8, clip_norm=1.0)
    network = Network([2, 3, 1], "relu", dtype="float64", rng=0)
    with pytest.raises(ValueError, match=r"max_fun"):
        minimize(network, get_loss("bce"), X_c, y_c[:, None] * 1.0, max_fun=0)


def test_budgets_end_the_run_without_convergence():
    X_c, y_c = make_circles(n_samples=100, noise=0.1, factor=0.5, random_state=3)
    network = Network([2, 16, 1], "tanh", dtype="float64", rng=0)
    Y = y_c[:, None].astype(float)
    result = minimize(network, get_loss("bce"), X_c, Y, max_iter=200, max_fun=7, tol=0.0)
    # SciPy checks the budget between line searches, so it may overshoot it by a few
    assert not result.converged and 7 <= result.n_evaluations <= 12 and result.n_iter < 7
    network = Network([2, 16, 1], "tanh", dtype="float64", rng=0)
    result = minimize(network, get_loss("bce"), X_c, Y, max_iter=3, tol=0.0)
    assert not result.converged and result.n_iter == 3 and len(result.losses) == 3
    assert result.losses == sorted(result.losses, reverse=True)  # each step descends


def test_a_fit_that_stops_early_without_converging_says_so():
    # A clipped cross-entropy is flat where the gradient is not: SciPy's line search finds
    # no lower loss after 25 iterations (status 2), which fit used to pass over in silence.
    X_x, y_x = make_xor(200, random_state=0)
    loss = {"name": "binary_crossentropy", "epsilon": 1e-2}
    model = MLP(hidden=(8,), seed=0, dtype="float32", loss=loss)
    with pytest.warns(UserWarning, match=r"L-BFGS stopped after (\d+) of 1000 iteration") as seen:
        model.fit(X_x, y_x, optimizer="lbfgs", epochs=1000)
    assert 0 < model.history.epochs < 1000
    assert f"after {model.history.epochs} of 1000" in str(seen[0].message)
    # a run that converges, or runs all its epochs, warns of nothing (warnings are errors)
    MLP(hidden=(8,), seed=0, dtype="float32").fit(X_x, y_x, optimizer="lbfgs", epochs=1000)
    MLP(hidden=(8,), seed=0, dtype="float32", loss=loss).fit(X_x, y_x, optimizer="lbfgs", epochs=10)


def test_a_failing_callback_closes_the_progress_bar_as_the_epoch_loop_does():
    # The bar stayed open: the next fit's bar was drawn a line lower, below a dead one.
    X_c, y_c = make_circles(n_samples=50, random_state=0)

    def fail(epoch):
        if epoch == 2:
            raise RuntimeError("callback failed")

    for optimizer in ("sgd", "lbfgs"):
        bar = ProgressLogger(epochs=10, verbose=1, print_every=0, delay=60)
        model = MLP(hidden=(4,), seed=0)
        with pytest.raises(RuntimeError, match="callback failed"):
            model.fit(
                X_c, y_c, epochs=10, optimizer=optimizer,
                callbacks=[bar, LambdaCallback(on_epoch_end=fail)],
            )  # fmt: skip
        assert bar.bar is None, optimizer


def test_an_error_or_ctrl_c_in_on_train_begin_ends_an_lbfgs_fit_as_the_epoch_loop():
    # L-BFGS called on_train_begin before its error handling: the bar stayed open after an
    # error, and Ctrl-C there propagated out of fit instead of ending it cleanly.
    X_c, y_c = make_circles(n_samples=50, random_state=0)

    def fail(logs):
        raise RuntimeError("setup failed")

    def interrupt(logs):
        raise KeyboardInterrupt

    for optimizer in ("sgd", "lbfgs"):
        bar = ProgressLogger(epochs=10, verbose=1, print_every=0, delay=60)
        failing = LambdaCallback(on_train_begin=fail)
        with pytest.raises(RuntimeError, match="setup failed"):
            MLP(hidden=(4,), seed=0).fit(
                X_c, y_c, epochs=10, optimizer=optimizer, callbacks=[bar, failing]
            )
        assert bar.bar is None, optimizer
        ended = []
        interrupting = LambdaCallback(on_train_begin=interrupt, on_train_end=ended.append)
        model = MLP(hidden=(4,), seed=0).fit(
            X_c, y_c, epochs=10, optimizer=optimizer, callbacks=[interrupting]
        )
        assert model.history.interrupted and model.history.epochs == 0, optimizer
        assert ended == [{}], optimizer


def test_a_callback_raising_stop_iteration_fails_the_fit_as_in_the_epoch_loop():
    # SciPy reads a StopIteration from its iteration callback as a request to stop: a
    # callback's own error (an iterator run out) ended the fit with a convergence warning.
    X_c, y_c = make_circles(n_samples=50, random_state=0)

    def fail(epoch):
        if epoch == 2:
            next(iter(()))

    kept = {}
    for optimizer in ("sgd", "lbfgs"):
        model = MLP(hidden=(4,), seed=0)
        failing = LambdaCallback(on_epoch_end=fail)
        with pytest.raises(StopIteration):
            model.fit(X_c, y_c, epochs=10, optimizer=optimizer, callbacks=[failing])
        assert model.history.epochs == 3, optimizer
        kept[optimizer] = model.network.params.copy()
    # the parameters of the iteration whose callback failed, as its history records
    again = MLP(hidden=(4,), seed=0).fit(X_c, y_c, epochs=3, optimizer="lbfgs")
    np.testing.assert_array_equal(kept["lbfgs"], again.network.params)


def test_lbfgs_on_a_memory_mapped_x_equals_it_in_memory(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    options = dict(optimizer="lbfgs", epochs=20)
    in_memory = MLP(hidden=(8,), seed=0, dtype="float64").fit(X, y, **options)
    from_disk = MLP(hidden=(8,), seed=0, dtype="float64").fit(mapped, y, **options)
    np.testing.assert_array_equal(from_disk.network.params, in_memory.network.params)


def test_lbfgs_refuses_a_batch_generator():
    def batches():
        yield np.zeros((4, 2)), np.array([0, 1, 0, 1])

    for optimizer in ("lbfgs", {"name": "lbfgs"}):  # the config ended in an AttributeError
        with pytest.raises(
            ValueError, match="optimizer='lbfgs' does not apply to a batch generator"
        ):
            MLP(hidden=(3,)).fit(batches, optimizer=optimizer, classes=[0, 1])


@pytest.mark.parametrize(
    ("settings", "options", "message"),
    [
        ({"dropout": 0.5}, {}, "dropout"),
        ({}, {"callbacks": "diagnostics"}, "Diagnostics"),
        ({}, {"callbacks": "checkpoint"}, "val_loss"),
        # L-BFGS has no learning rate to log: these were let through, built the model and
        # failed after its first iteration
        ({}, {"callbacks": "rate_checkpoint"}, "lr"),
        ({}, {"callbacks": "rate_stopping"}, "lr"),
    ],
)
def test_a_refused_lbfgs_fit_leaves_the_model_unbuilt(tmp_path, settings, options, message):
    from mlpzero.callbacks import Diagnostics, ModelCheckpoint

    made = {
        "diagnostics": [Diagnostics()],
        "checkpoint": [ModelCheckpoint(str(tmp_path / "m-{val_loss}.npz"))],
        "rate_checkpoint": [ModelCheckpoint(str(tmp_path / "m-{lr}.npz"))],
        "rate_stopping": [EarlyStopping(monitor="lr")],
    }
    options = {k: made.get(v, v) for k, v in options.items()}
    X, y = make_circles(n_samples=60, noise=0.1, factor=0.5, random_state=0)
    model = MLP(hidden=(4,), standardize=True, **settings)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, optimizer="lbfgs", epochs=3, **options)
    assert not model.built and model.standardizer_ is None and model.fit_config_ is None


@pytest.mark.parametrize("loss_name", ["categorical_crossentropy", "binary_crossentropy"])
def test_an_iterations_accuracy_is_its_parameters_and_takes_no_pass_of_its_own(
    monkeypatch, loss_name
):
    """The accuracy each iteration logs is the share of rows a forward pass at its
    parameters gets right (checked by one pass over all the rows, in a callback); it is
    counted from the evaluation that ended the line search, so the run makes no forward
    passes beyond its evaluations' when every iteration ends at its last evaluation."""
    from mlpzero.callbacks import Callback

    rng = np.random.default_rng(5)
    X_r = rng.normal(size=(40, 3))
    Y = TARGETS[loss_name][:23]
    Y = np.concatenate([Y, Y[:17]])
    network = Network([3, 8, Y.shape[1]], "tanh", dtype="float64", rng=0)
    labels = np.argmax(Y, axis=1) if Y.shape[1] > 1 else Y[:, 0] > 0.5

    class Oracle(Callback):
        checked = 0

        def on_epoch_end(self, epoch, logs=None):
            logits = network.predict_logits(X_r)  # one pass of all 40 rows
            if Y.shape[1] > 1:
                right = np.argmax(logits, axis=1) == labels
            else:
                right = (logits[:, 0] > 0) == labels
            assert logs["accuracy"] == np.mean(right)
            Oracle.checked += 1

    passes = []
    forward = Network.forward

    def counted(self, X, **options):
        passes.append(len(X))
        return forward(self, X, **options)

    monkeypatch.setattr(Network, "forward", counted)
    result = minimize(network, get_loss(loss_name), X_r, Y, max_iter=12, tol=0.0,
                      chunk_rows=16, callbacks=[Oracle()])  # fmt: skip
    assert Oracle.checked == result.n_iter > 5
    chunked = [rows for rows in passes if rows != len(X_r)]  # the oracle's passes are whole
    assert len(chunked) == 3 * result.n_evaluations  # 16 + 16 + 8 rows an evaluation


def _ctrl_c_at_evaluation(monkeypatch, at):
    """Make the ``at``-th evaluation of the objective raise KeyboardInterrupt; returns the
    real evaluation, to put back."""
    import mlpzero.lbfgs as lbfgs

    evaluate, calls = lbfgs.loss_and_gradient, [0]

    def interrupted(*args, **kwargs):
        calls[0] += 1
        if calls[0] == at:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(lbfgs, "loss_and_gradient", interrupted)
    return evaluate


def _circles_model():
    X_c, y_c = make_circles(n_samples=60, noise=0.1, factor=0.5, random_state=0)
    return X_c, y_c, MLP(hidden=(5,), seed=0, dtype="float64").build(X_c, y_c)


@pytest.mark.parametrize("interrupt_at", [1, 7])
def test_an_interrupted_run_keeps_the_parameters_of_its_last_iteration(monkeypatch, interrupt_at):
    """Ctrl-C (or any error) inside an evaluation left the parameters at the line search's
    trial point, which matches no iteration of the history; they are now the last
    iteration's (the starting point before the first)."""
    _ctrl_c_at_evaluation(monkeypatch, interrupt_at)
    X_c, y_c, model = _circles_model()
    start, seen = model.network.params.copy(), []
    record = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.network.params.copy()))
    with pytest.raises(KeyboardInterrupt):  # minimize's own default: Ctrl-C propagates
        minimize(model.network, model.loss_, X_c, np.c_[y_c].astype(float), max_iter=50,
                 callbacks=[record], history=model.history)  # fmt: skip
    assert model.history.epochs == len(seen) and not model.history.interrupted
    np.testing.assert_array_equal(model.network.params, seen[-1] if seen else start)


@pytest.mark.parametrize("interrupt_at", [1, 7])
def test_ctrl_c_ends_an_lbfgs_fit_as_it_ends_the_epoch_loop(monkeypatch, capsys, interrupt_at):
    """Ctrl-C ended MLP.fit(optimizer="lbfgs") with KeyboardInterrupt, where it ends the
    epoch loop cleanly: fit now returns, with the last iteration's parameters,
    ``history.interrupted`` set and ``on_train_end`` called."""
    import mlpzero.lbfgs as lbfgs

    evaluate = _ctrl_c_at_evaluation(monkeypatch, interrupt_at)
    X_c, y_c, model = _circles_model()
    start, seen, ended = model.network.params.copy(), [], []
    record = LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append(model.network.params.copy()),
        on_train_end=lambda logs: ended.append(logs),
    )
    assert model.fit(X_c, y_c, optimizer="lbfgs", epochs=50, callbacks=[record]) is model
    assert model.history.interrupted and model.history.epochs == len(seen)
    assert (interrupt_at == 1) == (not seen)
    np.testing.assert_array_equal(model.network.params, seen[-1] if seen else start)
    assert ended == [model.history.last_epoch()]
    assert "Training interrupted" in capsys.readouterr().err
    monkeypatch.setattr(lbfgs, "loss_and_gradient", evaluate)
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=2)
    assert not model.history.interrupted  # until the next fit, as in the epoch loop


def test_ctrl_c_just_after_an_iterations_metrics_leaves_history_and_weights_agreeing(
    monkeypatch,
):
    """Ctrl-C landing after an iteration's metrics were recorded, but before its point was
    kept as the one to go back to, put back the previous iteration's parameters and left
    this iteration in the history: the model claimed one epoch more than its weights had.
    The history now goes back with the weights."""
    from mlpzero.history import History

    X_c, y_c, model = _circles_model()
    _, _, expected = _circles_model()
    expected.fit(X_c, y_c, optimizer="lbfgs", epochs=2)
    record = History.append

    def interrupted_after_iteration_3(history, logs):
        record(history, logs)
        if history.epochs == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(History, "append", interrupted_after_iteration_3)
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=50)
    assert model.history.interrupted
    np.testing.assert_array_equal(model.network.params, expected.network.params)
    assert model.history.history == expected.history.history


def test_an_lbfgs_config_with_options_names_them():
    """{"name": "lbfgs", "maxiter": 5} was answered with "unknown optimizer 'lbfgs'", as if
    the name were wrong; the options are named instead."""
    X_c, y_c = make_circles(n_samples=30, random_state=0)
    model = MLP(hidden=(3,))
    with pytest.raises(
        ValueError, match=r"optimizer='lbfgs' takes no options.*'maxiter': 5.*epochs"
    ):
        model.fit(X_c, y_c, optimizer={"name": "lbfgs", "maxiter": 5})
    assert not model.built


@pytest.mark.parametrize(
    ("x_scale", "y_scale", "dtype"), [(1e10, 1e30, "float32"), (1e100, 1e150, "float64")]
)
def test_a_run_that_overflows_raises_and_keeps_finite_weights(x_scale, y_scale, dtype):
    """Targets far beyond the data's scale overflow the gradient (or the loss) of the very
    first step: the run ended without a word with NaN weights and a loss of inf in the
    history, where the epoch loop raises TrainingDivergedError. So does L-BFGS now, and the
    model keeps the weights of its last finite iteration (here the starting ones)."""
    from mlpzero.training import TrainingDivergedError

    rng = np.random.default_rng(0)
    X_big, y_big = rng.normal(size=(50, 3)) * x_scale, rng.normal(size=50) * y_scale
    model = MLP(hidden=(8,), seed=0, dtype=dtype).build(X_big, y_big)
    start = model.network.params.copy()
    with pytest.raises(TrainingDivergedError, match=r"L-BFGS .*NaN or infinite.*standardi"):
        model.fit(X_big, y_big, optimizer="lbfgs", epochs=20)
    np.testing.assert_array_equal(model.network.params, start)
    assert model.history.epochs == 0


def test_a_scipy_without_the_iteration_result_callback_is_named(monkeypatch):
    """SciPy before 1.11 calls the callback with the parameters alone, and the first
    iteration failed with "'numpy.ndarray' object has no attribute 'fun'"; scikit-learn
    1.6, which brings SciPy, accepts such a SciPy."""
    import scipy

    monkeypatch.setattr(scipy, "__version__", "1.10.1")
    X_c, y_c = make_circles(n_samples=30, random_state=0)
    model = MLP(hidden=(3,))
    with pytest.raises(ImportError, match=r"SciPy 1\.11 or later.*found 1\.10\.1"):
        model.fit(X_c, y_c, optimizer="lbfgs", epochs=2)
    assert not model.built  # refused before the model is built


def test_a_row_order_function_is_refused_as_an_option_lbfgs_would_ignore():
    """L-BFGS never called a row-order function given as shuffle, without a word; the
    epoch loop calls it every epoch, even for one full batch."""
    X_c, y_c = make_circles(n_samples=30, random_state=0)
    calls = []
    model = MLP(hidden=(3,))
    with pytest.raises(ValueError, match=r"without shuffle; got shuffle=<function"):
        model.fit(X_c, y_c, optimizer="lbfgs", epochs=2, shuffle=lambda order: calls.append(1))
    assert not model.built
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=2, shuffle=True)  # the default: no order
    model.fit(X_c, y_c, optimizer="lbfgs", epochs=2, shuffle=False)


def test_the_name_lbfgs_is_case_insensitive_as_every_name():
    """Names are case-insensitive ("Adam" is adam), but "LBFGS" was refused as an unknown
    optimizer whose list of known ones left lbfgs out."""
    X_c, y_c = make_circles(n_samples=40, noise=0.1, factor=0.5, random_state=0)
    runs = [
        MLP(hidden=(4,), seed=0).fit(X_c, y_c, optimizer=name, epochs=5)
        for name in ("lbfgs", "LBFGS", {"name": "L-BFGS".replace("-", "")})
    ]
    for run in runs[1:]:
        np.testing.assert_array_equal(run.network.params, runs[0].network.params)
        assert run.optimizer_ is None and run.fit_config_["optimizer"] == {"name": "lbfgs"}
