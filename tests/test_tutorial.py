"""mlpzero.tutorial against the independent dictionary baseline in benchmarks/."""

import itertools
import re

import numpy as np
import pytest
from benchmarks import article_baseline as baseline

from mlpzero import tutorial as T
from mlpzero.network import Network
from mlpzero.training import TrainingDivergedError

ACTIVATION_LR = [("relu", 0.1), ("tanh", 0.1), ("sigmoid", 1.0)]


def xor_data(m=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m)) * 2
    Y = (X[0] * X[1] > 0).reshape(1, m).astype(int)
    return X, Y


def rel_diff(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


# ---------------------------------------------------------------------- activations
def test_activation_functions_match_their_formulas():
    z = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(T.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(T.tanh(z), np.tanh(z), rtol=0)
    np.testing.assert_array_equal(T.relu(z), np.maximum(0, z))
    a = T.sigmoid(z)
    np.testing.assert_allclose(T.sigmoid_derivative(a), a * (1 - a), rtol=1e-15)
    a = T.tanh(z)
    np.testing.assert_allclose(T.tanh_derivative(a), 1 - a**2, rtol=1e-15)
    np.testing.assert_array_equal(T.relu_derivative(z), (z > 0).astype(float))
    assert T.relu_derivative(np.array([0.0]))[0] == 0.0
    assert set(T.ACTIVATIONS) == {"sigmoid", "tanh", "relu"}
    for name, (fn, derivative) in T.ACTIVATIONS.items():
        assert fn is getattr(T, name)
        assert derivative is getattr(T, f"{name}_derivative")


def test_sigmoid_saturates_without_warnings():
    out = T.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


# ---------------------------------------------------------------------- set-up
def test_layer_sizes():
    X, Y = np.zeros((2, 7)), np.zeros((1, 7))
    assert T.layer_sizes(X, Y, [4, 3]) == [2, 4, 3, 1]
    assert T.layer_sizes(X, Y, []) == [2, 1]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("ls", [[2, 4, 3, 1], [2, 16, 8, 1], [5, 1]])
def test_init_params_equal_the_baseline_with_the_same_global_seed(activation, ls):
    np.random.seed(42)
    ours = T.init_params(ls, activation=activation)
    ours_next = np.random.rand()
    np.random.seed(42)
    theirs = baseline.init_params(ls, activation)
    theirs_next = np.random.rand()
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].shape == theirs[key].shape
        assert ours[key].dtype == np.float64
        np.testing.assert_array_equal(ours[key], theirs[key])
    # The global stream advanced exactly as the article's draws advance it.
    assert ours_next == theirs_next


def test_init_params_follow_the_articles_formula():
    # W = randn(n_l, n_{l-1}) * sqrt(factor / n_{l-1}), factor 2 for relu, zero biases.
    np.random.seed(42)
    expected_w1 = np.random.randn(4, 2) * np.sqrt(2.0 / 2)
    expected_w2 = np.random.randn(3, 4) * np.sqrt(2.0 / 4)
    np.random.seed(42)
    params = T.init_params([2, 4, 3, 1])
    np.testing.assert_array_equal(params["W1"], expected_w1)
    np.testing.assert_array_equal(params["W2"], expected_w2)
    assert params["W3"].shape == (1, 3)
    for key in ("b1", "b2", "b3"):
        assert not params[key].any()
    assert [params[f"b{i}"].shape for i in (1, 2, 3)] == [(4, 1), (3, 1), (1, 1)]


# ---------------------------------------------------------------------- the three steps
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_one_step_keys_shapes_and_values_match_the_baseline(activation):
    ls = [2, 5, 3, 1]
    X, Y = xor_data(m=40)
    np.random.seed(7)
    params = T.init_params(ls, activation)
    reference = {k: v.copy() for k, v in params.items()}

    A_out, cache = T.forward_propagation(params, ls, X, activation)
    ref_out, ref_cache = baseline.forward(reference, X, activation)
    assert A_out.shape == (1, 40)
    assert sorted(cache) == sorted(["A0", "Z1", "A1", "Z2", "A2", "Z3", "A3"])
    assert cache["A0"].shape == (2, 40)
    for layer, n in enumerate(ls[1:], start=1):
        assert cache[f"Z{layer}"].shape == (n, 40)
        assert cache[f"A{layer}"].shape == (n, 40)
    for key, value in ref_cache.items():
        np.testing.assert_allclose(cache[key], value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(A_out, ref_out, rtol=1e-12)
    assert A_out is cache["A3"]

    grads = T.backward_propagation(params, cache, ls, X, Y, activation)
    ref_grads = baseline.backward(reference, ref_cache, Y, activation)
    assert sorted(grads) == sorted(f"d{p}{i}" for p in ("W", "b", "Z") for i in (1, 2, 3))
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(ls), start=1):
        assert grads[f"dW{layer}"].shape == (n_out, n_in)
        assert grads[f"db{layer}"].shape == (n_out, 1)
        assert grads[f"dZ{layer}"].shape == (n_out, 40)
    for key, value in ref_grads.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-10, atol=1e-14)

    W1 = params["W1"]
    updated = T.update_params(params, grads, ls, 0.5)
    baseline.update(reference, ref_grads, 0.5)
    assert updated is params and updated["W1"] is W1  # in place, like the article
    for key, value in reference.items():
        np.testing.assert_allclose(params[key], value, rtol=1e-12, atol=1e-15)


def test_backward_reads_the_hidden_activations_from_the_cache():
    ls = [2, 4, 1]
    X, Y = xor_data(m=10)
    np.random.seed(3)
    params = T.init_params(ls, "tanh")
    _, cache = T.forward_propagation(params, ls, X, "tanh")
    cache["A1"] = np.zeros_like(cache["A1"])  # then dW2 = dZ2 A1^T / m must vanish
    grads = T.backward_propagation(params, cache, ls, X, Y, "tanh")
    np.testing.assert_array_equal(grads["dW2"], np.zeros((1, 4)))


def test_the_tutorial_runs_on_the_engine(monkeypatch):
    from mlpzero import kernels

    # On NumPy the steps are separate calls to count (numba runs them in one kernel call).
    monkeypatch.setattr(kernels, "_backend", "numpy")
    calls = {"forward": 0, "backward": 0}
    forward, backward = Network.forward, Network.backward

    def counting_forward(self, X):
        calls["forward"] += 1
        return forward(self, X)

    def counting_backward(self, dlogits):
        calls["backward"] += 1
        return backward(self, dlogits)

    monkeypatch.setattr(Network, "forward", counting_forward)
    monkeypatch.setattr(Network, "backward", counting_backward)
    X, Y = xor_data(m=20)
    np.random.seed(0)
    T.multi_layer_neural_network(X, Y, [3], num_epochs=5, learning_rate=0.1)
    assert calls == {"forward": 5, "backward": 5}


# ---------------------------------------------------------------------- training
@pytest.mark.parametrize(("activation", "lr"), ACTIVATION_LR)
def test_training_equals_the_baseline_trained_weights(activation, lr, backend):
    X, Y = xor_data(m=300)
    np.random.seed(42)
    params, ls = T.multi_layer_neural_network(
        X, Y, n_hs=[8, 4], num_epochs=600, learning_rate=lr, hidden_activation=activation
    )
    np.random.seed(42)
    expected, expected_ls = baseline.multi_layer_neural_network(
        X, Y, n_hs=[8, 4], num_epochs=600, learning_rate=lr, hidden_activation=activation
    )
    assert ls == expected_ls == [2, 8, 4, 1]
    assert list(params) == list(expected)
    for key, value in expected.items():
        assert params[key].shape == value.shape
        assert rel_diff(params[key], value) < 1e-7, key
    # Training moved the weights: the comparison is not of two initial states.
    np.random.seed(42)
    initial = baseline.init_params(ls, activation)
    assert rel_diff(params["W1"], initial["W1"]) > 1e-2


def test_the_articles_linear_experiment_reaches_100_percent(capsys, backend):
    # The article's sanity check, seeded like the article.
    np.random.seed(42)
    X = np.random.randn(2, 100)
    Y = (X[0] + X[1] > 0).reshape(1, 100).astype(int)
    params, ls = T.multi_layer_neural_network(
        X, Y, n_hs=[4, 3], num_epochs=2000, learning_rate=0.1, print_cost=True
    )
    preds = T.predict(params, ls, X)
    assert preds.shape == (1, 100) and preds.dtype == bool
    assert np.mean(preds == Y) == 1.0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Epoch {e}" for e in range(0, 2000, 200)]
    # The first printed cost is the cost of the initial weights, as the baseline computes it.
    np.random.seed(42)
    np.random.randn(2, 100)
    initial = baseline.init_params(ls, "relu")
    first = baseline.cost(baseline.forward(initial, X)[0], Y)
    assert lines[0] == f"Epoch 0: cost = {first:.4f}"


def test_training_runs_in_calls_that_ctrl_c_can_interrupt(monkeypatch):
    # A compiled call cannot be interrupted: 1,000,000 epochs once ran as one call, and
    # Ctrl-C waited for all of them (some 20 s on the article's XOR network).
    from mlpzero import kernels
    from mlpzero.training import compiled_call_epochs

    spans = []

    def pretend(network, X, Y, learning_rate, epochs, link):
        spans.append(epochs)
        return epochs  # every epoch done, parameters untouched: only the calls are seen

    monkeypatch.setattr(kernels, "gradient_descent", pretend)
    X, Y = xor_data(m=1000)
    for print_cost in (False, True):
        spans.clear()
        np.random.seed(0)
        T.multi_layer_neural_network(X, Y, [8, 4], 1_000_000, 0.1, print_cost=print_cost)
        network = Network([2, 8, 4, 1], "relu", dtype="float64")
        largest = compiled_call_epochs(network, 1000)
        assert sum(spans) == 1_000_000
        assert max(spans) <= largest < 10_000, (largest, max(spans))
        if print_cost:
            assert max(spans) <= 200


def test_a_diverging_run_stops_with_a_clear_error(backend):
    X, Y = xor_data(m=50)
    X = X * 1e3  # large inputs and a huge rate: the weights overflow within a few epochs
    np.random.seed(0)
    with pytest.raises(TrainingDivergedError, match=r"diverged in epoch \d+.*learning_rate=1e\+07"):
        T.multi_layer_neural_network(X, Y, [4], num_epochs=200, learning_rate=1e8)


def test_a_run_diverging_on_huge_inputs_names_their_scale(backend):
    # However low the rate, inputs of 1e200 overflow: the message once only ever asked
    # for a learning rate ten times lower.
    X, Y = xor_data(m=50)
    np.random.seed(0)
    message = r"learning_rate=1e-09, or rescale X, whose largest \|X\| is \d\.\d+e\+200"
    with pytest.raises(TrainingDivergedError, match=message):
        T.multi_layer_neural_network(X * 1e200, Y, [4], num_epochs=5, learning_rate=1e-8)
    np.random.seed(0)  # inputs of a usual scale are not blamed
    with pytest.raises(TrainingDivergedError) as error:
        T.multi_layer_neural_network(X, Y, [4], num_epochs=200, learning_rate=1e12)
    assert "rescale" not in str(error.value)


@pytest.mark.parametrize(
    "options",
    [{"learning_rate": -1.0}, {"learning_rate": "fast"}, {"num_epochs": 0}, {"bad_label": 2.0}],
)
def test_a_refused_call_leaves_the_global_seed_sequence_alone(options):
    X, Y = xor_data(m=10)
    Y = Y.astype(float)
    if "bad_label" in options:
        Y[0, 0] = options.pop("bad_label")
    np.random.seed(7)
    with pytest.raises((ValueError, TypeError)):
        T.multi_layer_neural_network(X, Y, [3], **{"num_epochs": 5, **options})
    after = np.random.rand()
    np.random.seed(7)
    assert after == np.random.rand()  # nothing was drawn by the refused call


def test_print_cost_is_silent_by_default(capsys):
    X, Y = xor_data(m=20)
    T.multi_layer_neural_network(X, Y, [3], num_epochs=401, learning_rate=0.1)
    assert capsys.readouterr().out == ""


def test_predict_returns_booleans_of_shape_1_by_m():
    X, _ = xor_data(m=33)
    np.random.seed(1)
    params = T.init_params([2, 4, 1])
    preds = T.predict(params, [2, 4, 1], X)
    assert preds.dtype == bool and preds.shape == (1, 33)
    A_out, _ = T.forward_propagation(params, [2, 4, 1], X)
    np.testing.assert_array_equal(preds, A_out > 0.5)


def test_plot_decision_boundary_returns_a_figure(tmp_path):
    X, Y = xor_data(m=50)
    np.random.seed(2)
    params, ls = T.multi_layer_neural_network(X, Y, [4], num_epochs=50, learning_rate=0.1)
    path = tmp_path / "boundary.png"
    figure = T.plot_decision_boundary(T.predict, params, ls, X, Y, path=path)
    assert figure.axes and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The article colours the plane by predict's class (0 or 1), not by a probability: a
    # scale labelled P(y = 1) would read as a fully confident model everywhere.
    scale = figure.axes[-1]
    assert scale is not figure.axes[0]
    assert scale.get_ylabel() == "predicted class"
    assert [float(t) for t in scale.get_yticks()] == [0.0, 1.0]


def test_plot_decision_boundary_describes_x_in_the_articles_layout():
    # X is (2, m) here; the error described the transposed array, so X of shape (50, 2)
    # was told it "must have 2 columns", which it has.
    X, Y = xor_data(m=50)
    np.random.seed(2)
    params, ls = T.multi_layer_neural_network(X, Y, [4], num_epochs=5, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"X must have 2 rows .* got shape \(50, 2\), which"):
        T.plot_decision_boundary(T.predict, params, ls, X.T, Y)
    X3 = np.vstack([X, X[:1]])
    with pytest.raises(ValueError, match=r"X must have 2 rows .* got shape \(3, 50\)$"):
        T.plot_decision_boundary(T.predict, params, [3, 4, 1], X3, Y)
    with pytest.raises(ValueError, match=r"Y must hold one label per example, shape \(1, 50\)"):
        T.plot_decision_boundary(T.predict, params, ls, X, Y[:, :10])


def test_plot_decision_boundary_refuses_a_network_of_two_outputs_by_name():
    # Its predict gives (2, n) classes, which failed on a reshape of 2n values into n.
    X, Y = xor_data(m=30)
    np.random.seed(0)
    params, ls = T.multi_layer_neural_network(
        X, np.vstack([Y, 1 - Y]), [4], num_epochs=2, learning_rate=0.1
    )
    assert ls == [2, 4, 2]
    with pytest.raises(ValueError, match=r"predict must give one class per example.*\(2, "):
        T.plot_decision_boundary(T.predict, params, ls, X, Y)


# ---------------------------------------------------------------------- errors
def test_bad_arguments_raise_clear_errors():
    X, Y = xor_data(m=10)
    params = T.init_params([2, 3, 1])
    with pytest.raises(ValueError, match="hidden_activation"):
        T.forward_propagation(params, [2, 3, 1], X, "softplus")
    with pytest.raises(ValueError, match="activation must be one of"):
        T.init_params([2, 3, 1], activation="swish")
    with pytest.raises(ValueError, match="X has 3 rows"):
        T.forward_propagation(params, [2, 3, 1], np.zeros((3, 10)))
    with pytest.raises(ValueError, match="W2"):
        T.forward_propagation({"W1": params["W1"], "b1": params["b1"]}, [2, 3, 1], X)
    with pytest.raises(ValueError, match=r"parameters\['W1'\] has shape"):
        T.forward_propagation({**params, "W1": np.zeros((3, 5))}, [2, 3, 1], X)
    with pytest.raises(ValueError, match="Y must have one column per example"):
        T.multi_layer_neural_network(X, Y[:, :5], [3], num_epochs=1)
    with pytest.raises(ValueError, match="output_activation"):
        T.multi_layer_neural_network(X, Y, [3], num_epochs=1, output_activation="tanh")
    with pytest.raises(ValueError, match="2-D"):
        T.layer_sizes(X[0], Y, [3])


@pytest.mark.parametrize("short", [[2, 3], [2, 3, 4]])
def test_layer_sizes_shorter_than_the_parameters_are_refused(short):
    # [2, 3] once ran only W1 and the sigmoid, a (3, m) "prediction" that compared with a
    # (1, m) Y by broadcasting; update_params changed only the first layers
    X, Y = xor_data(m=10)
    params = T.init_params([2, 3, 4, 1])
    before = {key: value.copy() for key, value in params.items()}
    grads = {key: np.ones_like(value) for key, value in params.items()}
    grads = {f"d{key}": value for key, value in grads.items()}
    missing = f"'W{len(short)}'"
    for call in (
        lambda: T.predict(params, short, X),
        lambda: T.forward_propagation(params, short, X),
        lambda: T.backward_propagation(params, {}, short, X, Y),
        lambda: T.update_params(params, grads, short, 0.1),
    ):
        with pytest.raises(ValueError, match=f"parameters has {missing}, a layer beyond"):
            call()
    for key, value in before.items():
        np.testing.assert_array_equal(params[key], value)


def test_one_dimensional_labels_and_inputs_are_told_how_to_reshape():
    # Y = y.reshape(1, -1) forgotten was described as "rows are features"
    X, Y = xor_data(m=10)
    with pytest.raises(ValueError, match=r"rows are labels .*one row of labels is Y\.reshape"):
        T.multi_layer_neural_network(X, Y[0], [3], num_epochs=1)
    params = T.init_params([2, 3, 1])
    with pytest.raises(ValueError, match=r"rows are features.*one example is X\.reshape\(-1, 1\)"):
        T.predict(params, [2, 3, 1], X[:, 0])


def test_an_activation_added_to_the_dispatcher_is_refused_for_hidden_layers(monkeypatch):
    # The engine computes the hidden layers: a leaky ReLU of slope 0.3 put in ACTIVATIONS
    # once trained silently with the engine's own, of slope 0.01.
    X, Y = xor_data(m=20)
    leaky = (lambda z: np.where(z > 0, z, 0.3 * z), lambda Z: np.where(Z > 0, 1.0, 0.3))
    monkeypatch.setitem(T.ACTIVATIONS, "leaky_relu", leaky)
    message = r"ACTIVATIONS\['leaky_relu'\] is not the tutorial's own pair"
    with pytest.raises(ValueError, match=message):
        T.multi_layer_neural_network(X, Y, [3], 5, 0.1, hidden_activation="leaky_relu")
    params = T.init_params([2, 3, 1])
    with pytest.raises(ValueError, match=message):
        T.forward_propagation(params, [2, 3, 1], X, "leaky_relu")
    with pytest.raises(ValueError, match=message):
        T.init_params([2, 3, 1], "leaky_relu")
    # At the output the tutorial applies the dictionary's function itself.
    A, cache = T.forward_propagation(params, [2, 3, 1], X, "relu", "leaky_relu")
    np.testing.assert_array_equal(A, leaky[0](cache["Z2"]))
    # A replaced built-in entry is refused too; the same pair put back is accepted.
    monkeypatch.setitem(T.ACTIVATIONS, "relu", leaky)
    with pytest.raises(ValueError, match=r"ACTIVATIONS\['relu'\] is not"):
        T.predict(params, [2, 3, 1], X)
    T.ACTIVATIONS["relu"] = (T.relu, T.relu_derivative)
    assert T.predict(params, [2, 3, 1], X).shape == (1, 20)


def test_update_params_refuses_a_gradient_of_another_shape_than_its_parameter():
    # a transposed dW1 (3, 2) for W1 (2, 3) was reshaped into W1's shape: a scrambled
    # step, where the article's W - lr * dW fails on the shapes
    ls = [3, 2, 1]
    np.random.seed(0)
    params = T.init_params(ls)
    before = {key: value.copy() for key, value in params.items()}
    grads = {f"d{key}": np.ones_like(value) for key, value in params.items()}
    for key, bad in (("dW1", np.ones((3, 2))), ("db1", np.ones((1, 2))), ("dW2", np.ones(2))):
        shape = re.escape(str(bad.shape))
        with pytest.raises(ValueError, match=rf"grads\['{key}'\] has shape {shape}, expected"):
            T.update_params(params, {**grads, key: bad}, ls, 0.1)
        for name, value in before.items():  # refused before any parameter moved
            np.testing.assert_array_equal(params[name], value)


def test_update_params_refuses_parameters_it_cannot_update_in_place():
    """Integer weights (written by hand) were updated by truncating every new value to an
    integer, without a word; the article's W -= lr * dW fails on them. A list, which has
    no array to write into, failed with "list indices must be integers"."""
    ls = [2, 2, 1]
    params = {
        "W1": np.array([[1, 0], [0, 2]]), "b1": np.zeros((2, 1)),
        "W2": np.array([[1.0, -1.0]]), "b2": np.zeros((1, 1)),
    }  # fmt: skip
    grads = {f"d{key}": np.full(np.shape(value), 0.25) for key, value in params.items()}
    with pytest.raises(TypeError, match=r"parameters\['W1'\] must be a float NumPy array.*int64"):
        T.update_params(params, grads, ls, 1.0)
    np.testing.assert_array_equal(params["W1"], [[1, 0], [0, 2]])
    np.testing.assert_array_equal(params["b1"], np.zeros((2, 1)))  # nothing moved
    as_lists = {**params, "W1": [[1.0, 0.0], [0.0, 2.0]]}
    with pytest.raises(TypeError, match=r"parameters\['W1'\] must be a float NumPy array.*list"):
        T.update_params(as_lists, grads, ls, 1.0)
    floats = {key: np.asarray(value, dtype=float) for key, value in params.items()}
    T.update_params(floats, grads, ls, 1.0)
    np.testing.assert_array_equal(floats["W1"], [[0.75, -0.25], [-0.25, 1.75]])


def test_update_params_refuses_a_read_only_parameter_before_changing_any():
    # A read-only W2 (loaded with mmap_mode="r", say) once failed only after W1 and b1
    # had been updated, leaving the dictionary half a step ahead.
    params = T.init_params([2, 3, 1])
    grads = {f"d{key}": np.full(value.shape, 0.25) for key, value in params.items()}
    params["W2"].setflags(write=False)
    before = {key: value.copy() for key, value in params.items()}
    with pytest.raises(ValueError, match=r"parameters\['W2'\] is a read-only array"):
        T.update_params(params, grads, [2, 3, 1], 0.1)
    for key, value in before.items():
        np.testing.assert_array_equal(params[key], value)


def test_a_label_array_of_the_wrong_shape_is_described_by_its_columns_and_rows():
    X, Y = xor_data(m=50)
    # rows for examples, as elsewhere in NumPy: the article wants one column per example
    with pytest.raises(ValueError) as error:
        T.multi_layer_neural_network(X, Y.T, [3], num_epochs=1)
    message = str(error.value)
    assert "(50, 50)" not in message
    assert message == (
        "Y must have one column per example: shape (n_outputs, 50), as X has 50 columns; "
        "got shape (50, 1), which looks transposed: pass Y.T"
    )
    with pytest.raises(ValueError, match=r"shape \(n_outputs, 50\), .* got shape \(1, 5\)$"):
        T.multi_layer_neural_network(X, Y[:, :5], [3], num_epochs=1)
    # with the layer sizes given, the rows are known too
    params = T.init_params([2, 3, 1])
    _, cache = T.forward_propagation(params, [2, 3, 1], X)
    with pytest.raises(ValueError, match=r"^Y has 2 rows, but the output layer ls\[-1\] has 1"):
        T.backward_propagation(params, cache, [2, 3, 1], X, np.vstack([Y, Y]))
    with pytest.raises(ValueError, match=r"got shape \(50, 1\), which looks transposed"):
        T.backward_propagation(params, cache, [2, 3, 1], X, Y.T)


def test_examples_as_rows_in_x_are_named_as_x_transposed():
    """X with one row per example (scikit-learn's layout) made the label check blame Y,
    which was right: "Y must have one column per example: shape (n_outputs, 2), as X has 2
    columns". X is named, and so are both when both have the rows of examples."""
    X, Y = xor_data(m=50)
    with pytest.raises(ValueError, match=r"^X has shape \(50, 2\).*one column per example.*"
                       r"Y has 50 columns.*pass X\.T$"):  # fmt: skip
        T.multi_layer_neural_network(X.T, Y, [3], num_epochs=1)
    with pytest.raises(ValueError, match=r"^X and Y have one row per example \(shapes \(50, 2\) "
                       r"and \(50, 1\)\).*pass X\.T and Y\.T$"):  # fmt: skip
        T.multi_layer_neural_network(X.T, Y.T, [3], num_epochs=1)
    params = T.init_params([2, 3, 1])
    with pytest.raises(ValueError, match=r"^X has 50 rows \(features\), but ls\[0\] is 2: "
                       r"X has shape \(50, 2\), which looks transposed: pass X\.T$"):  # fmt: skip
        T.predict(params, [2, 3, 1], X.T)


@pytest.mark.parametrize(
    "num_epochs, error, message",
    [
        (0, ValueError, "num_epochs must be >= 1, got 0"),
        (-5, ValueError, "num_epochs must be >= 1, got -5"),
        (2.5, TypeError, "num_epochs must be an integer, got float 2.5"),
        ("10", TypeError, "num_epochs must be an integer, got str '10'"),
    ],
)
def test_num_epochs_must_be_a_positive_integer(num_epochs, error, message):
    X, Y = xor_data(m=10)
    with pytest.raises(error, match=message):
        T.multi_layer_neural_network(X, Y, [3], num_epochs=num_epochs)


@pytest.mark.parametrize(
    "n_hs, error, message",
    [
        ([-2], ValueError, r"n_hs\[0\] must be >= 1, got -2"),
        ([4, 0], ValueError, r"n_hs\[1\] must be >= 1, got 0"),
        ([2.7], TypeError, r"n_hs\[0\] must be an integer, got float 2.7"),
        ("ab", TypeError, r"n_hs must be a list of hidden layer sizes.*got str 'ab'"),
        (4, TypeError, r"n_hs must be a list of hidden layer sizes.*got int 4"),
    ],
)
def test_hidden_sizes_must_be_positive_integers(n_hs, error, message):
    X, Y = np.zeros((2, 7)), np.zeros((1, 7))
    with pytest.raises(error, match=message):
        T.layer_sizes(X, Y, n_hs)
    with pytest.raises(error, match=message):
        T.multi_layer_neural_network(X, Y, n_hs, num_epochs=1)


@pytest.mark.parametrize("bad", [2.0, -1.0, 0.5])
def test_labels_must_be_zero_or_one(bad):
    X, Y = xor_data(m=10)
    Y = Y.astype(float)
    Y[0, 3] = bad
    with pytest.raises(ValueError, match=rf"Y must hold binary labels 0 and 1.*\[{bad}\]"):
        T.multi_layer_neural_network(X, Y, [3], num_epochs=1)
    params = T.init_params([2, 3, 1])
    _, cache = T.forward_propagation(params, [2, 3, 1], X)
    with pytest.raises(ValueError, match="Y must hold binary labels 0 and 1"):
        T.backward_propagation(params, cache, [2, 3, 1], X, Y)


def test_backward_refuses_a_cache_from_another_output_activation():
    X, Y = xor_data(m=10)
    ls = [2, 3, 1]
    params = T.init_params(ls)
    _, cache = T.forward_propagation(params, ls, X, output_activation="tanh")
    with pytest.raises(ValueError, match=r"cache\['A2'\] is not sigmoid.*assumes the sigmoid"):
        T.backward_propagation(params, cache, ls, X, Y)
    _, cache = T.forward_propagation(params, ls, X, output_activation="sigmoid")
    assert set(T.backward_propagation(params, cache, ls, X, Y)) >= {"dW1", "dW2"}


@pytest.mark.parametrize(
    "derivative, A, message",
    [
        (T.sigmoid_derivative, [0.5, 1e300], r"sigmoid outputs, in \[0, 1\]; got 1e\+300"),
        (T.sigmoid_derivative, [0.5, 1e300], r"got 1e\+300 at index \(1,\)$"),
        (T.sigmoid_derivative, -1e-3, r"A must be sigmoid outputs, in \[0, 1\]; got -0.001$"),
        (T.sigmoid_derivative, [[0.2, np.nan]], r"got nan at index \(0, 1\)"),
        (T.tanh_derivative, [1e300], r"A must be tanh outputs, in \[-1, 1\]; got 1e\+300"),
        (T.tanh_derivative, [-1.5], r"A must be tanh outputs, in \[-1, 1\]; got -1.5"),
    ],
)  # fmt: skip
def test_derivatives_refuse_values_their_activation_cannot_output(derivative, A, message):
    with pytest.raises(ValueError, match=message):
        derivative(A)


def test_derivatives_at_the_ends_of_their_range():
    np.testing.assert_array_equal(T.sigmoid_derivative([0.0, 0.5, 1.0]), [0.0, 0.25, 0.0])
    np.testing.assert_array_equal(T.tanh_derivative([-1.0, 0.0, 1.0]), [0.0, 1.0, 0.0])


def test_derivatives_of_one_number():
    assert T.sigmoid_derivative(0.5) == 0.25
    assert T.tanh_derivative(0.5) == 0.75
    assert T.relu_derivative(0.5) == 1.0


def test_plot_decision_boundary_titles_the_accuracy_of_one_class_labels():
    X, _ = xor_data(m=30)
    Y = np.ones((1, 30), dtype=int)
    np.random.seed(0)
    params, ls = T.multi_layer_neural_network(X, Y, [3], num_epochs=200, learning_rate=0.1)
    assert np.mean(T.predict(params, ls, X) == Y) == 1.0
    figure = T.plot_decision_boundary(T.predict, params, ls, X, Y)
    assert figure.axes[0].get_title() == "accuracy 100.0%"


def test_print_cost_prints_the_articles_cost_for_two_outputs_and_saturated_outputs(capsys):
    # The article prints -np.mean(...) over every entry of Y, with logs of A + 1e-15.
    rng = np.random.default_rng(1)
    small = rng.standard_normal((2, 50))
    signs = np.vstack([small[0] > 0, small[1] > 0]).astype(int)
    large = rng.standard_normal((2, 50)) * 1e3  # outputs of exactly 0 or 1
    coin = (rng.random((1, 50)) > 0.5).astype(int)
    for X, Y in ((small, signs), (large, coin)):
        np.random.seed(3)
        T.multi_layer_neural_network(X, Y, [4], num_epochs=1, learning_rate=1e-3, print_cost=True)
        np.random.seed(3)
        initial = baseline.init_params(T.layer_sizes(X, Y, [4]), "relu")
        with np.errstate(over="ignore"):
            expected = baseline.cost(baseline.forward(initial, X)[0], Y)
        assert capsys.readouterr().out == f"Epoch 0: cost = {expected:.4f}\n"
