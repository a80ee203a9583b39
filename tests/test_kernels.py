"""The optional numba backend: switching, when it applies, and agreement with NumPy.

The NumPy code is the oracle here: every compiled pass must give what the NumPy pass gives
on the same network and data, up to rounding. (The gradient checks, the optimizers'
hand-computed steps and the tutorial's parity with the dictionary baseline run on both
backends too, through the ``backend`` fixture in ``conftest.py``.)
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import mlpzero
from mlpzero import MLP, kernels, optimizers
from mlpzero.activations import Activation, LeakyReLU
from mlpzero.activations import get as get_activation
from mlpzero.gradcheck import gradcheck
from mlpzero.losses import BinaryCrossEntropy, CategoricalCrossEntropy, SquaredError
from mlpzero.network import Network
from mlpzero.optimizers import Adam, AdamW

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


@pytest.fixture
def numba_on():
    before = kernels.get_backend()
    kernels.set_backend("numba")
    yield
    kernels.set_backend(before)


def _both(fn):
    """``fn()`` under NumPy, then under numba; the two results (the backend is restored)."""
    before = kernels.get_backend()
    results = []
    try:
        for name in ("numpy", "numba"):
            kernels.set_backend(name)
            results.append(fn())
    finally:
        kernels.set_backend(before)
    return results


# ---------------------------------------------------------------------- the switch
def _python(code: str, backend: str | None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a new Python process with ``MLPZERO_BACKEND`` set to ``backend``
    (unset for None); its completed process, which must have exited with 0."""
    env = {k: v for k, v in os.environ.items() if k != "MLPZERO_BACKEND"}
    if backend is not None:
        env["MLPZERO_BACKEND"] = backend
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done


def _default_backend_in_a_new_process(before: str = "pass") -> list[str]:
    """What a fresh process without ``MLPZERO_BACKEND`` reports: whether importing mlpzero
    imported numba, then the backend."""
    code = (
        f"import sys; {before}; import mlpzero; print(sys.modules.get('numba') is not None); "
        "print(mlpzero.get_backend())"
    )
    return _python(code, None).stdout.split()


@needs_numba
def test_numba_is_the_default_backend_and_is_imported_only_when_used():
    assert _default_backend_in_a_new_process() == ["False", "numba"]


def test_without_numba_numpy_is_the_default_backend():
    hidden = "sys.modules['numba'] = None"  # as if numba were not installed
    assert _default_backend_in_a_new_process(hidden) == ["False", "numpy"]


def test_a_numba_that_fails_to_import_leaves_numpy_in_charge(monkeypatch):
    monkeypatch.setattr(kernels, "_compiled", None)
    monkeypatch.setattr(kernels, "_backend", "numba")
    monkeypatch.setattr(kernels, "_automatic", True)  # numba by default, not asked for
    monkeypatch.setitem(sys.modules, "mlpzero._numba_kernels", None)  # import fails
    assert kernels.compiled() is None
    assert mlpzero.get_backend() == "numpy"
    net = Network([3, 40, 2], "relu", rng=0)
    assert net.forward(np.ones((20, 3), np.float32)).shape == (20, 2)


#: Run first in a new process: numba is found, but importing it raises OSError, as when
#: llvmlite cannot load its shared library.
_BROKEN_NUMBA = (
    "import importlib.abc, importlib.util, sys\n"
    "class Loader(importlib.abc.Loader):\n"
    "    def create_module(self, spec):\n"
    "        return None\n"
    "    def exec_module(self, module):\n"
    "        raise OSError('Could not find/load shared object file')\n"
    "class Finder(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'numba':\n"
    "            return importlib.util.spec_from_loader(name, Loader())\n"
    "sys.meta_path.insert(0, Finder())\n"
)


def _run_with_broken_numba(code, variable):
    """Run ``code`` in a new process whose numba import raises OSError, with
    ``MLPZERO_BACKEND`` set to ``variable`` (unset for None)."""
    return _python(_BROKEN_NUMBA + code, variable)


@pytest.mark.parametrize("variable", [None, "numba"])
def test_a_numba_that_raises_oserror_on_import_leaves_numpy_in_charge(variable):
    code = (
        "import numpy as np\n"
        "from mlpzero import MLP, get_backend\n"
        "X = np.linspace(-1, 1, 20).reshape(10, 2)\n"
        "MLP(hidden=(3,)).fit(X, X[:, 0] > 0, epochs=2)\n"
        "print(get_backend())\n"
    )
    done = _run_with_broken_numba(code, variable)
    assert done.stdout.split() == ["numpy"]
    if variable == "numba":
        assert "using the backend 'numpy'" in done.stderr


@pytest.mark.parametrize("variable", [None, "numba"])
def test_a_numba_that_fails_to_import_is_not_called_missing(variable):
    """Asking for numba where it is installed but its import fails (llvmlite without its
    shared library) said that numba is not installed and to pip install it, which it is:
    the message now says that the import failed, and with what."""
    code = (
        "import mlpzero\n"
        "try:\n"
        "    mlpzero.set_backend('numba')\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = _run_with_broken_numba(code, variable)
    said = done.stdout + (done.stderr if variable else "")
    assert said.count("fails to import (OSError: Could not find/load shared object file)") == (
        2 if variable else 1
    )
    assert "not installed" not in said and "pip install" not in said


@needs_numba
def test_the_environment_variable_chooses_the_backend():
    done = _python("import mlpzero; print(mlpzero.get_backend())", "numba")
    assert done.stdout.strip() == "numba", done.stderr


def test_a_bad_environment_variable_warns_and_keeps_numpy():
    code = (
        "import mlpzero\n"
        "print(mlpzero.get_backend())\n"
        "try:\n"
        "    mlpzero.set_backend('cuda')\n"
        "except ValueError as error:\n"
        "    print('ValueError:', error)\n"
    )
    done = _python(code, "cuda")
    assert done.stdout.splitlines() == [
        "numpy",
        "ValueError: backend must be one of 'numpy', 'numba', got 'cuda'",
    ]
    assert "RuntimeWarning" in done.stderr
    assert (
        "MLPZERO_BACKEND must be one of 'numpy', 'numba', got 'cuda'; "
        "using the backend 'numpy'" in done.stderr
    )


def test_the_environment_asking_for_numba_without_it_warns_and_keeps_numpy():
    # None in sys.modules makes "import numba" fail, as when it is not installed.
    code = "import sys; sys.modules['numba'] = None\nimport mlpzero; print(mlpzero.get_backend())"
    done = _python(code, "numba")
    assert done.stdout.strip() == "numpy"
    assert "MLPZERO_BACKEND is 'numba', which needs numba: pip install numba" in done.stderr
    assert "using the backend 'numpy'" in done.stderr


@needs_numba
def test_the_kernels_compile_uncached_where_no_cache_folder_is_writable():
    # numba finds no folder to cache in (a read-only installation whose user has no
    # writable cache directory) when none of its cache locators applies.
    code = (
        "import numba.core.caching as caching\n"
        "impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl\n"
        "impl._locator_classes = []\n"
        "import numpy as np\n"
        "import mlpzero\n"
        "from mlpzero.network import Network\n"
        "X = np.linspace(-1, 1, 8).reshape(4, 2)\n"
        "numba = Network([2, 3, 1], 'tanh', dtype='float64', rng=0).forward(X).copy()\n"
        "mlpzero.set_backend('numpy')\n"
        "numpy = Network([2, 3, 1], 'tanh', dtype='float64', rng=0).forward(X)\n"
        "print(np.allclose(numba, numpy, rtol=1e-12, atol=0))\n"
    )
    done = _python(code, "numba", timeout=300)
    assert done.stdout.split() == ["True"]


@needs_numba
@pytest.mark.parametrize("damaged", ["nbc", "nbi"])
def test_a_damaged_cache_file_is_compiled_again_and_mended(tmp_path, damaged, monkeypatch):
    """A cache file cut short (a data file, ``.nbc``, or the index, ``.nbi``) made numba
    raise on every later use of its kernel, failing every fit until it was deleted by
    hand. The kernel is now compiled again, with a warning, and its cache written anew."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    code = (
        "import warnings\n"
        "import numpy as np\n"
        "from mlpzero import kernels\n"
        "p, g, m, v = (np.full(5, x) for x in (1.0, 0.5, 0.0, 0.0))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    kernels.compiled().adam(p, g, m, v, 0.9, 0.1, 0.999, 0.001, 0.01, 1e-8)\n"
        "print(p[0], m[0], [str(w.message) for w in caught if 'cache' in str(w.message)])\n"
    )
    first = _python(code, "numba")
    step, moment, caught = first.stdout.split(" ", 2)
    assert float(step) == pytest.approx(1 - 0.01 * 0.05 / (np.sqrt(0.00025) + 1e-8), rel=1e-12)
    assert (float(moment), caught.strip()) == (pytest.approx(0.05), "[]")
    expected = f"{step} {moment}"
    (cached,) = tmp_path.glob(f"*/_numba_kernels.adam-*.{damaged}")
    cached.write_bytes(cached.read_bytes()[:40])
    mended = _python(code, "numba")
    assert mended.stdout.startswith(expected + " [")
    assert "numba's cache of the kernel adam" in mended.stdout
    assert "compiled again" in mended.stdout
    assert _python(code, "numba").stdout.startswith(expected + " []")  # read from the cache


@needs_numba
@pytest.mark.skipif(not hasattr(os, "fork"), reason="processes made by fork")
def test_a_process_forked_while_another_thread_compiles_can_compile():
    """A process made by fork has only the thread that forked: a kernel compiling in
    another thread at that moment held numba's compiler lock in the child for ever, and
    the child's first compile of its own never returned. The fork now waits for it."""
    code = (
        "import os, threading, time\n"
        "import numba.core.caching as caching\n"
        "impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl\n"
        "impl._locator_classes = []  # compiled anew, not loaded from a cache\n"
        "import numpy as np\n"
        "from numba.core.compiler_lock import global_compiler_lock\n"
        "from mlpzero import kernels\n"
        "from mlpzero.network import Network\n"
        "kernels.compiled()\n"
        "X = np.linspace(-1, 1, 8).reshape(4, 2)\n"
        "net = Network([2, 3, 1], 'tanh', dtype='float64', rng=0)\n"
        "compiling = threading.Thread(target=net.forward, args=(X,))\n"
        "compiling.start()\n"
        "while global_compiler_lock._lock.acquire(blocking=False):  # until it compiles\n"
        "    global_compiler_lock._lock.release()\n"
        "    assert compiling.is_alive(), 'the thread compiled nothing'\n"
        "    time.sleep(0.001)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    own = Network([2, 3, 1], 'relu', dtype='float32', rng=0)\n"
        "    own.forward(X.astype(np.float32))\n"
        "    os._exit(0)\n"
        "deadline = time.monotonic() + 120\n"
        "while time.monotonic() < deadline:\n"
        "    done, status = os.waitpid(pid, os.WNOHANG)\n"
        "    if done:\n"
        "        print('exited', status)\n"
        "        break\n"
        "    time.sleep(0.1)\n"
        "else:\n"
        "    os.kill(pid, 9)\n"
        "    os.waitpid(pid, 0)\n"
        "    print('hung')\n"
        "compiling.join()\n"
    )
    done = _python(code, "numba", timeout=300)
    assert done.stdout.split() == ["exited", "0"], (
        "the child's compile waited for a thread it does not have"
    )


def test_set_backend_refuses_unknown_names():
    before = mlpzero.get_backend()
    with pytest.raises(ValueError, match="backend must be one of 'numpy', 'numba', got 'jax'"):
        mlpzero.set_backend("jax")
    assert mlpzero.get_backend() == before


def test_without_numba_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(kernels, "numba_available", lambda: False)
    monkeypatch.setattr(kernels, "_compiled", None)
    monkeypatch.setattr(kernels, "_backend", "numpy")
    with pytest.raises(ImportError, match=r"needs numba, which is not installed: pip install"):
        mlpzero.set_backend("numba")
    assert mlpzero.get_backend() == "numpy"


# ---------------------------------------------------------------------- when it applies
def test_plan_only_for_small_networks_of_known_activations():
    assert kernels.plan_for([2, 8, 4, 1], [get_activation("relu")] * 2) is not None
    wide = [2, kernels.SMALL_LAYER + 1, 1]
    assert kernels.plan_for(wide, [get_activation("relu")]) is None
    assert kernels.plan_for([kernels.SMALL_LAYER + 1, 4, 1], [get_activation("relu")]) is None

    class Square(Activation):
        name = "relu"  # a user-defined class that reuses a built-in name

        def __call__(self, z, out=None):
            return np.multiply(z, z, out=out)

    assert kernels.plan_for([2, 4, 1], [Square()]) is None
    plan = kernels.plan_for([2, 4, 3, 1], [LeakyReLU(0.2), get_activation("sigmoid")])
    assert plan.codes.tolist() == [2, 3] and plan.alphas.tolist() == [0.2, 0.0]
    # sigmoid and tanh take the kernels' vectorised exp, but float32 tanh stays with
    # NumPy's float32 SIMD ufunc
    for dtype in ("float32", "float64"):
        assert kernels.plan_for([2, 4, 1], [get_activation("sigmoid")], dtype) is not None
        assert kernels.layer_codes([get_activation("sigmoid")], dtype) == [(3, 0.0)]
    assert kernels.plan_for([2, 4, 1], [get_activation("tanh")], "float64") is not None
    assert kernels.layer_codes([get_activation("tanh")], "float64") == [(4, 0.0)]
    assert kernels.plan_for([2, 4, 1], [get_activation("tanh")], "float32") is None
    assert kernels.layer_codes([get_activation("tanh")], "float32") == [None]


@needs_numba
def test_the_compiled_pass_runs_only_where_it_applies(numba_on):
    X = np.random.default_rng(0).standard_normal((16, 3))
    small = Network([3, 5, 1], "relu", dtype="float64", rng=0)
    small.forward(X)
    assert small._pass_kernels is not None
    wide = Network([3, 64, 1], "relu", dtype="float64", rng=0)
    wide.forward(X)
    assert wide._pass_kernels is None
    small.dropout = [0.5]
    small.forward(X, training=True)  # dropout masks: the NumPy pass
    assert small._pass_kernels is None
    small.forward(X)  # dropout is off outside training
    assert small._pass_kernels is not None
    kernels.set_backend("numpy")
    small.forward(X)
    assert small._pass_kernels is None


@needs_numba
def test_backward_follows_the_forward_even_if_the_backend_changes_between(numba_on):
    net = Network([3, 5, 1], "sigmoid", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((6, 3))
    upstream = np.ones((6, 1))
    net.forward(X)
    kernels.set_backend("numpy")
    compiled_grads = net.backward(upstream).copy()
    net.forward(X)
    np.testing.assert_allclose(net.backward(upstream), compiled_grads, rtol=1e-12)


# ---------------------------------------------------------------------- agreement
CASES = [
    ([3, 1], "relu"),
    ([2, 8, 4, 1], "relu"),
    ([4, 7, 3], "tanh"),
    ([5, 6, 6, 2], "sigmoid"),
    ([3, 9, 4], "leaky_relu"),
    ([6, 5, 4, 3, 2], "identity"),
    ([2, 32, 32, 1], "relu"),
    ([3, 4, 5, 3], ["tanh", "relu"]),
    # wider than SMALL_LAYER: BLAS products with the per-layer kernels around them
    ([40, 48, 36, 3], "leaky_relu"),
    ([33, 40, 2], "sigmoid"),
    ([34, 35, 4, 2], ["tanh", "relu"]),
]


@needs_numba
@pytest.mark.parametrize("sizes, activation", CASES)
@pytest.mark.parametrize("rows", [1, 2, 33, 1000])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_and_backward_agree_with_numpy(sizes, activation, rows, dtype):
    rng = np.random.default_rng(rows)
    X = rng.standard_normal((rows, sizes[0])).astype(dtype)
    upstream = rng.standard_normal((rows, sizes[-1])).astype(dtype)
    net = Network(sizes, activation, dtype=dtype, rng=1)
    net.params += rng.standard_normal(net.n_params).astype(dtype) * 0.1  # non-zero biases

    def passes():
        logits = net.forward(X).copy()
        net.backward(upstream)
        cache = net.cache()
        return (
            logits,
            net.grads.copy(),
            [d.copy() for d in cache["dZ"]],
            [a.copy() for a in cache["A"][1:]],
        )

    (z0, g0, d0, a0), (z1, g1, d1, a1) = _both(passes)
    tol = {"float64": 1e-12, "float32": 2e-5}[dtype]
    scale = max(1.0, float(np.abs(g0).max()))
    np.testing.assert_allclose(z1, z0, rtol=tol, atol=tol)
    np.testing.assert_allclose(g1, g0, rtol=tol, atol=tol * scale)
    for got, want in zip(d1 + a1, d0 + a0, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)
    assert g1.dtype == np.dtype(dtype)


@needs_numba
def test_wide_layers_run_the_per_layer_kernels(numba_on, monkeypatch):
    compiled = kernels.compiled()
    calls = []
    for name in ("add_bias_activate", "slope_and_bias_gradient"):
        kernel = getattr(compiled, name)
        monkeypatch.setattr(
            compiled, name, lambda *a, kernel=kernel, name=name: calls.append(name) or kernel(*a)
        )
    net = Network([40, 64, 48, 3], "relu", dtype="float32", rng=0)
    X = np.ones((32, 40), dtype=np.float32)
    net.forward(X)
    net.backward(np.ones((32, 3), np.float32))
    assert calls.count("add_bias_activate") == 3  # two hidden layers and the output's bias
    assert calls.count("slope_and_bias_gradient") == 3
    calls.clear()
    net.forward(X[:2])  # too few rows to pay for the calls: NumPy
    assert calls == []
    tanh32 = Network([40, 64, 3], "tanh", dtype="float32", rng=0)
    tanh32.forward(X)  # float32 tanh stays with NumPy's SIMD ufunc; only the output's bias
    assert calls == ["add_bias_activate"]
    tanh64 = Network([40, 64, 3], "tanh", dtype="float64", rng=0)
    calls.clear()
    tanh64.forward(X.astype(np.float64))  # float64 tanh: the hidden layer too
    assert calls == ["add_bias_activate"] * 2


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_wide_layers_with_dropout_agree_with_numpy(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 40)).astype(dtype)
    upstream = rng.standard_normal((64, 2)).astype(dtype)

    def passes():
        net = Network([40, 50, 40, 2], "relu", dtype=dtype, rng=1)
        net.dropout = [0.3, 0.5]
        net.dropout_rng = np.random.default_rng(7)
        logits = net.forward(X, training=True).copy()
        return logits, net.backward(upstream).copy()

    (z0, g0), (z1, g1) = _both(passes)
    tol = {"float64": 1e-12, "float32": 2e-5}[dtype]
    np.testing.assert_allclose(z1, z0, rtol=tol, atol=tol)
    np.testing.assert_allclose(g1, g0, rtol=tol, atol=tol * float(np.abs(g0).max()))


@needs_numba
def test_non_contiguous_input_gives_the_same_pass():
    X = np.random.default_rng(0).standard_normal((40, 6))[::2, ::2]  # a strided view
    net = Network([3, 4, 1], "sigmoid", dtype="float64", rng=0)
    z0, z1 = _both(lambda: net.forward(X).copy())
    np.testing.assert_allclose(z1, z0, rtol=1e-13)


@needs_numba
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid"])
def test_nan_and_inf_propagate_as_in_numpy(activation):
    # Divergence checks need NaN and inf to travel through both passes as NumPy lets them.
    X = np.random.default_rng(0).standard_normal((6, 2))
    for poison in (np.nan, np.inf):
        net = Network([2, 3, 3, 1], activation, dtype="float64", rng=0)
        net.params[0] = poison
        upstream = np.full((6, 1), poison)

        def passes(net=net, upstream=upstream):
            with np.errstate(all="ignore"):  # NumPy warns of inf * 0; the kernels cannot
                logits = net.forward(X).copy()
                return logits, net.backward(upstream).copy()

        (z0, g0), (z1, g1) = _both(passes)
        np.testing.assert_array_equal(np.isnan(z1), np.isnan(z0))
        np.testing.assert_array_equal(np.isnan(g1), np.isnan(g0))
        np.testing.assert_array_equal(np.isinf(g1), np.isinf(g0))
    sigmoid_net = Network([2, 3, 1], "sigmoid", dtype="float64", rng=0)
    sigmoid_net.weights[0][...] = -1e6  # exp overflows to inf: sigmoid is exactly 0
    kernels.set_backend("numba")
    try:
        sigmoid_net.forward(np.ones((4, 2)))
    finally:
        kernels.set_backend("numpy")
    assert (sigmoid_net.cache()["A"][1] == 0).all()


@needs_numba
def test_inputs_the_kernels_do_not_take_go_to_numpy(numba_on):
    net = Network([3, 5, 1], "relu", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((6, 3))
    expected = net.forward(X).copy()
    assert net._pass_kernels is not None
    for other in (X.astype(">f8"), X.astype(np.float32), X.astype(np.float16)):
        np.testing.assert_allclose(net.forward(other), expected, rtol=1e-3)
        assert net._pass_kernels is None
    for width in (2, 4):  # the wrong width fails by name, never reads past X
        with pytest.raises(ValueError, match="X must have shape"):
            net.forward(np.ones((6, width)))


@needs_numba
def test_large_batches_go_to_blas(numba_on):
    net = Network([2, 32, 32, 1], "relu", dtype="float64", rng=0)
    rows = kernels.MAX_WORK // net.kernel_plan.work_per_row
    net.forward(np.ones((rows, 2)))
    assert net._pass_kernels is not None
    net.forward(np.ones((rows + 1, 2)))
    assert net._pass_kernels is None


@needs_numba
def test_loss_subclasses_keep_their_own_formulas(numba_on):
    class Smoothed(BinaryCrossEntropy):
        def per_sample(self, logits, targets):
            return super().per_sample(logits, 0.9 * targets + 0.05)

    class Clipped(SquaredError):
        def link(self, logits, out=None):
            return np.clip(logits, -0.5, 0.5, out=out)

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((20, 1)) * 2
    Y = rng.integers(0, 2, (20, 1)).astype(float)
    out = np.empty_like(logits)
    for loss in (Smoothed(), Clipped()):
        v0, v1 = _both(lambda loss=loss: loss.value(logits, Y))
        g0, g1 = _both(lambda loss=loss: loss.gradient(logits, Y, out=out).copy())
        assert v1 == v0
        np.testing.assert_array_equal(g1, g0)
    expected = np.clip(logits, -0.5, 0.5) - Y
    np.testing.assert_allclose(Clipped().gradient(logits, Y, out=out), expected / 20)


def _outcome(call):
    """``call()``'s result as a float array, or the type of the exception it raised."""
    try:
        return np.asarray(call(), dtype=float).copy()
    except Exception as error:  # the two backends must fail alike
        return type(error)


@needs_numba
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
@pytest.mark.parametrize("shape", [(6, 1), (1, 3), (6, 2), (6,)])
def test_targets_of_another_shape_than_the_logits_are_not_read_out_of_bounds(loss, shape):
    # The kernels index the targets as the logits, without bounds checks: a target that
    # NumPy broadcasts, or refuses, must get the same treatment on both backends.
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 3))
    around = np.full((8, 4), 7.0)  # what a read beyond the targets would find
    Y = around[: shape[0], : shape[1]] if len(shape) == 2 else around[: shape[0], 0]
    Y[...] = rng.integers(0, 2, shape)
    calls = (
        lambda: loss.value(logits, Y),
        lambda: loss.gradient(logits, Y, out=np.empty_like(logits)),
        lambda: loss.value_and_gradient(logits, Y, out=np.empty_like(logits))[0],
        lambda: loss.value_and_gradient(logits, Y, out=np.empty_like(logits))[1],
    )
    for call in calls:
        on_numpy, on_numba = _both(lambda call=call: _outcome(call))
        if isinstance(on_numpy, type):
            assert on_numba is on_numpy
        else:
            np.testing.assert_allclose(on_numba, on_numpy, rtol=1e-12)


@needs_numba
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
@pytest.mark.parametrize("swapped", ["logits", "targets", "out"])
def test_arrays_in_the_other_byte_order_give_the_numpy_result(loss, swapped):
    # numba compiles for the machine's byte order only: such arrays go to NumPy.
    rng = np.random.default_rng(0)
    arrays = {
        "logits": rng.standard_normal((6, 3)),
        "targets": np.eye(3)[rng.integers(0, 3, 6)],
        "out": np.empty((6, 3)),
    }
    arrays[swapped] = arrays[swapped].astype(arrays[swapped].dtype.newbyteorder())
    logits, Y, out = arrays["logits"], arrays["targets"], arrays["out"]
    calls = (
        lambda: loss.value(logits, Y),
        lambda: loss.gradient(logits, Y, out=out).copy(),
        lambda: loss.value_and_gradient(logits, Y, out=out)[0],
        lambda: loss.value_and_gradient(logits, Y, out=out)[1].copy(),
    )
    for call in calls:
        on_numpy, on_numba = _both(call)
        np.testing.assert_allclose(on_numba, on_numpy, rtol=1e-12)


@needs_numba
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
@pytest.mark.parametrize("changed", ["logits", "targets", "out"])
def test_arrays_of_a_dtype_numba_lacks_give_the_numpy_result(loss, dtype, changed):
    rng = np.random.default_rng(0)
    arrays = {
        "logits": rng.standard_normal((6, 3)).astype(np.float32),
        "targets": np.eye(3, dtype=np.float32)[rng.integers(0, 3, 6)],
        "out": np.empty((6, 3), np.float32),
    }
    arrays[changed] = arrays[changed].astype(dtype)
    logits, Y, out = arrays["logits"], arrays["targets"], arrays["out"]
    calls = (
        lambda: loss.value(logits, Y),
        lambda: loss.gradient(logits, Y, out=out).astype(float),
        lambda: loss.value_and_gradient(logits, Y, out=out)[0],
        lambda: loss.value_and_gradient(logits, Y, out=out)[1].astype(float),
    )
    for call in calls:
        on_numpy, on_numba = _both(call)
        np.testing.assert_allclose(on_numba, on_numpy, rtol=1e-6)


@needs_numba
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
def test_a_read_only_out_is_refused_as_numpy_refuses_it(loss):
    rng = np.random.default_rng(0)
    logits, Y = rng.standard_normal((6, 3)), np.eye(3)[rng.integers(0, 3, 6)]
    out = np.empty_like(logits)
    out.flags.writeable = False
    for call in (loss.gradient, loss.value_and_gradient):
        refusals = _both(lambda call=call: _outcome(lambda: call(logits, Y, out=out)))
        assert refusals == [ValueError, ValueError]


def test_the_mean_of_no_samples_is_nan(backend):
    empty = np.empty((0, 1))
    assert np.isnan(BinaryCrossEntropy().value(empty, empty))
    assert np.isnan(SquaredError().value(empty, empty))


def test_a_pickled_network_does_not_depend_on_the_kernels_module():
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    data = pickle.dumps(net)
    assert b"SmallNetworkPlan" not in data and b"mlpzero.kernels" not in data
    assert pickle.loads(data).kernel_plan is not None  # rebuilt on load


@needs_numba
def test_a_corrupted_kernel_is_caught_by_the_gradient_check(numba_on, monkeypatch):
    """The gradient check sees the compiled pass: a backward kernel that takes the
    sigmoid's slope as 1 fails it."""
    net = Network([3, 4, 1], "sigmoid", dtype="float64", rng=0)
    X = np.random.default_rng(1).standard_normal((5, 3))
    Y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    assert gradcheck(net, BinaryCrossEntropy(), X, Y).relative_error < 1e-7
    compiled = kernels.compiled()
    backward = compiled.backward

    def identity_slopes(params, grads, sizes, codes, *rest):
        backward(params, grads, sizes, np.zeros_like(codes), *rest)

    monkeypatch.setattr(compiled, "backward", identity_slopes)
    assert gradcheck(net, BinaryCrossEntropy(), X, Y).relative_error > 1e-3


@needs_numba
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), SquaredError(), CategoricalCrossEntropy()])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_output_gradient_agrees_with_numpy(loss, dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((50, 3)) * 30).astype(dtype)  # saturating sigmoids too
    Y = np.eye(3)[rng.integers(0, 3, 50)].astype(dtype)
    out = np.empty_like(logits)
    g0, g1 = _both(lambda: loss.gradient(logits, Y, out=out).copy())
    # Both round sigmoid(z) - y at about eps near saturation (the kernel in float64 first),
    # so the bound is a few eps of the gradient's scale 1/m.
    bound = 4 * np.finfo(dtype).eps / len(logits)
    np.testing.assert_allclose(g1, g0, rtol=0, atol=bound)


@needs_numba
def test_the_compiled_exp_is_within_one_ulp_of_the_exact_value():
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        pytest.skip("needs a long double wider than float64 as the oracle")
    from numba import njit

    from mlpzero._numba_kernels import _exp_parts

    @njit(fastmath={"contract"})  # as the forward kernels, its callers, are compiled
    def exp_all(x, out):
        for i in range(x.shape[0]):
            s, h, g = _exp_parts(x[i])
            out[i] = (1.0 + s) * h * g  # e^x, as its docstring assembles it

    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-745.2, 709.78, 400_001), rng.uniform(-1, 1, 100_000)])
    ours = np.empty_like(x)
    exp_all(x, ours)
    exact = np.exp(x.astype(np.longdouble))
    normal = exact >= np.finfo(np.float64).tiny
    assert normal.sum() > 390_000 and (~normal).sum() > 100  # both ranges are covered
    ulps = np.abs(ours[normal] - exact[normal]) / np.spacing(exact[normal].astype(np.float64))
    assert ulps.max() <= 1.0
    smallest = np.nextafter(0.0, 1.0)  # below the normal range: within one subnormal step
    assert np.abs(ours[~normal] - exact[~normal]).max() <= smallest

    edges = np.array([0.0, -0.0, 1.0, 709.78, 709.79, 1e300, np.inf, -745.1, -745.2, -1e300,
                      -np.inf, np.nan])  # fmt: skip
    out = np.empty_like(edges)
    exp_all(edges, out)
    with np.errstate(over="ignore"):
        expected = np.exp(edges)
    np.testing.assert_array_max_ulp(out[:4], expected[:4], maxulp=1)
    np.testing.assert_array_equal(out[4:], expected[4:])  # inf, 5e-324, 0 and NaN exactly
    assert out[7] == smallest


@needs_numba
@pytest.mark.parametrize("tanh", [True, False])
def test_the_compiled_tanh_and_sigmoid_are_within_three_ulp_of_the_exact_values(tanh):
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        pytest.skip("needs a long double wider than float64 as the oracle")
    from numba import njit

    from mlpzero._numba_kernels import _sigmoid_or_tanh

    @njit(fastmath={"contract"})  # as the forward kernels, its callers, are compiled
    def apply(x, out):
        for s in range(x.shape[0]):
            out[s] = _sigmoid_or_tanh(x[s], tanh)

    def exact(x):
        x = x.astype(np.longdouble)
        return np.tanh(x) if tanh else 1 / (1 + np.exp(-x))

    rng = np.random.default_rng(0)
    tiny = 10.0 ** rng.uniform(-300, -5, 10_000)
    x = np.concatenate([np.linspace(-700, 40, 400_001), rng.uniform(-1, 1, 100_000), tiny])
    ours = np.empty_like(x)
    apply(x, ours)
    ulps = np.abs(ours - exact(x)) / np.spacing(np.abs(exact(x)).astype(np.float64))
    assert ulps.max() <= 3.0  # tanh near 0 too, where 1 - e^(-2|z|) would cancel

    edges = np.array([0.0, -0.0, 800.0, -800.0, np.inf, -np.inf, np.nan, 1e-320])
    out = np.empty_like(edges)
    apply(edges, out)
    with np.errstate(over="ignore"):
        expected = np.tanh(edges) if tanh else 1 / (1 + np.exp(-edges))
    np.testing.assert_array_equal(out, expected)
    assert np.signbit(out[1]) == tanh  # tanh(-0) is -0


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_sigmoid_output_gradient_is_near_exact(dtype):
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((1000, 2)) * 15).astype(dtype)
    logits[:4, 0] = [800, -800, np.inf, -np.inf]
    targets = np.zeros_like(logits)
    out = np.empty_like(logits)
    from mlpzero._numba_kernels import output_error

    output_error(logits, targets, np.dtype(dtype).type(1.0), out, True)  # out = sigmoid(Z)
    exact = 1 / (1 + np.exp(-logits.astype(np.longdouble)))
    # float64: a few rounding steps; float32: computed in float64, rounded once when stored
    rtol = 4 * np.finfo(np.float64).eps if dtype == "float64" else np.finfo(np.float32).eps / 2
    np.testing.assert_allclose(out, exact.astype(np.float64), rtol=rtol, atol=0)
    assert out[0, 0] == 1 and out[1, 0] == 0 and out[2, 0] == 1 and out[3, 0] == 0


@needs_numba
@pytest.mark.parametrize("epsilon", [0.0, 1e-7])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binary_crossentropy_value_agrees_with_numpy(dtype, epsilon):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((40, 3)) * 20).astype(dtype)
    logits[0, 0] = np.finfo(dtype).max  # clipped alike, finite alike
    logits[1, 1] = -np.finfo(dtype).max
    Y = rng.integers(0, 2, (40, 3)).astype(dtype)
    loss = BinaryCrossEntropy(epsilon)
    v0, v1 = _both(lambda: loss.value(logits, Y))
    assert np.isfinite(v0) and v1 == pytest.approx(v0, rel=1e-12)
    logits[2, 2] = np.nan  # divergence must stay visible in the loss
    assert all(np.isnan(v) for v in _both(lambda: loss.value(logits, Y)))


@needs_numba
@pytest.mark.parametrize("epsilon", [0.0, 1e-7])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_categorical_crossentropy_value_agrees_with_numpy(dtype, epsilon):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((40, 4)) * 20).astype(dtype)
    logits[0, 0] = np.finfo(dtype).max  # clipped alike, finite alike
    logits[1, 1] = -np.finfo(dtype).max
    Y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 40)]
    Y[3] = [0.25, 0.25, 0.5, 0.0]  # soft targets: the formula, not a one-hot shortcut
    loss = CategoricalCrossEntropy(epsilon)
    v0, v1 = _both(lambda: loss.value(logits, Y))
    assert np.isfinite(v0) and v1 == pytest.approx(v0, rel=1e-12)
    for poison in (np.nan, np.inf):  # divergence must stay visible in the loss
        bad = logits.copy()
        bad[2, 2] = poison
        values = _both(lambda bad=bad: loss.value(bad, Y))
        assert np.isnan(values[0]) == np.isnan(values[1])
        assert values[1] == pytest.approx(values[0], rel=1e-12, nan_ok=True)


@needs_numba
@pytest.mark.parametrize("optimizer", [Adam(0.01), Adam(0.01, weight_decay=0.1), AdamW(0.01)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_agrees_with_numpy_over_many_steps(optimizer, dtype):
    rng = np.random.default_rng(0)
    start = rng.standard_normal(1000).astype(dtype)
    grads = [rng.standard_normal(1000).astype(dtype) * 10.0**-k for k in range(-2, 6)] * 5

    def run():
        opt = optimizers.get(optimizer.config)  # a fresh copy for each backend
        params = start.copy()
        for g in grads:
            opt.step(params, g)
        return params, opt.state["exp_avg"], opt.state["exp_avg_sq"]

    (p0, m0, v0), (p1, m1, v1) = _both(run)
    tol = {"float64": 1e-12, "float32": 1e-5}[dtype]
    np.testing.assert_allclose(p1, p0, rtol=tol, atol=tol)
    np.testing.assert_allclose(m1, m0, rtol=tol, atol=tol)
    np.testing.assert_allclose(v1, v0, rtol=tol, atol=tol * 1e-4)
    assert p1.dtype == m1.dtype == v1.dtype == np.dtype(dtype)


@needs_numba
@pytest.mark.parametrize("optimizer", [Adam(0.01), AdamW(0.01)])
@pytest.mark.parametrize("dtype", [">f8", ">f4", "<f8", "<f4", "float16"])
def test_adam_on_parameters_the_kernel_does_not_take_agrees_with_numpy(optimizer, dtype):
    # numba compiles for the machine's byte order and has no float16: NumPy steps them.
    start = np.linspace(-1, 1, 7).astype(dtype)
    grads = np.linspace(0.5, -0.3, 7).astype(dtype)

    def run():
        opt = optimizers.get(optimizer.config)
        params = start.copy()
        for _ in range(3):
            opt.step(params, grads)
        return params

    on_numpy, on_numba = _both(run)
    assert on_numba.dtype == on_numpy.dtype == np.dtype(dtype)
    np.testing.assert_allclose(on_numba, on_numpy, rtol=1e-3)


@needs_numba
def test_adam_with_an_overflowed_square_keeps_the_parameter_as_numpy_does():
    # g^2 overflows float32, so v is infinite and m / (sqrt(v) + eps) is 0: the parameter
    # stays. The step times m overflows too; taking that product first gave inf / inf.
    grads = np.array([1e30, -1e30, 2e19, 1.0], dtype=np.float32)

    def run():
        opt = Adam(1e10)
        params = np.ones(4, dtype=np.float32)
        with np.errstate(over="ignore"):
            for _ in range(2):
                opt.step(params, grads)
        return params

    on_numpy, on_numba = _both(run)
    assert on_numpy[:3].tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(on_numba, on_numpy, rtol=1e-6)


# ---------------------------------------------------------------------- whole runs
@needs_numba
def test_fit_on_numba_learns_and_is_deterministic(numba_on):
    from mlpzero.datasets import make_circles

    X, y = make_circles(n_samples=400, noise=0.05, random_state=0)

    def fit():
        model = MLP(hidden=(16, 8), seed=3)
        model.fit(X, y, epochs=300, optimizer="adam", learning_rate=0.01)
        return model

    first, second = fit(), fit()
    assert first.evaluate(X, y)["accuracy"] >= 0.98
    np.testing.assert_array_equal(first.network.params, second.network.params)


@needs_numba
def test_fit_agrees_across_backends_on_a_small_network():
    from mlpzero.datasets import make_moons

    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)

    def fit():
        model = MLP(hidden=(8,), seed=1, dtype="float64")
        model.fit(X, y, epochs=50, optimizer="adam", learning_rate=0.01)
        return model.network.params.copy(), model.history["loss"]

    (p0, h0), (p1, h1) = _both(fit)
    np.testing.assert_allclose(p1, p0, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(h1, h0, rtol=1e-10)


def _article_run(X, Y, hidden=(8, 4), **options):
    from mlpzero import tutorial

    np.random.seed(42)
    params, _ = tutorial.multi_layer_neural_network(X, Y, list(hidden), **options)
    return np.concatenate([value.ravel() for value in params.values()])


@needs_numba
def test_compiled_gradient_descent_is_the_separate_steps_bit_for_bit(numba_on, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 300))
    Y = (X[:1] * X[1:] > 0).astype(float)
    fused = _article_run(X, Y, num_epochs=300, learning_rate=0.1)
    monkeypatch.setattr(kernels, "gradient_descent", lambda *args: None)  # step by step
    separate = _article_run(X, Y, num_epochs=300, learning_rate=0.1)
    np.testing.assert_array_equal(fused, separate)


@needs_numba
def test_compiled_gradient_descent_stops_at_the_same_diverging_epoch(numba_on, monkeypatch):
    from mlpzero.training import TrainingDivergedError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 50)) * 2e3
    Y = (X[:1] * X[1:] > 0).astype(float)
    epochs = []
    for patch in (False, True):
        if patch:
            monkeypatch.setattr(kernels, "gradient_descent", lambda *args: None)
        with pytest.raises(TrainingDivergedError) as error:
            _article_run(X, Y, hidden=[4], num_epochs=500, learning_rate=1e8)
        epochs.append(error.value.epoch)
    assert epochs[0] == epochs[1] < 500


def test_gradient_descent_refuses_a_negative_number_of_epochs():
    """On numba it returned the negative count as the steps taken, on NumPy None."""
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    before = net.params.copy()
    with pytest.raises(ValueError, match="epochs must be >= 0, got -3"):
        kernels.gradient_descent(net, X, Y, 0.1, -3, "sigmoid")
    np.testing.assert_array_equal(net.params, before)


@pytest.mark.parametrize("epochs", [2.7, True, "3"])
def test_gradient_descent_refuses_epochs_that_are_not_an_integer(epochs):
    """On numba 2.7 ran 2 steps and True 1, while NumPy declined (None) and the caller's
    own loop then failed on range(2.7); "3" failed comparing text with 0."""
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    before = net.params.copy()
    with pytest.raises(TypeError, match=f"epochs must be an integer, got {type(epochs).__name__}"):
        kernels.gradient_descent(net, X, Y, 0.1, epochs, "sigmoid")
    np.testing.assert_array_equal(net.params, before)


@needs_numba
def test_gradient_descent_of_no_epochs_leaves_the_last_pass_alone(numba_on):
    """No step ran, yet the network took the unwritten buffers for a forward pass of X:
    backward then returned gradients of uninitialised memory, where NumPy refuses."""
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.ones((3, 2)), np.zeros((3, 1))
    before = net.params.copy()
    assert kernels.gradient_descent(net, X, Y, 0.1, 0, "sigmoid") == 0
    np.testing.assert_array_equal(net.params, before)
    with pytest.raises(ValueError, match="backward needs a forward pass first"):
        net.backward(np.ones((3, 1)))


@pytest.mark.parametrize(
    "rate, error", [(float("nan"), ValueError), (-0.1, ValueError), ("0.1", TypeError)]
)
def test_gradient_descent_refuses_a_learning_rate_that_is_not_one(rate, error):
    """On numba NaN made every parameter NaN and -0.1 climbed the loss, while NumPy
    declined (None) and the caller's SGD refused the rate; text failed negating it."""
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    before = net.params.copy()
    with pytest.raises(error, match="learning_rate must be a"):
        kernels.gradient_descent(net, X, Y, rate, 5, "sigmoid")
    np.testing.assert_array_equal(net.params, before)


def test_gradient_descent_declines_when_it_does_not_apply(monkeypatch):
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    monkeypatch.setattr(kernels, "_backend", "numpy")
    assert kernels.gradient_descent(net, X, Y, 0.1, 5, "sigmoid") is None
    if kernels.numba_available():
        kernels.set_backend("numba")  # monkeypatch puts the backend back afterwards
        wide = Network([2, 64, 1], "relu", dtype="float64", rng=0)
        assert kernels.gradient_descent(wide, X, Y, 0.1, 5, "sigmoid") is None
        assert kernels.gradient_descent(net, X, Y, 0.1, 5, "softmax") is None
        assert kernels.gradient_descent(net, X[:, :1], Y, 0.1, 5, "sigmoid") is None
        assert kernels.gradient_descent(net, X, Y[:2], 0.1, 5, "sigmoid") is None
        assert kernels.gradient_descent(net, X[:0], Y[:0], 0.1, 5, "sigmoid") is None  # no rows
        assert kernels.gradient_descent(net, X.astype(np.float32), Y, 0.1, 5, "sigmoid") is None
        # not arrays: numba's run failed on X.ndim or Y.shape, where NumPy's declined
        assert kernels.gradient_descent(net, X.tolist(), Y, 0.1, 5, "sigmoid") is None
        assert kernels.gradient_descent(net, X, Y.tolist(), 0.1, 5, "sigmoid") is None
        dropping = Network([2, 4, 1], "relu", dtype="float64", rng=0)
        dropping.dropout = [0.5]
        assert kernels.gradient_descent(dropping, X, Y, 0.1, 5, "sigmoid") is None
        assert kernels.gradient_descent(net, X, Y, 0.1, 5, "sigmoid") == 5


@needs_numba
def test_a_pickled_network_runs_on_the_kernels(numba_on):
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X = np.random.default_rng(0).standard_normal((8, 2))
    copy = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(copy.forward(X), net.forward(X))
    assert copy._pass_kernels is not None


@needs_numba
@pytest.mark.parametrize("epsilon", [0.0, 1e-7])
def test_categorical_crossentropy_of_no_outputs_fails_as_on_numpy(epsilon):
    """The kernels read each row's first logit, past the end of rows of no outputs: the
    value came out of memory beyond the array (-inf) and the gradient divided by zero."""
    loss = CategoricalCrossEntropy(epsilon)
    logits, Y = np.zeros((3, 0)), np.zeros((3, 0))
    calls = [
        lambda: loss.value(logits, Y),
        lambda: loss.gradient(logits, Y, out=np.empty_like(logits)),
        lambda: loss.value_and_gradient(logits, Y, out=np.empty_like(logits)),
    ]
    for call in calls:
        on_numpy, on_numba = _both(lambda call=call: _value_error(call))
        assert on_numba == on_numpy


def _value_error(call):
    """The message of the ValueError that ``call()`` raises."""
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def fused_losses(epsilon):
    """The losses with a fused value-and-gradient kernel, the clipped ones at ``epsilon``."""
    return pytest.mark.parametrize(
        "loss",
        [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(),
         BinaryCrossEntropy(epsilon=epsilon), CategoricalCrossEntropy(epsilon=epsilon)],
        ids=["bce", "cce", "mse", "bce-clipped", "cce-clipped"],
    )  # fmt: skip


@needs_numba
@fused_losses(epsilon=1e-7)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_value_and_gradient_in_one_pass_agree_with_the_two_numpy_calls(loss, dtype):
    """The fused kernels against NumPy's value and gradient, logits of +-30 sigma: the
    clipped losses bound many log-probabilities (below log 1e-7 = -16.1)."""
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((50, 3)) * 30).astype(dtype)
    logits[0, 0] = np.finfo(dtype).max  # clipped for the value, as the NumPy value does
    Y = np.eye(3)[rng.integers(0, 3, 50)].astype(dtype)
    out = np.empty_like(logits)

    def both():
        value, gradient = loss.value_and_gradient(logits, Y, out=out)
        return value, gradient.copy()

    def separately():
        return loss.value(logits, Y), loss.gradient(logits, Y, out=out).copy()

    want_value, want_gradient = _both(separately)[0]
    (v0, g0), (v1, g1) = _both(both)
    assert v0 == want_value  # on NumPy: the two calls themselves
    np.testing.assert_array_equal(g0, want_gradient)
    assert v1 == pytest.approx(v0, rel=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=0, atol=4 * np.finfo(dtype).eps / len(logits))
    logits[1, 1] = np.nan  # divergence stays visible in both
    value, gradient = _both(both)[1]
    assert np.isnan(value) and np.isnan(gradient).any()


@needs_numba
@fused_losses(epsilon=1e-3)
def test_value_and_gradient_into_the_logits_themselves_agree_with_numpy(loss):
    """``out=logits`` (the gradient written over the logits, as NumPy allows): the value
    must come from the logits as they were, also where a row is clipped."""
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((20, 3)) * 5
    logits[0, 0] = 1e305  # beyond LOGIT_LIMIT: the row's value takes the clipping path
    Y = np.eye(3)[rng.integers(0, 3, 20)]

    def in_place():
        z = logits.copy()
        value, gradient = loss.value_and_gradient(z, Y, out=z)
        return value, gradient.copy()

    (v0, g0), (v1, g1) = _both(in_place)
    assert v1 == pytest.approx(v0, rel=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=0, atol=1e-15)


@needs_numba
@pytest.mark.parametrize("epsilon", [0.0, 1e-7])
@pytest.mark.parametrize("loss_type", [BinaryCrossEntropy, CategoricalCrossEntropy])
def test_the_fused_kernels_take_float32_logits_to_float64_for_the_value(loss_type, epsilon):
    """Logits of a few units, where every exponential counts: the one-pass value of float32
    logits is NumPy's float64 value to rounding (the kernels widen with np.float64())."""
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal((500, 3)) * 3).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 500)]
    loss = loss_type(epsilon)

    def value_from_one_pass():
        return loss.value_and_gradient(logits, Y, out=np.empty_like(logits))[0]

    on_numpy, on_numba = _both(value_from_one_pass)  # NumPy: its value, then its gradient
    assert on_numba == pytest.approx(on_numpy, rel=1e-13)


# ------------------------------------------------- MLP.fit's full-batch epochs, compiled
def _plain_fit(X, y, dtype, epochs, lr=0.1, **options):
    """A full-batch gradient-descent fit; its parameters, history and step count."""
    model = MLP(hidden=(8, 4), seed=0, dtype=dtype)
    model.fit(X, y, epochs=epochs, learning_rate=lr, **options)
    return model


def _epoch_by_epoch(monkeypatch):
    """Make the training loop take every epoch from Python, as without the kernels."""
    monkeypatch.setattr(kernels, "fit_epochs", lambda *args: None)


def _counting_fit_epochs(monkeypatch):
    """Count the compiled calls of full-batch epochs (the real kernel still runs)."""
    calls = []
    real = kernels.fit_epochs

    def counted(*args):
        calls.append(args[4])
        return real(*args)

    monkeypatch.setattr(kernels, "fit_epochs", counted)
    return calls


def _xor(rows=300, outputs=1):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(int)
    return X, (y[:, 0] if outputs == 1 else np.hstack([y, 1 - y, y])[:, :outputs])


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_full_batch_epochs_in_compiled_calls_are_the_epoch_loop_bit_for_bit(
    numba_on, monkeypatch, dtype, outputs
):
    from mlpzero import training

    X, y = _xor(outputs=outputs)
    work_per_row = 2 * 8 + 8 * 4 + 4 * outputs
    monkeypatch.setattr(training, "_COMPILED_CALL_WORK", 300 * work_per_row * 40)  # 40 epochs
    calls = _counting_fit_epochs(monkeypatch)
    compiled = _plain_fit(X, y, dtype, epochs=130)
    assert calls == [40, 40, 40, 10]
    compiled.fit(X, y, epochs=5, learning_rate=0.1)  # a second fit continues
    assert calls[-1] == 5
    _epoch_by_epoch(monkeypatch)
    looped = _plain_fit(X, y, dtype, epochs=130)
    looped.fit(X, y, epochs=5, learning_rate=0.1)
    np.testing.assert_array_equal(compiled.network.params, looped.network.params)
    assert compiled.history.history == looped.history.history
    assert set(compiled.history.history) == {"loss", "accuracy", "lr"}
    assert compiled.history.epochs == 135
    assert compiled.optimizer_.iterations == looped.optimizer_.iterations == 5  # this fit's


@needs_numba
@pytest.mark.parametrize("per_call", [1, 7])
def test_compiled_full_batch_epochs_diverge_as_the_epoch_loop_does(numba_on, monkeypatch, per_call):
    from mlpzero import training
    from mlpzero.training import TrainingDivergedError

    X, y = _xor(rows=50)
    monkeypatch.setattr(training, "_COMPILED_CALL_WORK", 50 * 52 * per_call)
    outcomes = []
    for compiled in (True, False):
        if not compiled:
            _epoch_by_epoch(monkeypatch)
        model = MLP(hidden=(8, 4), seed=0)
        with pytest.raises(TrainingDivergedError) as error:
            model.fit(X * 100, y, epochs=500, learning_rate=1e6)
        outcomes.append((error.value.epoch, str(error.value), model))
    (epoch, message, compiled), (epoch_loop, message_loop, looped) = outcomes
    assert 0 < epoch == epoch_loop
    assert message == message_loop
    np.testing.assert_array_equal(compiled.network.params, looped.network.params)
    assert np.isfinite(compiled.network.params).all()  # the start of the failing epoch
    assert compiled.history.history == looped.history.history
    assert compiled.history.epochs == epoch


@needs_numba
def test_ctrl_c_between_compiled_calls_keeps_the_completed_calls(numba_on, monkeypatch, capsys):
    from mlpzero import training

    X, y = _xor()
    monkeypatch.setattr(training, "_COMPILED_CALL_WORK", 300 * 52 * 10)  # calls of 10 epochs
    real, calls = kernels.fit_epochs, []

    def interrupted_in_the_third_call(*args):
        calls.append(1)
        done = real(*args)  # the epochs run, as when Ctrl-C comes during the call
        if len(calls) == 3:
            raise KeyboardInterrupt
        return done

    monkeypatch.setattr(kernels, "fit_epochs", interrupted_in_the_third_call)
    model = _plain_fit(X, y, "float64", epochs=100)
    assert "interrupted (Ctrl-C) after 20 completed epochs" in capsys.readouterr().err
    assert model.history.interrupted
    monkeypatch.setattr(kernels, "fit_epochs", real)
    twenty = _plain_fit(X, y, "float64", epochs=20)
    assert model.history.epochs == 20 and model.optimizer_.iterations == 20
    assert model.history.history == twenty.history.history
    np.testing.assert_array_equal(model.network.params, twenty.network.params)


@needs_numba
@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": optimizers.SGD(0.1, momentum=0.9)},
        {"optimizer": "adam"},
        {"l2": 1e-3},
        {"batch_size": 100},
        {"validation_split": 0.2},
        {"sample_weight": np.ones(300)},
        {"callbacks": [mlpzero.callbacks.Callback()]},
        {"schedule": "cosine"},
    ],
    ids=lambda options: next(iter(options)),
)
def test_fits_that_need_python_every_epoch_take_the_epoch_loop(numba_on, monkeypatch, options):
    X, y = _xor()
    calls = _counting_fit_epochs(monkeypatch)
    _plain_fit(X, y, "float64", epochs=3, **options)
    assert calls == []
    _plain_fit(X, y, "float64", epochs=3)
    assert calls == [3]


@needs_numba
def test_ctrl_c_while_a_call_is_recorded_takes_the_model_back_to_that_calls_start(
    numba_on, monkeypatch, capsys
):
    from mlpzero import history as history_module
    from mlpzero import training

    X, y = _xor()
    monkeypatch.setattr(training, "_COMPILED_CALL_EPOCHS", 10)
    real, appended = history_module.History.append, []

    def interrupted_in_the_second_calls_records(self, logs):
        appended.append(1)
        if len(appended) == 14:  # the fourth epoch of the second call
            raise KeyboardInterrupt
        real(self, logs)

    monkeypatch.setattr(history_module.History, "append", interrupted_in_the_second_calls_records)
    model = _plain_fit(X, y, "float64", epochs=100)
    assert "interrupted (Ctrl-C) after 10 completed epochs" in capsys.readouterr().err
    monkeypatch.setattr(history_module.History, "append", real)
    ten = _plain_fit(X, y, "float64", epochs=10)
    assert model.history.epochs == 10 and model.optimizer_.iterations == 10
    assert model.history.history == ten.history.history
    np.testing.assert_array_equal(model.network.params, ten.network.params)


@needs_numba
def test_a_network_subclass_takes_the_epoch_loop(numba_on, monkeypatch):
    from mlpzero.training import train

    class Halved(Network):
        def forward(self, X, training=False):
            logits = super().forward(X, training)
            logits *= 0.5
            return logits

    X, y = _xor()
    Y = y[:, None].astype(np.float64)
    calls = _counting_fit_epochs(monkeypatch)
    net = Halved([2, 8, 4, 1], "relu", dtype="float64", rng=0)
    rng = np.random.default_rng(0)
    train(net, BinaryCrossEntropy(), optimizers.SGD(0.1), X, Y, epochs=3, rng=rng)
    assert calls == []
    plain = Network([2, 8, 4, 1], "relu", dtype="float64", rng=0)
    train(plain, BinaryCrossEntropy(), optimizers.SGD(0.1), X, Y, epochs=3, rng=rng)
    assert calls == [3]


@needs_numba
def test_ctrl_c_while_divergence_is_reported_takes_the_model_back_to_the_calls_start(
    numba_on, monkeypatch, capsys
):
    from mlpzero import snapshot, training

    X, y = _xor(rows=50)
    monkeypatch.setattr(training, "_COMPILED_CALL_EPOCHS", 7)  # diverges in the first call
    real = snapshot.ParameterSnapshot.restore

    def restored_then_interrupted(self, params):
        real(self, params)
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot.ParameterSnapshot, "restore", restored_then_interrupted)
    real_call, starts = kernels.fit_epochs, []

    def remembering_the_start(network, *args):
        starts.append(network.params.copy())
        return real_call(network, *args)

    monkeypatch.setattr(kernels, "fit_epochs", remembering_the_start)
    model = MLP(hidden=(8, 4), seed=0)
    model.fit(X * 100, y, epochs=500, learning_rate=1e6)
    assert "interrupted (Ctrl-C) after 0 completed epochs" in capsys.readouterr().err
    assert len(starts) == 1
    assert model.history.epochs == 0 and model.optimizer_.iterations == 0
    np.testing.assert_array_equal(model.network.params, starts[0])


def test_fit_epochs_refuses_record_buffers_the_kernel_would_overrun():
    net = Network([2, 4, 1], "relu", dtype="float64", rng=0)
    X, Y = np.zeros((3, 2)), np.zeros((3, 1))
    totals, hits = np.empty(5), np.empty(5, dtype=np.int64)
    snapshot = np.empty_like(net.params)
    before = net.params.copy()
    bad = [
        ((X, Y, 0.1, 5, totals, hits, snapshot[:-1], 1e300), ValueError, "snapshot must have"),
        ((X, Y, 0.1, 5, totals, hits, snapshot.astype(np.float32), 1e300), TypeError, "snapshot"),
        ((X, Y, 0.1, 5, totals.astype(np.float32), hits, snapshot, 1e300), TypeError, "totals"),
        ((X, Y, 0.1, 5, totals, hits.astype(np.int32), snapshot, 1e300), TypeError, "hits"),
        ((X, Y, 0.1, 6, totals, hits, snapshot, 1e300), ValueError, "epochs must be in 1..5"),
        ((X, Y, 0.1, 0, totals, hits, snapshot, 1e300), ValueError, "epochs must be in 1..5"),
    ]
    # read-only: numba failed to compile its writes, with a typing error; NumPy declined
    for index, name in ((4, "totals"), (5, "hits"), (6, "snapshot")):
        args = list(bad[0][0])
        args[6] = snapshot
        args[index] = args[index].copy()
        args[index].flags.writeable = False
        bad.append((tuple(args), ValueError, f"{name} must be writable"))
    for args, error, words in bad:
        with pytest.raises(error, match=words):
            kernels.fit_epochs(net, *args)
    np.testing.assert_array_equal(net.params, before)
