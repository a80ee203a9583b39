"""Diagnostics against hand-built networks: a dead layer, a saturated layer, a known gradient."""

import math
import pickle

import numpy as np
import pytest

from mlpzero import MLP, Network, load
from mlpzero.callbacks import Diagnostics
from mlpzero.datasets import make_moons
from mlpzero.diagnostics import (
    QUANTITIES,
    dead_relu_share,
    dead_relu_shares,
    gradient_norms,
    measure,
    saturated_share,
    saturated_shares,
    update_ratios,
)
from mlpzero.history import History


def network(sizes, activation, dtype="float64"):
    net = Network(sizes, activation, dtype=dtype, rng=0)
    net.params[...] = 0.0
    return net


def test_dead_relu_share_counts_units_silent_on_every_row():
    net = network([2, 4, 1], "relu")
    # Inputs are positive; units 0 and 2 get only negative pre-activations (dead), unit 1
    # is positive on one row only (alive), unit 3 on both.
    net.weights[0][...] = [[-1.0, -1.0], [1.0, -1.0], [-2.0, 0.0], [1.0, 1.0]]
    X = np.array([[1.0, 2.0], [3.0, 1.0]])
    net.forward(X)
    assert dead_relu_share(net) == 2 / 4
    net.biases[0][...] = [0.0, 0.0, 10.0, 0.0]  # unit 2 comes back to life on both rows
    net.forward(X)
    assert dead_relu_share(net) == 1 / 4


def test_dead_relu_share_counts_relu_layers_only():
    net = network([2, 3, 2, 1], ["relu", "tanh"])  # every weight 0: every ReLU unit is dead
    net.forward(np.ones((5, 2)))
    assert dead_relu_share(net) == 1.0  # the 3 ReLU units, not the 2 tanh units
    assert dead_relu_share(network([2, 3, 1], "tanh")) is None
    assert dead_relu_share(network([2, 1], "relu")) is None  # no hidden layer


def test_saturated_share_of_a_tanh_layer_by_hand():
    net = network([1, 2, 1], "tanh")
    net.weights[0][...] = [[10.0], [0.01]]  # unit 0 saturates for |x| > atanh(0.99)/10
    X = np.array([[-1.0], [0.1], [0.5], [2.0]])
    net.forward(X)
    # unit 0: tanh(-10), tanh(1), tanh(5), tanh(20): three beyond 0.99; unit 1 never.
    assert saturated_share(net) == 3 / 8
    assert saturated_share(net, threshold=0.99999) == 2 / 8  # tanh(5) = 0.99991 is not
    assert saturated_share(network([1, 2, 1], "relu")) is None


def test_saturated_sigmoid_follows_the_tanh_rule_at_half_the_input():
    # 2 sigmoid(z) - 1 = tanh(z / 2): a sigmoid layer with weights 2W saturates exactly
    # where a tanh layer with weights W does.
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 3)) * 3
    X = rng.standard_normal((50, 3))
    shares = []
    for activation, scale in (("tanh", 1.0), ("sigmoid", 2.0)):
        net = network([3, 6, 1], activation)
        net.weights[0][...] = W * scale
        net.forward(X)
        shares.append(saturated_share(net, threshold=0.9))
    assert 0 < shares[0] < 1
    assert shares[0] == shares[1]


def test_gradient_norms_of_a_known_gradient():
    net = network([2, 1], [])
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    net.forward(X)
    net.backward(np.array([[1.0], [0.5]]))  # dW = dZ^T X = [2.5, 4.0]
    assert gradient_norms(net) == [pytest.approx(math.hypot(2.5, 4.0), rel=1e-15)]


def test_gradient_norms_of_a_linear_two_layer_network_by_hand():
    rng = np.random.default_rng(1)
    net = Network([3, 4, 2], "identity", dtype="float64", rng=1)
    X, G = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    W1, W2 = net.weights[0].copy(), net.weights[1].copy()
    net.forward(X)
    net.backward(G)
    A1 = X @ W1.T  # identity activation, zero biases
    dW2 = G.T @ A1
    dW1 = (G @ W2).T @ X
    expected = [np.sqrt((dW1**2).sum()), np.sqrt((dW2**2).sum())]
    np.testing.assert_allclose(gradient_norms(net), expected, rtol=1e-12)


def test_gradient_norms_and_update_ratios_of_tiny_and_huge_float64_values():
    # A deep sigmoid network's first-layer gradient can fall below 1e-154, whose square
    # is 0 in float64; an exploding one beyond 1e154, whose square is infinite.
    net = Network([2, 2, 1], "sigmoid", dtype="float64", rng=0)
    net.weight_grads[0][...] = [[3e-170, 4e-170], [0.0, 0.0]]
    net.weight_grads[1][...] = [[3e170, -4e170]]
    norms = gradient_norms(net)
    assert norms == [pytest.approx(5e-170, rel=1e-15), pytest.approx(5e170, rel=1e-15)]
    net.weights[0][...] = [[3e-170, 4e-170], [0.0, 0.0]]
    net.weights[1][...] = [[3e170, -4e170]]
    before = net.params.copy()
    net.weights[0][...] *= 1.5
    net.weights[1][...] *= 1.25
    ratios = update_ratios(net, before)
    assert ratios == [pytest.approx(0.5, rel=1e-15), pytest.approx(0.25, rel=1e-15)]


def test_update_ratios_per_layer():
    net = Network([3, 4, 2], "relu", dtype="float32", rng=0)
    before = net.params.copy()
    net.weights[0][...] *= 1.5  # moved by half its size
    net.biases[1][...] += 100.0  # biases do not count
    ratios = update_ratios(net, before)
    assert ratios == [pytest.approx(0.5, rel=1e-6), 0.0]


def test_update_ratios_of_zero_weights_and_bad_input():
    net = network([2, 2, 1], "relu")
    before = net.params.copy()
    net.weights[0][0, 0] = 1.0
    assert update_ratios(net, before) == [math.inf, 0.0]
    with pytest.raises(ValueError, match=r"shape \(9,\), got shape \(3,\)"):
        update_ratios(net, np.zeros(3))


def test_update_ratios_name_a_before_that_holds_no_numbers():
    """Text of the right length failed inside np.isfinite ("ufunc 'isfinite' not
    supported for the input types"), naming neither before nor what it should hold."""
    net = network([2, 2, 1], "relu")
    with pytest.raises(ValueError, match=r"^before must hold numbers, the parameters: .*'a'"):
        update_ratios(net, ["a"] * net.n_params)
    assert update_ratios(net, [0.0] * net.n_params) == [0.0, 0.0]  # a list is a vector


def test_diagnostics_need_a_forward_pass_and_a_valid_threshold():
    net = network([2, 3, 1], "relu")
    with pytest.raises(RuntimeError, match="call forward"):
        dead_relu_share(net)
    net.forward(np.ones((2, 2)))
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match=f"threshold must be in \\(0, 1\\), got {bad}"):
            saturated_share(net, threshold=bad)


def test_a_forward_pass_without_rows_is_named():
    # no rows: the dead-unit maximum had no identity and the saturated share divided by 0
    for activation, share in (("relu", dead_relu_share), ("tanh", saturated_share)):
        net = network([2, 3, 1], activation)
        net.forward(np.ones((0, 2)))
        with pytest.raises(ValueError, match="last forward pass had no rows"):
            share(net)


# ---------------------------------------------------------------------- per layer
def test_dead_relu_shares_per_layer_with_a_layer_made_dead_on_purpose():
    net = network([2, 4, 3, 1], "relu")
    net.weights[0][...] = [[-1.0, -1.0], [1.0, -1.0], [-2.0, 0.0], [1.0, 1.0]]
    net.weights[1][...] = -1.0  # layer 2 sees non-negative inputs times -1, minus 1: dead
    net.biases[1][...] = -1.0
    net.forward(np.array([[1.0, 2.0], [3.0, 1.0]]))
    assert dead_relu_shares(net) == [2 / 4, 3 / 3]
    assert dead_relu_share(net) == (2 + 3) / (4 + 3)  # pooled over units, not averaged


def test_dead_relu_shares_mark_other_activations_none():
    net = network([2, 3, 2, 1], ["tanh", "relu"])
    net.forward(np.ones((4, 2)))
    assert dead_relu_shares(net) == [None, 1.0]  # zero weights: the ReLU layer is dead
    net = network([2, 3, 1], "leaky_relu")
    net.forward(np.ones((4, 2)))
    assert dead_relu_shares(net) == [None] and dead_relu_share(net) is None


def test_saturated_shares_per_layer_by_hand():
    net = network([1, 2, 2, 1], ["tanh", "sigmoid"])
    net.weights[0][...] = [[10.0], [0.01]]
    # Layer 2 (sigmoid), unit 0 gets z = 20 tanh(10 x), unit 1 gets z = 0 (a = 0.5).
    net.weights[1][...] = [[20.0, 0.0], [0.0, 0.0]]
    X = np.array([[-1.0], [0.1], [0.5], [2.0]])
    net.forward(X)
    # Layer 1, unit 0: tanh(-10), tanh(1), tanh(5), tanh(20): three beyond 0.99; unit 1
    # never: 3 of 8. Layer 2, unit 0: z = -20, 15.2, 20, 20, and 2 sigmoid(z) - 1 =
    # tanh(z / 2) is beyond 0.99 for all four; unit 1 never: 4 of 8.
    assert saturated_shares(net) == [3 / 8, 4 / 8]
    assert saturated_share(net) == (3 + 4) / 16


def test_measure_of_a_step_without_rows_has_no_unit_shares():
    """A rank of a distributed fit whose shares of the batches are empty (batch_size=1 on
    two ranks) runs no forward pass: measure, which the Diagnostics callback calls on
    every rank, raised "call forward(X) first" and the job aborted. The gradient and the
    update are the whole batch's; the unit shares, of no rows, are NaN."""
    for rows in (None, 0):
        net = network([2, 3, 2, 1], ["relu", "tanh"])
        if rows is not None:
            net.forward(np.ones((rows, 2)))
        values = measure(net, before=net.params.copy())
        assert values["gradient_norm"] == [0.0, 0.0, 0.0]
        assert values["update_ratio"] == [0.0, 0.0, 0.0]
        assert all(math.isnan(v) for v in values["dead_relu"] + values["saturated"])
        assert len(values["dead_relu"]) == len(values["saturated"]) == 2


def test_measure_returns_plain_numbers_per_layer():
    net = network([2, 3, 2, 1], ["relu", "tanh"])
    net.forward(np.ones((5, 2)))
    net.backward(np.full((5, 1), 0.2))
    before = net.params.copy()
    values = measure(net)
    assert list(values) == list(QUANTITIES)
    assert values["gradient_norm"] == gradient_norms(net)
    assert all(math.isnan(v) for v in values["update_ratio"])  # no `before`: unknown
    assert values["dead_relu"][0] == 1.0 and math.isnan(values["dead_relu"][1])
    assert math.isnan(values["saturated"][0]) and values["saturated"][1] == 0.0
    net.weights[2][...] = 1.0  # from 0: an infinite ratio; the other layers did not move
    assert measure(net, before)["update_ratio"] == [0.0, 0.0, math.inf]


# ---------------------------------------------------------------------- the callback
def test_diagnostics_callback_records_every_n_steps_across_fits():
    X, y = make_moons(120, noise=0.2, random_state=0)
    model = MLP(hidden=(6, 5), activation=["relu", "tanh"], seed=0)
    recorder = Diagnostics(every=4)
    model.fit(X, y, epochs=3, batch_size=40, callbacks=[recorder])  # 3 steps per epoch
    assert recorder.steps == 9
    records = model.history.diagnostics
    assert records["step"] == [1, 5, 9] and records["epoch"] == [0, 1, 2]
    model.fit(X, y, epochs=2, batch_size=40, callbacks=[recorder])  # steps 10 .. 15
    assert records["step"] == [1, 5, 9, 13] and records["epoch"][-1] == 4
    assert [len(v) for v in records["gradient_norm"]] == [3] * 4
    assert [len(v) for v in records["dead_relu"]] == [2] * 4
    assert all(math.isnan(v[1]) for v in records["dead_relu"])  # a tanh layer
    assert all(math.isnan(v[0]) for v in records["saturated"])  # a ReLU layer
    assert model.history.epochs == 5  # the per-epoch metrics are untouched


def test_diagnostics_callback_reused_on_another_model_records_into_its_history():
    """Without history=, the records go to the model being trained: a callback reused
    on a second model (or on a scikit-learn estimator's new model each fit) recorded
    into the first model's history and left the second's empty."""
    X, y = make_moons(60, noise=0.2, random_state=0)
    recorder = Diagnostics(every=1)
    first = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, callbacks=[recorder])
    second = MLP(hidden=(3,), seed=1).fit(X, y, epochs=3, callbacks=[recorder])
    assert first.history.diagnostics["step"] == [1, 2]
    assert second.history.diagnostics["step"] == [3, 4, 5]  # counted over every fit
    assert recorder.history is second.history
    given = History()
    recorder = Diagnostics(every=1, history=given)
    MLP(hidden=(3,), seed=0).fit(X, y, epochs=1, callbacks=[recorder])
    MLP(hidden=(3,), seed=1).fit(X, y, epochs=1, callbacks=[recorder])
    assert given.diagnostics["step"] == [1, 2]  # a history given is kept


def test_diagnostics_callback_first_step_matches_a_hand_computed_step():
    # Full batch plain SGD: step 1's gradient is the gradient at the initial weights on
    # all of X, and its update is -lr * grad, so the ratio is lr * |dW| / |W|.
    X, y = make_moons(80, noise=0.1, random_state=1)
    lr = 0.5
    model = MLP(hidden=(5,), seed=3, dtype="float64")
    model.fit(X, y, epochs=1, learning_rate=lr, callbacks=[Diagnostics(every=1)])
    oracle = MLP(hidden=(5,), seed=3, dtype="float64").build(X, y)
    W = [w.copy() for w in oracle.network.weights]
    Z1 = X @ W[0].T + oracle.network.biases[0]
    A1 = np.maximum(Z1, 0)
    p = 1 / (1 + np.exp(-(A1 @ W[1].T)))
    dZ2 = (p - y.reshape(-1, 1)) / len(X)
    dW2 = dZ2.T @ A1
    dW1 = ((dZ2 @ W[1]) * (Z1 > 0)).T @ X
    norms = [np.linalg.norm(dW1), np.linalg.norm(dW2)]
    record = model.history.diagnostics
    np.testing.assert_allclose(record["gradient_norm"][0], norms, rtol=1e-10)
    ratios = [lr * n / np.linalg.norm(w) for n, w in zip(norms, W, strict=True)]
    np.testing.assert_allclose(record["update_ratio"][0], ratios, rtol=1e-10)
    dead = np.count_nonzero(A1.max(axis=0) <= 0) / 5
    assert record["dead_relu"][0] == [dead]


def test_diagnostics_callback_checks_its_arguments():
    with pytest.raises(ValueError, match="every"):
        Diagnostics(every=0)
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\), got 2"):
        Diagnostics(threshold=2)
    for bad in ("0.5", None, True):  # not numbers: named, not a bare comparison TypeError
        with pytest.raises(ValueError, match=rf"threshold must be in \(0, 1\), got {bad!r}"):
            Diagnostics(threshold=bad)
    with pytest.raises(TypeError, match="history must be a History or None, got dict"):
        Diagnostics(history={})


def test_history_with_diagnostics_saves_its_epochs_only_and_pickles_whole(tmp_path):
    X, y = make_moons(60, noise=0.2, random_state=0)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2, callbacks=[Diagnostics(every=1)])
    assert model.history.diagnostics["step"] == [1, 2]
    loaded = load(model.save(tmp_path / "model.npz") or tmp_path / "model.npz")
    assert loaded.history.as_dict() == model.history.as_dict()
    assert loaded.history.diagnostics == {}  # documented: model files keep epochs only
    copy = pickle.loads(pickle.dumps(model))
    assert copy.history.diagnostics["step"] == [1, 2]
    np.testing.assert_array_equal(
        copy.history.diagnostics["gradient_norm"], model.history.diagnostics["gradient_norm"]
    )


def test_history_refuses_a_record_with_other_keys():
    history = History()
    history.append_diagnostics({"step": 1, "gradient_norm": [0.5, 0.25]})
    with pytest.raises(ValueError, match=r"keys \['gradient_norm', 'step'\], got \['step'\]"):
        history.append_diagnostics({"step": 2})


def test_diagnostics_callback_needs_a_model_with_a_network():
    recorder = Diagnostics()
    recorder.set_model(None)
    with pytest.raises(ValueError, match="needs the model being trained"):
        recorder.on_train_begin()


def test_a_model_instead_of_its_network_and_a_non_finite_before_are_refused():
    from mlpzero import MLP

    rng = np.random.default_rng(0)
    model = MLP(hidden=(3,)).fit(rng.standard_normal((20, 2)), np.arange(20) % 2, epochs=1)
    with pytest.raises(TypeError, match=r"network must be a Network .* got MLP"):
        gradient_norms(model)
    # measure read network.n_layers first: "'MLP' object has no attribute 'n_layers'"
    for before in (None, model.network.params.copy()):
        with pytest.raises(TypeError, match=r"network must be a Network .* got MLP"):
            measure(model, before)
    before = np.full(model.network.n_params, np.nan)
    with pytest.raises(ValueError, match="before must hold finite parameters"):
        update_ratios(model.network, before)


def test_plot_of_two_fits_records_draws_the_second_after_the_first():
    """A new Diagnostics counts its steps from 1 again: the second fit's records were
    drawn over the first's, each line jumping back from the last step to step 1."""
    from mlpzero.plotting import plot_diagnostics

    X, y = make_moons(40, noise=0.2, random_state=0)
    model = MLP(hidden=(4,), seed=0)
    model.fit(X, y, epochs=3, batch_size=10, callbacks=[Diagnostics(every=2)])
    model.fit(X, y, epochs=3, batch_size=10, callbacks=[Diagnostics(every=2)])
    assert model.history.diagnostics["step"] == [1, 3, 5, 7, 9, 11] * 2
    figure = plot_diagnostics(model)
    for ax in figure.axes[:2]:
        for line in ax.lines[:2]:
            steps = line.get_xdata()
            np.testing.assert_array_equal(steps, [1, 3, 5, 7, 9, 11, 12, 14, 16, 18, 20, 22])


def test_plot_of_a_hand_made_record_names_a_list_that_is_no_table_of_numbers():
    """plot_diagnostics takes a diagnostics dict too; ragged lists, text among the values
    or steps that are no numbers failed inside NumPy, naming no key."""
    from mlpzero.plotting import plot_diagnostics

    good = {
        "step": [1, 2],
        "epoch": [0, 0],
        "gradient_norm": [[1.0, 2.0], [1.0, 2.0]],
        "update_ratio": [[1e-3, 1e-3], [1e-3, 1e-3]],
        "dead_relu": [[0.0], [0.0]],
        "saturated": [[math.nan], [math.nan]],
    }
    for key, value, message in [
        ("gradient_norm", [[1.0, 2.0], [1.0]], r"diagnostics\['gradient_norm'\] must hold"),
        ("dead_relu", [[0.0], ["x"]], r"diagnostics\['dead_relu'\] must hold"),
        ("step", ["a", "b"], r"diagnostics\['step'\] must hold"),
    ]:
        with pytest.raises(ValueError, match=message):
            plot_diagnostics({**good, key: value})


def test_plot_of_records_measured_without_before_says_no_ratio_was_recorded():
    """measure(network) without ``before`` records NaN update ratios, as documented; the
    panel said "no layer of this kind", as if no layer had an update ratio."""
    from mlpzero.plotting import plot_diagnostics

    net = Network([2, 3, 1], "tanh", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((5, 2))
    history = History()
    for step in (1, 2):
        net.backward(np.ones((5, 1)) * net.forward(X))
        history.append_diagnostics({"step": step, "epoch": 0, **measure(net)})
    _, ratios, dead, _ = plot_diagnostics(history).axes
    assert [t.get_text() for t in ratios.texts] == ["no value recorded"]
    assert [t.get_text() for t in dead.texts] == ["no layer of this kind"]  # tanh: no ReLU
