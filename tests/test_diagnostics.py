"""Diagnostics against hand-built networks: a dead layer, a saturated layer, a known gradient."""

import math

import numpy as np
import pytest

from mlpzero import Network
from mlpzero.diagnostics import dead_relu_share, gradient_norms, saturated_share, update_ratios


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


def test_diagnostics_need_a_forward_pass_and_a_valid_threshold():
    net = network([2, 3, 1], "relu")
    with pytest.raises(RuntimeError, match="call forward"):
        dead_relu_share(net)
    net.forward(np.ones((2, 2)))
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match=f"threshold must be in \\(0, 1\\), got {bad}"):
            saturated_share(net, threshold=bad)
