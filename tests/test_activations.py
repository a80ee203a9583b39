import warnings

import numpy as np
import pytest

from mlpzero import activations
from mlpzero.activations import ACTIVATIONS, Activation, LeakyReLU, get, softmax

NAMES = sorted(ACTIVATIONS)
Z = np.linspace(-4, 4, 41)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences(name):
    act = get(name)
    z = Z[np.abs(Z) > 1e-3]  # away from the ReLU kink
    h = 1e-6
    numeric = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_from_output_equals_derivative(name):
    act = get(name)
    np.testing.assert_allclose(act.derivative_from_output(act(Z)), act.derivative(Z), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_backward_multiplies_by_the_derivative(name):
    act = get(name)
    upstream = np.random.default_rng(0).standard_normal(Z.shape)
    expected = upstream * act.derivative(Z)
    np.testing.assert_allclose(act.backward(act(Z), upstream.copy()), expected, atol=1e-12)


def test_values_against_closed_forms():
    np.testing.assert_allclose(activations.sigmoid(Z), 1 / (1 + np.exp(-Z)), rtol=1e-15)
    np.testing.assert_allclose(activations.tanh(Z), np.tanh(Z))
    np.testing.assert_array_equal(activations.relu(Z), np.maximum(Z, 0))
    np.testing.assert_allclose(activations.leaky_relu(Z), np.where(Z > 0, Z, 0.01 * Z))
    np.testing.assert_array_equal(activations.identity(Z), Z)


def test_sigmoid_is_stable_at_extreme_inputs():
    z = np.array([-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = activations.sigmoid(z)
    assert a[0] == 0.0 and a[1] == 0.0 and a[-1] == 1.0 and a[-2] == 1.0
    assert a[3] == 0.5
    assert not np.isnan(a).any()
    # tiny but not flushed to zero where float64 can represent it
    assert 0 < a[2] < 1e-21


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_warning_and_dtype_kept_up_to_1e4(name, dtype):
    act = get(name)
    z = np.array([-1e4, -1.0, 0.0, 1.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act(z)
        d = act.derivative_from_output(a)
    assert a.dtype == dtype and d.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("z", [0.5, np.float64(-0.5), np.array(2.0)])
def test_derivatives_of_a_single_number(name, z):
    # a scalar (or a 0-d array) is an array of any shape too: tanh's derivative once
    # failed on it, writing into the NumPy scalar its square had returned
    act = get(name)
    expected = act.derivative(np.array([z], dtype=np.float64))[0]
    np.testing.assert_allclose(act.derivative(z), expected, rtol=1e-15)
    np.testing.assert_allclose(act.derivative_from_output(act(z)), expected, rtol=1e-15)


def test_out_argument_is_filled_in_place():
    out = np.empty_like(Z)
    result = activations.sigmoid(Z, out=out)
    assert result is out
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-Z)))


def test_softmax_rows_sum_to_one_and_are_stable():
    z = np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(p[0], e / e.sum())
    np.testing.assert_array_equal(p[1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[2], 1 / 3)


def test_registry_accepts_names_aliases_objects_and_configs():
    assert isinstance(get("relu"), activations.ReLU)
    assert isinstance(get("logistic"), activations.Sigmoid)
    leaky = LeakyReLU(alpha=0.2)
    assert get(leaky) is leaky
    assert get(leaky.config) == leaky
    assert isinstance(get("Tanh"), Activation)


def test_registry_errors_name_what_was_received():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        get("swish")
    with pytest.raises(TypeError, match="got int 3"):
        get(3)
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(alpha=-1)


def test_softmax_of_integers_is_a_float_distribution():
    """Integer scores, as one types them, failed with NumPy's "Cannot cast ufunc 'exp'
    output"; they give the same probabilities as the same scores as floats. Floating
    inputs keep their dtype."""
    p = softmax(np.array([[1, 2, 3], [0, 0, 0]]))
    np.testing.assert_allclose(p, softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])))
    assert p.dtype == np.float64
    for dtype in (np.float16, np.float32):
        assert softmax(np.zeros((2, 3), dtype)).dtype == dtype


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
def test_sigmoid_and_softmax_of_unsigned_integers_match_the_same_values_as_floats(dtype):
    """Unsigned integers were negated (sigmoid) or had the row maximum subtracted
    (softmax) in their own dtype, which wraps around: sigmoid(1) came out as 0, and
    softmax of [0, 1, 2, 100] put its mass on the small scores, or gave NaN."""
    z = np.array([[0, 1, 2, 100]], dtype=dtype)
    floats = z.astype(np.float64)
    np.testing.assert_allclose(activations.sigmoid(z), 1 / (1 + np.exp(-floats)), rtol=1e-6)
    np.testing.assert_allclose(softmax(z), softmax(floats), rtol=1e-12)
    np.testing.assert_allclose(
        activations.sigmoid.derivative(z), activations.sigmoid.derivative(floats), rtol=1e-6
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_finite_scores_further_apart_than_the_dtype_holds_is_exact_and_silent(dtype):
    """A score minus a row maximum further away than the dtype's largest number is -inf,
    whose exponential is exactly the limit 0; that overflow was reported as a
    RuntimeWarning, though the probabilities were right."""
    top = np.finfo(dtype).max
    z = np.array([[-top, top, 0.0], [top / 2, -top / 2, top / 2]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(z)
    assert p.dtype == dtype
    np.testing.assert_array_equal(p, [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])


def test_one_activation_object_trains_two_models_in_threads_as_two_objects_would():
    """The backward pass's scratch mask lived in the activation object: two models given
    the same ReLU and trained at once in two threads wrote into each other's mask, and
    ended with other weights than each trains to alone, without an error."""
    import sys
    import threading

    from mlpzero import MLP, kernels

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)

    def train(activation, seed, out):
        model = MLP(hidden=(32, 32), activation=activation, seed=seed)
        out[seed] = model.fit(X, y, epochs=300, batch_size=8).network.params

    previous_backend, previous_interval = kernels.get_backend(), sys.getswitchinterval()
    kernels.set_backend("numpy")  # the NumPy pass is the one that calls backward
    try:
        expected, got = {}, {}
        for seed in (0, 1):
            train(activations.ReLU(), seed, expected)
        shared = activations.ReLU()
        sys.setswitchinterval(1e-6)  # switch threads often, between the mask's two uses
        threads = [threading.Thread(target=train, args=(shared, s, got)) for s in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        sys.setswitchinterval(previous_interval)
        kernels.set_backend(previous_backend)
    for seed in (0, 1):
        np.testing.assert_array_equal(got[seed], expected[seed])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_copies_and_pickles_leave_the_backward_scratch_behind(name):
    # The buffers kept between backward passes are as large as a batch's activations:
    # a pickled or copied model must not carry them (nor the threads' ids that key them).
    import copy
    import pickle

    activation = get(name)
    a = activation(np.linspace(-1, 1, 200_000).reshape(200, 1000))
    activation.backward(a, np.ones_like(a))
    assert len(pickle.dumps(get(name))) < 1000
    assert len(pickle.dumps(activation)) < 1000
    for twin in (
        copy.deepcopy(activation),
        copy.copy(activation),
        pickle.loads(pickle.dumps(activation)),
    ):
        assert "_buffers" not in twin.__dict__ and twin == activation
        np.testing.assert_array_equal(
            twin.backward(a, np.ones_like(a)), activation.backward(a, np.ones_like(a))
        )


@pytest.mark.parametrize("alpha", ["0.1", b"0.1", np.str_("0.1"), np.array("0.1"), True])
def test_leaky_relu_refuses_text_for_alpha(alpha):
    # as every other hyper-parameter does: text in a config is a mistake, and so is a flag
    with pytest.raises(TypeError, match=r"alpha must be a number, got"):
        LeakyReLU(alpha)
    with pytest.raises(TypeError, match=r"activation 'leaky_relu': alpha must be a number"):
        get({"name": "leaky_relu", "alpha": alpha})
