import warnings

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.activations import ACTIVATIONS, Tanh
from mlpzero.gradcheck import gradcheck, numerical_gradient
from mlpzero.losses import BinaryCrossEntropy, CategoricalCrossEntropy, SquaredError
from mlpzero.network import Network
from mlpzero.regularizers import WeightPenalty


def _data(rows, sizes, loss, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, sizes[0]))
    k = sizes[-1]
    if isinstance(loss, CategoricalCrossEntropy):
        Y = np.eye(k)[rng.integers(0, k, rows)]
    elif isinstance(loss, BinaryCrossEntropy):
        Y = rng.integers(0, 2, (rows, k)).astype(float)
    else:
        Y = rng.standard_normal((rows, k))
    return X, Y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[3, 1], [2, 4, 1], [4, 5, 3, 2], [3, 6, 4, 5, 3]])
@pytest.mark.parametrize("rows", [1, 7, 32])
def test_gradcheck_every_activation_shape_and_batch(activation, sizes, rows, backend):
    net = Network(sizes, activation, dtype="float64", rng=1)
    assert net.kernel_plan is not None  # small enough for the kernels, when numba is on
    for bias in net.biases:  # a zero bias under a dead layer puts Z exactly on ReLU's kink
        bias[...] = 0.1
    loss = BinaryCrossEntropy()
    X, Y = _data(rows, sizes, loss)
    result = gradcheck(net, loss, X, Y)
    assert result.relative_error < 1e-7, result.relative_error


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
def test_gradcheck_every_loss_with_sample_weights(loss, backend):
    sizes = [4, 6, 3]
    net = Network(sizes, ["tanh"], dtype="float64", rng=2)
    X, Y = _data(9, sizes, loss)
    weights = np.random.default_rng(3).random(9) + 0.1
    assert gradcheck(net, loss, X, Y, sample_weight=weights).relative_error < 1e-7


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The oracle must be able to fail: corrupt one activation's derivative (on NumPy,
    whose code it is; ``tests/test_kernels.py`` corrupts the compiled one)."""
    from mlpzero import kernels

    monkeypatch.setattr(kernels, "_backend", "numpy")
    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    net.activations[0].backward = lambda a, grad: grad  # pretend tanh' == 1
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    assert gradcheck(net, BinaryCrossEntropy(), X, Y).relative_error > 1e-3


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_gradcheck_warns_of_pre_activations_on_the_kink(activation):
    """A row of zeros in X with the initial zero biases puts every first-layer
    pre-activation of that row exactly on the kink: a correct gradient checked at a
    relative error near 0.1, as if wrong, and nothing said why."""
    net = Network([3, 4, 1], activation, dtype="float64", rng=0)
    X, Y = _data(6, [3, 4, 1], BinaryCrossEntropy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no kink, no warning
        assert gradcheck(net, BinaryCrossEntropy(), X, Y).passed()
    X[0] = 0.0
    with pytest.warns(UserWarning, match=r"4 pre-activations .* exactly 0.*\(4 in layer 1\)"):
        result = gradcheck(net, BinaryCrossEntropy(), X, Y)
    assert not result.passed()  # what the warning explains
    smooth = Network([3, 4, 1], "sigmoid", dtype="float64", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # smooth: no kink to warn of
        assert gradcheck(smooth, BinaryCrossEntropy(), X, Y).passed()


@pytest.mark.parametrize(
    "name, n_out", [("binary_crossentropy", 1), ("categorical_crossentropy", 3)]
)
def test_gradcheck_warns_of_a_loss_whose_value_clips_outputs_its_gradient_does_not(name, n_out):
    """With epsilon > 0 a cross-entropy's value clips the probabilities its gradient,
    A - Y, leaves alone: on saturated outputs a correct gradient checked at a relative
    error near 0.5, as if wrong, and nothing said why."""
    net = Network([3, 4, n_out], "tanh", dtype="float64", rng=0)
    net.weights[1][...] *= 20  # outputs far beyond [0.1, 0.9]
    loss = CategoricalCrossEntropy() if n_out > 1 else BinaryCrossEntropy()
    X, Y = _data(6, [3, 4, n_out], loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no clip, no warning
        assert gradcheck(net, name, X, Y).passed()
    with pytest.warns(UserWarning, match=rf"output probabilities lie beyond .*{name} clips"):
        result = gradcheck(net, {"name": name, "epsilon": 0.1}, X, Y)
    assert not result.passed()  # what the warning explains


def test_gradcheck_refuses_a_float32_network_by_name():
    """In float32 a correct gradient checks at a relative error near 1e-2 (rounding of the
    loss, not a wrong gradient), so passed() would say False: refused, naming the dtype."""
    net = Network([3, 4, 1], "tanh", rng=0)  # float32, the default
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    with pytest.raises(ValueError, match=r"float64 network.*float32.*dtype='float64'"):
        gradcheck(net, BinaryCrossEntropy(), X, Y)
    with pytest.raises(ValueError, match=r"float64 network.*float32"):
        numerical_gradient(net, BinaryCrossEntropy(), X, Y)


def test_gradcheck_refuses_an_epsilon_that_moves_no_parameter():
    """epsilon=1e-20 leaves theta + epsilon == theta: every difference was 0 and a right
    gradient checked at relative error 1.0, as if wrong; epsilon=0 divided by zero."""
    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"epsilon=1e-20 leaves 16 of the 21 parameters unchanged"):
        gradcheck(net, BinaryCrossEntropy(), X, Y, epsilon=1e-20)
    for bad in (0, -1e-6, float("nan")):
        with pytest.raises(ValueError, match=r"epsilon must be a finite number > 0"):
            numerical_gradient(net, BinaryCrossEntropy(), X, Y, epsilon=bad)
    np.testing.assert_array_equal(net.params, before)
    assert gradcheck(net, BinaryCrossEntropy(), X, Y, epsilon=1e-5).passed()


def test_gradcheck_names_rows_and_columns_of_the_wrong_shape():
    """A transposed X, a 1-D Y or weights of another length failed inside NumPy
    ("matmul: Input operand 1 has a mismatch in its core dimension", "operands could not
    be broadcast"); each is named with the shape it should have."""
    net = Network([3, 4, 2], "tanh", dtype="float64", rng=0)
    X, Y = _data(6, [3, 4, 2], BinaryCrossEntropy())
    loss = BinaryCrossEntropy()
    cases = [
        ((X.T, Y, None), r"X must have shape \(m, 3\).*got shape \(3, 6\).*pass X\.T"),
        ((X, Y.T, None), r"Y must have shape \(6, 2\).*got shape \(2, 6\).*pass Y\.T"),
        ((X, Y[:, 0], None), r"Y must have shape \(6, 2\).*got shape \(6,\)"),
        ((X, Y, np.ones(5)), r"sample_weight must have shape \(6,\) to match X, got \(5,\)"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            gradcheck(net, loss, *arguments)
    single = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    with pytest.raises(ValueError, match=r"got shape \(6,\).*Y\.reshape\(-1, 1\)"):
        gradcheck(single, loss, X, Y[:, 0])
    assert gradcheck(single, loss, X.tolist(), Y[:, :1].tolist()).passed()  # lists are arrays


def test_gradcheck_names_x_or_y_that_holds_no_numbers():
    """Text or ragged rows failed inside NumPy ("could not convert string to float"),
    naming neither X nor Y."""
    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(2, [3, 4, 1], BinaryCrossEntropy())
    with pytest.raises(ValueError, match=r"^X must hold numbers: could not convert.*'a'"):
        gradcheck(net, BinaryCrossEntropy(), [[1.0, 2.0, "a"], [1.0, 2.0, 3.0]], Y)
    with pytest.raises(ValueError, match=r"^X must hold numbers: .*inhomogeneous"):
        numerical_gradient(net, BinaryCrossEntropy(), [[1.0, 2.0, 3.0], [1.0]], Y)
    with pytest.raises(ValueError, match=r"^Y must hold numbers: could not convert.*'yes'"):
        gradcheck(net, BinaryCrossEntropy(), X, [["yes"], ["no"]])


def test_numerical_gradient_interrupted_leaves_the_parameters_unchanged():
    """Ctrl-C during the (slow) finite differences left the parameter being probed moved
    by epsilon, where the check promises to change nothing."""

    class Interrupting(BinaryCrossEntropy):
        calls = 0

        def value(self, logits, Y, weights=None):
            Interrupting.calls += 1
            if Interrupting.calls == 4:  # theta[1] + epsilon is being evaluated
                raise KeyboardInterrupt
            return super().value(logits, Y, weights)

    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    before = net.params.copy()
    with pytest.raises(KeyboardInterrupt):
        numerical_gradient(net, Interrupting(), X, Y)
    np.testing.assert_array_equal(net.params, before)


def test_forward_matches_explicit_formula_and_per_layer_activations(backend):
    net = Network([3, 4, 2, 1], ["tanh", "sigmoid"], dtype="float64", rng=0)
    X = np.random.default_rng(1).standard_normal((6, 3))
    a1 = np.tanh(X @ net.weights[0].T + net.biases[0])
    a2 = 1 / (1 + np.exp(-(a1 @ net.weights[1].T + net.biases[1])))
    z3 = a2 @ net.weights[2].T + net.biases[2]
    np.testing.assert_allclose(net.forward(X), z3, rtol=1e-12)
    cache = net.cache()
    np.testing.assert_allclose(cache["A"][1], a1)
    assert [z.shape for z in cache["Z"]] == [(6, 4), (6, 2), (6, 1)]


def test_parameters_are_views_of_one_flat_buffer():
    net = Network([3, 4, 2], "relu", rng=0)
    assert net.n_params == 3 * 4 + 4 + 4 * 2 + 2
    assert net.params.dtype == np.float32 and net.params.flags.c_contiguous
    for w in net.weights + net.biases:
        assert np.shares_memory(w, net.params)
    net.params[:] = np.arange(net.n_params)
    np.testing.assert_array_equal(net.weights[0].ravel(), np.arange(12))
    np.testing.assert_array_equal(net.biases[0], [12, 13, 14, 15])
    assert net.weight_mask.sum() == 12 + 8
    assert not net.weight_mask[12:16].any()


def test_init_follows_activation_and_seed():
    a = Network([5, 7, 1], "relu", dtype="float64", rng=3)
    b = Network([5, 7, 1], "relu", dtype="float64", rng=3)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.init_names() == ["he_normal", "he_normal"]
    assert Network([5, 7, 1], "tanh", rng=3).init_names() == ["xavier_normal"] * 2
    assert all((b == 0).all() for b in a.biases)
    np.random.seed(42)
    article = Network([2, 4, 1], "relu", dtype="float64", rng=np.random)
    np.random.seed(42)
    expected = np.random.randn(4, 2) * np.sqrt(2.0 / 2)
    np.testing.assert_array_equal(article.weights[0], expected)


def test_predict_logits_in_chunks_equals_one_pass():
    net = Network([3, 5, 2], "relu", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((50, 3))
    whole = net.forward(X).copy()
    np.testing.assert_allclose(net.predict_logits(X, chunk_rows=7), whole, rtol=1e-12)


@pytest.mark.parametrize("chunk_rows", [0, -1, 2.5, True])
def test_predict_logits_refuses_a_chunk_size_that_is_not_a_positive_integer(chunk_rows):
    """A block of -1 rows visited no row and returned the uninitialised output array."""
    net = Network([3, 5, 2], "relu", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((50, 3))
    with pytest.raises((TypeError, ValueError), match="chunk_rows"):
        net.predict_logits(X, chunk_rows=chunk_rows)


def test_chunk_rows_bound_the_bytes_of_a_pass(monkeypatch):
    """A pass holds a block of inputs (n_0 values per row) and the network's buffers for
    two block sizes, each 3 (n_1 + ... + n_L) values per row, plus n_0 for the
    standardised input, and twice the largest operand a small product copies: at most
    64 MiB, at most 4,096 rows, never no row."""
    from mlpzero import network as network_module
    from mlpzero.standardization import Standardizer

    assert Network([20, 8, 3], dtype="float64").chunk_rows == 4096
    # Room is kept twice for the largest operand a small product copies: here the
    # 65,536 values of A[2] that dW[3] = dZ[3]^T A[2] takes over 103 to 256 rows.
    workload = Network([784, 512, 256, 10], dtype="float32")
    assert workload.chunk_rows == ((16 << 20) - 2 * 65536) // (784 + 2 * 3 * 778)  # 3,053
    # and here X^T, 20,000 values a row, copied for blocks of at most 3 rows
    wide = Network([20000, 16, 2], dtype="float32")
    assert wide.chunk_rows == ((16 << 20) - 2 * 60000) // (20000 + 2 * 3 * 18)
    X = np.random.default_rng(0).standard_normal((3, 20000)).astype(np.float32)
    wide.input_transform = Standardizer.fit(X)
    assert wide.chunk_rows == ((16 << 20) - 2 * 60000) // (20000 + 2 * (3 * 18 + 20000))
    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1)
    assert wide.chunk_rows == 1
    assert wide.predict_logits(X).shape == (3, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="layer_sizes"):
        Network([3])
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        Network([3, 4, 4, 1], ["relu"])
    with pytest.raises(ValueError, match="dtype"):
        Network([3, 1], dtype="int32")
    net = Network([3, 4, 1], rng=0)
    net.forward(np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="expected dlogits of shape"):
        net.backward(np.zeros((4, 1), dtype=np.float32))


def test_an_unpickled_network_keeps_its_layers_as_views_of_the_flat_vectors():
    import pickle

    net = Network([3, 4, 2], "tanh", dtype="float64", rng=0)
    X = np.random.default_rng(1).standard_normal((5, 3))
    net.forward(X)
    copy = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(copy.predict_logits(X), net.predict_logits(X))
    copy.params += 1.0  # an optimizer writes the flat vector ...
    np.testing.assert_array_equal(copy.weights[1], net.weights[1] + 1.0)  # ... layers see it
    copy.forward(X)
    copy.backward(np.ones((5, 2)))
    np.testing.assert_array_equal(copy.bias_grads[1], copy.grads[-2:])
    assert copy.grads[-2:].tolist() == [5.0, 5.0]


def test_a_network_s_layers_cannot_change_after_it_is_made():
    # The compiled kernels are planned from the layers when the network is made; a layer
    # changed afterwards was run by NumPy but not by them, so the two backends differed.
    from mlpzero.activations import LeakyReLU

    net = Network([3, 8, 1], activation=LeakyReLU(0.1), dtype="float64", rng=0)
    assert net.layer_sizes == (3, 8, 1)
    with pytest.raises(TypeError):
        net.activations[0] = Tanh()
    with pytest.raises(TypeError):
        net.layer_sizes[1] = 4
    for name, value in [
        ("activations", [Tanh()]),
        ("layer_sizes", [3, 4, 1]),
        ("dtype", "float32"),
    ]:
        with pytest.raises(AttributeError):
            setattr(net, name, value)
    with pytest.raises(
        AttributeError, match=r"LeakyReLU\.alpha is fixed once the activation is made"
    ):
        net.activations[0].alpha = 0.5
    assert net.activations[0].alpha == 0.1


def test_a_network_pickled_with_its_layers_as_lists_still_loads():
    import pickle

    net = Network([3, 4, 2], "tanh", dtype="float64", rng=0)
    state = net.__getstate__()
    for name in ("layer_sizes", "activations", "dtype"):
        state[name] = state.pop(f"_{name}")
    state["layer_sizes"] = list(state["layer_sizes"])
    state["activations"] = list(state["activations"])
    old = Network.__new__(Network)
    old.__setstate__(state)
    assert old.layer_sizes == (3, 4, 2) and old.activations == (Tanh(),)
    X = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(old)).predict_logits(X), net.predict_logits(X)
    )


@pytest.mark.parametrize("dtype", [None, "bogus", "int32"])
def test_network_dtype_must_be_float32_or_float64(dtype):
    with pytest.raises(ValueError, match=f"dtype must be 'float32' or 'float64', got {dtype!r}"):
        Network([2, 3, 1], dtype=dtype)


@pytest.mark.parametrize("sizes", [[2, 3.7, 1], [2, "3", 1], [2, True, 1]])
def test_network_refuses_a_layer_size_that_is_not_an_integer(sizes):
    # int() made 3.7 a layer of 3 units and "3" one of 3, without a word
    with pytest.raises(TypeError, match=r"layer_sizes\[1\] must be an integer, got "):
        Network(sizes)


def test_network_activation_none_is_named():
    with pytest.raises(TypeError, match=r"activation must be a name.*got NoneType None"):
        Network([2, 3, 1], activation=None)


@pytest.mark.parametrize("hidden", [(3,), (3, 3, 3, 3)])
def test_an_activation_given_as_bytes_is_named_whole(hidden):
    # Read as a list, b"relu" was its character codes: "got a list of 4: [114, ...]" for
    # one hidden layer, "got int 114" for four, never the value given.
    with pytest.raises(TypeError, match=r"activation must be a name.*got bytes b'relu'"):
        Network([2, *hidden, 1], activation=b"relu")
    with pytest.raises(TypeError, match=r"activation must be a name.*got bytes b'relu'"):
        MLP(hidden=hidden, activation=b"relu")


def test_small_products_get_their_operands_in_row_order(monkeypatch, backend):
    """Products of a few hundred thousand multiply-adds take both operands in row order:
    OpenBLAS runs those in one thread, but with a transposed operand on its threads,
    which stalls for milliseconds when other processes hold the cores. The forward
    product of the first layer (``W X^T``) and the weight gradient of the second
    (``dZ^T A``) are of that size here; the gradient stays exact."""
    sizes, rows = [30, 100, 40, 3], 100  # 300,000 and 400,000 multiply-adds
    net = Network(sizes, "tanh", dtype="float64", rng=0)
    X, Y = _data(rows, sizes, CategoricalCrossEntropy())
    seen = []
    matmul = np.matmul

    def spy(a, b, out=None):
        seen.append((a.shape[0] * a.shape[1] * b.shape[1], b.flags.c_contiguous))
        return matmul(a, b, out=out)

    monkeypatch.setattr(np, "matmul", spy)
    net.backward(CategoricalCrossEntropy().gradient(net.forward(X), Y))
    small = [row_order for work, row_order in seen if 262_144 < work <= 1_000_000]
    assert len(small) == 5 and all(small), seen  # two forward products, three backward
    monkeypatch.setattr(np, "matmul", matmul)
    assert gradcheck(net, CategoricalCrossEntropy(), X, Y).relative_error < 1e-7


def test_dropout_set_directly_is_checked_and_one_rate_applies_to_every_layer():
    """``network.dropout`` set by hand: one rate for every hidden layer, as ``MLP``
    takes it; a rate outside [0, 1) or a list of the wrong length is refused by name
    when set, rather than failing in the next pass or scaling the outputs silently."""
    net = Network([3, 4, 5, 2], rng=0)
    net.dropout = 0.5
    assert net.dropout == [0.5, 0.5]
    assert net.forward(np.ones((6, 3), np.float32), training=True).shape == (6, 2)
    for bad in ([-0.5, 0.0], [1.0, 0.0], [0.5], "0.5"):
        with pytest.raises((ValueError, TypeError), match="dropout"):
            net.dropout = bad
    assert net.dropout == [0.5, 0.5]


def test_dropout_keeps_each_unit_expected_value_for_a_rate_near_1_in_float32():
    """The float32 masks keep a unit where a float32 uniform draw (a multiple of 2**-24)
    is at least the rate rounded to float32, so with probability ``1 - float32(rate)``
    (exactly, for rates from 0.5). The survivors were scaled by ``1 / (1 - rate)`` of
    the rate as given: for ``1 - 1e-6`` that made each unit's expected value 1.013
    times its value, and 1.19 times for ``1 - 1e-7``, not the documented 1."""
    rate = 1 - 1e-6
    net = Network([1, 1000, 1], activation="identity", dtype="float32", rng=0)
    net.params = np.ones(net.n_params)
    for b in net.biases:
        b[...] = 0
    net.dropout = rate
    net.dropout_rng = np.random.default_rng(0)
    # Each logit is the sum of the hidden layer's masks: the survivors' scale times
    # the units kept in its row (about 5 units kept in the 5 million draws).
    logits = net.forward(np.ones((5000, 1), np.float32), training=True)
    kept = logits[logits > 0]
    assert kept.size > 0
    scale = float(kept.min())
    keep_probability = 1 - float(np.float32(rate))
    assert scale * keep_probability == pytest.approx(1, rel=1e-6)


def test_a_dropout_rate_that_rounds_to_1_in_the_dtype_is_refused():
    """The masks compare uniform draws of the network's dtype with the rate in that
    dtype: a rate such as ``1 - 1e-8``, below 1 but 1 in float32, was accepted and then
    dropped every unit at every step, so the outputs ignored the inputs without a word.
    float64 holds it, and the largest float32 rate below 1 is still taken."""
    from mlpzero import MLP

    rate = 1 - 1e-8
    net = Network([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match=r"dropout rate 0\.99999999 rounds to 1 in float32"):
        net.dropout = rate
    assert net.dropout == [0.0]
    largest = float(np.nextafter(np.float32(1), np.float32(0)))
    net.dropout = largest
    assert net.dropout == [largest]
    wide = Network([3, 4, 2], rng=0, dtype="float64")
    wide.dropout = rate
    assert wide.dropout == [rate]
    with pytest.raises(ValueError, match="rounds to 1 in float32"):
        MLP(hidden=(4,), dropout=rate)
    model = MLP(hidden=(4,), dropout=0.5)
    with pytest.raises(ValueError, match="rounds to 1 in float32"):
        model.dropout = [rate]
    assert model.dropout == (0.5,)
    assert MLP(hidden=(4,), dropout=rate, dtype="float64").dropout == (rate,)
    model.fit(np.ones((4, 3)), [0, 1, 0, 1], epochs=1)
    with pytest.raises(ValueError, match="rounds to 1 in float32"):
        model.use_hidden_options("tanh", rate)  # refused before the activation changes
    assert [a.name for a in model.network.activations] == ["relu"]


@pytest.mark.parametrize("shape", [(3,), (5, 4), (5, 3, 1)])
def test_forward_refuses_inputs_of_another_shape_by_name(shape, backend):
    """A 1-D sample or rows of another width fail with the shape expected and received,
    not an IndexError or NumPy's gufunc message about core dimensions."""
    net = Network([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match=r"X must have shape \(m, 3\).*got shape"):
        net.forward(np.ones(shape, np.float32))


@pytest.mark.parametrize("rng", ["0", 1.5, -1, True])
def test_a_seed_that_is_not_a_generator_or_non_negative_int_is_refused_by_name(rng):
    """``rng="0"`` or ``rng=1.5`` failed with "'str' object has no attribute
    'standard_normal'", a negative seed with NumPy's "expected non-negative integer", and
    ``True`` was taken as the seed 1."""
    with pytest.raises((TypeError, ValueError), match=r"rng must be .*got"):
        Network([3, 4, 2], rng=rng)


def test_generators_and_the_legacy_module_are_sources_of_weights():
    first = Network([3, 4, 2], rng=np.random.default_rng(5)).params
    np.testing.assert_array_equal(first, Network([3, 4, 2], rng=5).params)
    np.random.seed(3)
    legacy = Network([3, 4, 2], rng=np.random).params
    np.testing.assert_array_equal(legacy, Network([3, 4, 2], rng=np.random.RandomState(3)).params)


def test_assigning_params_fills_the_buffer_the_layers_read(backend):
    """``network.params = values`` rebound the attribute to a new array while
    ``weights`` and ``biases`` stayed views of the old one: the NumPy passes kept the
    old weights and the compiled ones took the new, so the same network gave two
    answers. The values are now copied into the buffer; another length is refused."""
    net = Network([3, 4, 2], rng=0)
    buffer, X = net.params, np.ones((5, 3), np.float32)
    net.params = np.zeros(net.n_params)
    assert net.params is buffer and net.params.dtype == np.float32
    np.testing.assert_array_equal(net.forward(X), np.zeros((5, 2), np.float32))
    assert not net.weights[0].any()
    net.grads = np.ones(net.n_params)
    assert net.bias_grads[-1].tolist() == [1.0, 1.0]
    for name in ("params", "grads"):
        with pytest.raises(ValueError, match=rf"{name} must have shape \(26,\).*got \(25,\)"):
            setattr(net, name, np.zeros(25))


@pytest.mark.parametrize("name", ["params", "grads", "Network(params=)"])
@pytest.mark.parametrize("values", [np.full(26, 1 + 2j), np.full(26, "1"), np.ones(26, bool)])
def test_params_that_are_not_real_numbers_are_refused_by_name(name, values):
    """Network(params=) dropped the imaginary part of complex values with a warning and
    read text as numbers; the setters failed inside NumPy without naming the argument."""
    label = "params" if name.startswith("Network") else name
    with pytest.raises(TypeError, match=rf"{label} must hold real numbers.*{values.dtype}"):
        if name.startswith("Network"):
            Network([3, 4, 2], params=values)
        else:
            setattr(Network([3, 4, 2], rng=0), name, values)


@pytest.mark.parametrize("layer_sizes", [5, None, "342", b"342"])
def test_layer_sizes_that_are_not_a_sequence_of_sizes_are_refused_by_name(layer_sizes):
    """An int or None failed with "object is not iterable", naming no argument, and a
    string was read one character at a time."""
    with pytest.raises(TypeError, match=r"layer_sizes must be a sequence of layer sizes"):
        Network(layer_sizes)


@pytest.mark.parametrize("init", [["he_normal"], {"name": "he_normal"}])
def test_an_unknown_init_is_refused_alike_with_or_without_params(init):
    """With params given, an unhashable init failed with "unhashable type" instead of
    the error that names the initializers."""
    for params in (None, np.zeros(26)):
        with pytest.raises(ValueError, match=r"unknown initializer .*expected one of"):
            Network([3, 4, 2], init=init, params=params)


@pytest.mark.parametrize("per_sample", ["no", 0.0, None])
def test_weight_penalty_refuses_a_per_sample_that_is_not_a_flag(per_sample):
    """It took the truth value, so per_sample="no" divided the penalty by each batch's
    weight."""
    net = Network([3, 4, 2], rng=0)
    with pytest.raises(TypeError, match=r"per_sample must be True or False"):
        WeightPenalty(net.weight_mask, net.dtype, l2=0.1, per_sample=per_sample)


def test_backward_before_any_forward_says_so():
    """It asked for dlogits of shape (0, 2), as if a batch of no rows were expected."""
    net = Network([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match=r"backward needs a forward pass first") as caught:
        net.backward(np.ones((5, 2), np.float32))
    assert "(0, 2)" not in str(caught.value)


def test_gradcheck_takes_a_sparse_x_as_every_entry_point_does():
    """A SciPy sparse X, which fit, predict and the losses' callers take, failed inside
    NumPy with "setting an array element with a sequence"; it checks as the dense X."""
    from scipy import sparse

    net = Network([3, 4, 2], "tanh", dtype="float64", rng=0)
    X, Y = _data(6, [3, 4, 2], BinaryCrossEntropy())
    X[X < 0] = 0.0
    dense = gradcheck(net, BinaryCrossEntropy(), X, Y)
    for container in (sparse.csr_matrix, sparse.csc_matrix):
        result = gradcheck(net, BinaryCrossEntropy(), container(X), Y)
        np.testing.assert_array_equal(result.numerical, dense.numerical)
        assert result.passed()


def test_gradcheck_refuses_a_batch_with_no_rows():
    """With no rows the loss is NaN (the mean of nothing): the check returned a relative
    error of NaN, which neither passes nor says why; X is named instead."""
    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    for check in (gradcheck, numerical_gradient):
        with pytest.raises(ValueError, match=r"X has no rows.*shape \(0, 3\)"):
            check(net, BinaryCrossEntropy(), X[:0], Y[:0])


def test_gradcheck_refuses_non_finite_data_rather_than_failing_the_gradient():
    """NaN in X or Y made the loss NaN: a relative error of NaN and passed() False, as if
    a right gradient were wrong. The array and the entry are named instead."""
    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    X[2, 1] = np.nan
    Y_inf = Y.copy()
    Y_inf[4, 0] = np.inf
    for check in (gradcheck, numerical_gradient):
        with pytest.raises(ValueError, match=r"X contains NaN or infinity \(first at row 2, col"):
            check(net, BinaryCrossEntropy(), X, Y)
        with pytest.raises(ValueError, match=r"Y contains NaN or infinity \(first at row 4, col"):
            check(net, BinaryCrossEntropy(), np.nan_to_num(X), Y_inf)


def test_gradcheck_names_a_model_or_a_loss_it_cannot_use():
    """An MLP for the network, or a loss by name, failed deep inside with an
    AttributeError ('MLP' object has no attribute 'params'; 'str' object has no attribute
    'gradient'). A loss is taken as everywhere else (a name, a config or an instance);
    a model is refused, naming model.network."""
    from mlpzero import MLP

    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    X, Y = _data(5, [3, 4, 1], BinaryCrossEntropy())
    by_name = gradcheck(net, "binary_crossentropy", X, Y)
    assert by_name.passed()
    np.testing.assert_array_equal(
        numerical_gradient(net, "binary_crossentropy", X, Y),
        numerical_gradient(net, BinaryCrossEntropy(), X, Y),
    )
    with pytest.raises(TypeError, match="loss must be a name"):
        gradcheck(net, BinaryCrossEntropy, X, Y)
    model = MLP(hidden=(4,), dtype="float64").fit(X, Y[:, 0].astype(int), epochs=1)
    for check in (gradcheck, numerical_gradient):
        with pytest.raises(TypeError, match=r"network must be a Network.*model\.network.*got MLP"):
            check(model, model.loss_, X, Y)


def test_gradcheck_adds_a_sparse_integer_xs_duplicate_entries_as_floats():
    """A COO matrix of uint8 counts with two entries for one cell (200 and 100) was made
    dense in uint8, where they add up to 44: the gradients were those of other inputs."""
    from scipy import sparse

    net = Network([3, 4, 1], "tanh", dtype="float64", rng=0)
    counts = np.array([200, 100], dtype=np.uint8)
    X = sparse.coo_matrix((counts, ([0, 0], [1, 1])), shape=(1, 3))
    Y = np.array([[1.0]])
    dense = numerical_gradient(net, BinaryCrossEntropy(), np.array([[0.0, 300.0, 0.0]]), Y)
    np.testing.assert_array_equal(numerical_gradient(net, BinaryCrossEntropy(), X, Y), dense)
