"""The shared base of activations and losses: config, repr, equality and one hash rule."""

import numpy as np
import pytest

from mlpzero import activations, losses
from mlpzero.components import Component

# The configs as model files store them (a loss's only when a hyper-parameter is not the
# default; otherwise the file names it): this format must not change.
ACTIVATION_CONFIGS = {
    "sigmoid": {"name": "sigmoid"},
    "tanh": {"name": "tanh"},
    "relu": {"name": "relu"},
    "leaky_relu": {"name": "leaky_relu", "alpha": 0.01},
    "identity": {"name": "identity"},
}
LOSS_CONFIGS = {
    "binary_crossentropy": {"name": "binary_crossentropy", "epsilon": 0.0},
    "categorical_crossentropy": {"name": "categorical_crossentropy", "epsilon": 0.0},
    "squared_error": {"name": "squared_error"},
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_CONFIGS))
def test_activation_config_format_and_round_trip(name):
    activation = activations.get(name)
    assert activation.config == ACTIVATION_CONFIGS[name]
    rebuilt = activations.get(ACTIVATION_CONFIGS[name])
    assert rebuilt == activation and hash(rebuilt) == hash(activation)
    assert rebuilt is not activation


@pytest.mark.parametrize("name", sorted(LOSS_CONFIGS))
def test_loss_config_format_and_round_trip(name):
    loss = losses.get(name)
    assert loss.config == LOSS_CONFIGS[name]
    rebuilt = losses.get(LOSS_CONFIGS[name])
    assert rebuilt == loss and hash(rebuilt) == hash(loss)


def test_reprs_show_the_hyperparameters():
    assert repr(activations.LeakyReLU(0.2)) == "LeakyReLU(alpha=0.2)"
    assert repr(activations.ReLU()) == "ReLU()"
    assert repr(losses.SquaredError()) == "SquaredError()"
    assert repr(losses.BinaryCrossEntropy(1e-7)) == "BinaryCrossEntropy(epsilon=1e-07)"


def test_equality_follows_the_config_and_hash_follows_equality():
    assert activations.LeakyReLU(0.2) == activations.LeakyReLU(0.2)
    assert activations.LeakyReLU(0.2) != activations.LeakyReLU(0.3)
    assert activations.ReLU() != activations.Tanh()
    assert losses.SquaredError() != losses.BinaryCrossEntropy()
    # a set keeps one of each config
    found = {activations.LeakyReLU(0.2), activations.LeakyReLU(0.2), activations.ReLU()}
    assert found == {activations.LeakyReLU(0.2), activations.ReLU()}
    assert len({losses.SquaredError(), losses.get("mse"), losses.get("bce")}) == 2


def test_different_kinds_never_compare_equal():
    class Echo(Component):
        kind = "other"
        name = "relu"

    assert Echo().config == activations.ReLU().config
    assert Echo() != activations.ReLU() and activations.ReLU() != Echo()
    assert activations.ReLU() != "relu" and activations.ReLU() != {"name": "relu"}


def test_different_classes_with_one_config_never_compare_equal():
    # A user's activations that keep the inherited name have one config; a subclass of a
    # built-in keeps the built-in's. Each computes its own function: none may stand for
    # another (in a set, a cache or an estimator's parameters).
    class Square(activations.Activation):
        def __call__(self, z, out=None):
            return np.multiply(z, z, out=out)

    class Cube(activations.Activation):
        def __call__(self, z, out=None):
            return np.power(z, 3, out=out)

    class HalfLeaky(activations.ReLU):
        def __call__(self, z, out=None):
            return np.maximum(z, 0.5 * z, out=out)

    assert Square().config == Cube().config
    assert Square() != Cube() and len({Square(), Cube()}) == 2
    assert HalfLeaky() != activations.ReLU() and activations.ReLU() != HalfLeaky()
    assert len({HalfLeaky(), activations.ReLU()}) == 2
    assert Square() == Square() and hash(Square()) == hash(Square())


def test_a_hyperparameter_cannot_be_deleted_and_set_again():
    # del then set would change the component's hash and config under a network planned
    # from it, as setting it directly would
    leaky = activations.LeakyReLU(0.2)
    with pytest.raises(AttributeError, match=r"LeakyReLU\.alpha is fixed once the activation"):
        del leaky.alpha
    assert leaky.alpha == 0.2 and leaky == activations.LeakyReLU(0.2)
    leaky.note = "free"  # other attributes are the component's own business
    del leaky.note
