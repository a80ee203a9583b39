import numpy as np
import pytest

from mlpzero import initializers
from mlpzero.initializers import default_for, get, glorot_uniform, he_normal, xavier_normal


def test_he_and_xavier_match_the_formula_with_the_same_stream():
    for init, gain in [(he_normal, 2.0), (xavier_normal, 1.0)]:
        w = init(5, 3, np.random.default_rng(7))
        expected = np.random.default_rng(7).standard_normal((3, 5)) * np.sqrt(gain / 5)
        np.testing.assert_array_equal(w, expected)


def test_global_numpy_random_gives_the_seeded_draw():
    np.random.seed(42)
    w = he_normal(2, 4, np.random)
    np.random.seed(42)
    expected = np.random.randn(4, 2) * np.sqrt(2.0 / 2)
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize(("init", "variance"), [(he_normal, 2 / 400), (xavier_normal, 1 / 400)])
def test_normal_variance(init, variance):
    w = init(400, 300, np.random.default_rng(0))
    assert w.shape == (300, 400)
    assert abs(w.var() / variance - 1) < 0.02
    assert abs(w.mean()) < 0.01 * np.sqrt(variance) * 10


def test_glorot_uniform_bounds_and_variance():
    w = glorot_uniform(300, 100, np.random.default_rng(0))
    limit = np.sqrt(6 / 400)
    assert w.shape == (100, 300)
    assert np.abs(w).max() <= limit
    assert abs(w.var() / (limit**2 / 3) - 1) < 0.03


def test_default_follows_the_activation():
    assert default_for("relu") == "he_normal"
    assert default_for("leaky_relu") == "he_normal"
    for name in ("sigmoid", "tanh", "identity"):
        assert default_for(name) == "xavier_normal"


def test_registry():
    assert get("glorot_uniform") is glorot_uniform
    assert get(he_normal) is he_normal
    assert initializers.name_of(xavier_normal) == "xavier_normal"
    with pytest.raises(ValueError, match="unknown initializer 'zeros'"):
        get("zeros")


@pytest.mark.parametrize("shape", [lambda i, o: (1, i), lambda i, o: (o, 1), lambda i, o: (i, o)])
def test_an_initializer_of_the_wrong_shape_is_refused_not_broadcast(shape):
    # A row or a column would be copied to every unit (a symmetric network that cannot
    # learn); a transposed matrix failed with NumPy's broadcasting message.
    from mlpzero.network import Network

    def custom(fan_in, fan_out, rng):
        return rng.standard_normal(shape(fan_in, fan_out))

    with pytest.raises(
        ValueError, match=r"custom returned weights of shape \(.*\(fan_out, fan_in\) = \(4, 3\)"
    ):
        Network([3, 4, 2], init=custom, rng=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_an_initializer_that_draws_non_finite_weights_is_refused(bad):
    """A custom initialiser with a slip (``np.sqrt`` of a negative gain, a division by a
    zero fan) built a network of NaN weights without a word; training then showed only
    NaN losses. The layer and the initialiser are named."""
    from mlpzero.network import Network

    def custom(fan_in, fan_out, rng):
        weights = rng.standard_normal((fan_out, fan_in))
        weights[0, 0] = bad
        return weights

    with pytest.raises(ValueError, match=r"custom returned non-finite weights for layer 1"):
        Network([3, 4, 2], init=custom, rng=0)
