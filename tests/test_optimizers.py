"""Optimizers against hand-computed updates, PyTorch's formulas, and a convex problem.

The tiny problem: f(θ) = ½ (1·θ₀² + 4·θ₁²), so the gradient is g = (θ₀, 4θ₁), from
θ = (1, -0.5). The expected parameters after each of three steps are written out below.
The SGD rows are exact decimals worked by hand, e.g. with momentum 0.9 and lr 0.1:
  step 1: g = (1, -2),      b = g = (1, -2),                     θ = (0.9, -0.3)
  step 2: g = (0.9, -1.2),  b = 0.9·(1, -2) + g = (1.8, -3.0),   θ = (0.72, 0.0)
  step 3: g = (0.72, 0.0),  b = 0.9·(1.8, -3) + g = (2.34, -2.7), θ = (0.486, 0.27)
Adam's and RMSprop's first step is lr·sign(g) up to eps (θ = (0.9, -0.4) for lr 0.1);
their later rows were worked with a plain scalar loop over PyTorch's published
pseudo-code in float64 (a separate implementation from mlpzero's vectorised one).
"""

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero import optimizers as opt

CURVATURE = np.array([1.0, 4.0])
START = np.array([1.0, -0.5])

EXPECTED = {
    "sgd": (
        opt.SGD(learning_rate=0.1),
        [[0.9, -0.3], [0.81, -0.18], [0.729, -0.108]],
    ),
    "sgd_momentum": (
        opt.SGD(learning_rate=0.1, momentum=0.9),
        [[0.9, -0.3], [0.72, 0.0], [0.486, 0.27]],
    ),
    "sgd_nesterov": (
        # step 1: b = (1, -2); g + 0.9 b = (1.9, -3.8); θ = (0.81, -0.12)
        opt.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        [[0.81, -0.12], [0.5751, 0.1332], [0.327321, 0.216648]],
    ),
    "sgd_dampening_decay": (
        # g ← g + 0.5 θ; b ← 0.5 b + (1 - 0.5) g after the first step
        opt.SGD(learning_rate=0.1, momentum=0.5, dampening=0.5, weight_decay=0.5),
        [[0.85, -0.275], [0.71125, -0.100625], [0.58853125, 0.009203125]],
    ),
    "rmsprop": (
        opt.RMSprop(learning_rate=0.01),
        [
            [0.900000009999999, -0.400000005],
            [0.832917975265059, -0.337339170979228],
            [0.779982281982354, -0.290433218289508],
        ],
    ),
    "rmsprop_centered_momentum_decay": (
        opt.RMSprop(learning_rate=0.01, centered=True, momentum=0.9, weight_decay=0.1),
        [
            [0.899496227656814, -0.399496223401401],
            [0.741305990650258, -0.245805428903702],
            [0.54965018107514, -0.0708675143328527],
        ],
    ),
    "adam": (
        opt.Adam(learning_rate=0.1),
        [
            [0.900000001, -0.4000000005],
            [0.800412229712338, -0.30118742062343],
            [0.701586274504415, -0.204871250970724],
        ],
    ),
    "adam_l2": (
        opt.Adam(learning_rate=0.1, weight_decay=0.1),
        [
            [0.900000000909091, -0.400000000487805],
            [0.800412229526784, -0.301187420598168],
            [0.701586274221072, -0.204871250931954],
        ],
    ),
    "adamw": (
        # step 1: θ(1 - 0.1·0.01) = (0.999, -0.4995), then Adam's lr·sign(g)
        opt.AdamW(learning_rate=0.1),
        [
            [0.899000001, -0.3995000005],
            [0.798519028188779, -0.300297838224059],
            [0.698911184715693, -0.203712381385385],
        ],
    ),
    "adamw_strong_decay": (
        opt.AdamW(learning_rate=0.1, weight_decay=0.5),
        [
            [0.850000001, -0.3750000005],
            [0.708248444365652, -0.257992492872668],
            [0.574973932253246, -0.150502632579389],
        ],
    ),
}


def three_steps(optimizer, dtype=np.float64):
    params = START.astype(dtype)
    grads = np.empty_like(params)
    rows = []
    for _ in range(3):
        np.multiply(CURVATURE.astype(dtype), params, out=grads)
        optimizer.step(params, grads)
        rows.append(params.copy())
    return np.array(rows)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_three_steps_match_hand_computed_values(case, backend):
    optimizer, expected = EXPECTED[case]
    optimizer = opt.get(optimizer.config)  # a fresh copy: the table's objects stay unused
    got = three_steps(optimizer)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert optimizer.iterations == 3


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_float32_stays_float32_and_agrees(case, backend):
    optimizer, expected = EXPECTED[case]
    optimizer = opt.get(optimizer.config)
    got = three_steps(optimizer, np.float32)
    assert got.dtype == np.float32
    assert all(buffer.dtype == np.float32 for buffer in optimizer.state.values())
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_read_only_params_are_refused_before_any_state_changes(case, backend):
    optimizer = opt.get(EXPECTED[case][0].config)
    params, grads = START.copy(), CURVATURE * START
    optimizer.step(params, grads)
    before = optimizer.state_dict()
    params.flags.writeable = False
    with pytest.raises(ValueError, match="params must be writable"):
        optimizer.step(params, grads)
    after = optimizer.state_dict()
    assert after["iterations"] == before["iterations"] == 1
    for key, buffer in before["state"].items():
        np.testing.assert_array_equal(after["state"][key], buffer)


def test_adam_with_a_constant_gradient_steps_exactly_lr_sign_g():
    # m̂ = g and v̂ = g² at every step when g is constant: each step is lr·g/(|g| + eps).
    params = np.array([0.0, 0.0])
    grads = np.array([0.5, -3.0])
    adam = opt.Adam(learning_rate=0.01)
    for _ in range(50):
        adam.step(params, grads)
    expected = -50 * 0.01 * grads / (np.abs(grads) + 1e-8)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    np.testing.assert_array_equal(grads, [0.5, -3.0])  # the gradient is never written


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_with_the_rate_in_the_velocity(nesterov):
    # At a constant rate both forms take the same steps (v = -lr b).
    inside = three_steps(opt.SGD(0.1, momentum=0.9, nesterov=nesterov, rate_in_velocity=True))
    outside = three_steps(opt.SGD(0.1, momentum=0.9, nesterov=nesterov))
    np.testing.assert_allclose(inside, outside, rtol=1e-14)
    # When the rate changes, only the new gradients take it: v = mu v - lr g, by hand.
    sgd = opt.SGD(0.1, momentum=0.9, nesterov=nesterov, rate_in_velocity=True)
    params, expected, v = START.copy(), START.copy(), np.zeros_like(START)
    for rate in (0.1, 0.05, 0.02):
        sgd.learning_rate = rate
        g = CURVATURE * expected
        v = 0.9 * v - rate * g
        expected = expected + (0.9 * v - rate * g if nesterov else v)
        sgd.step(params, CURVATURE * params)
    np.testing.assert_allclose(params, expected, rtol=1e-14)
    with pytest.raises(TypeError, match="rate_in_velocity must be True or False, got int 1"):
        opt.SGD(rate_in_velocity=1)


@pytest.mark.parametrize("after", [True, False])
def test_adam_adds_eps_after_or_before_the_bias_correction(after, backend):
    # With a constant g, m̂ = g and v̂ = g² at every step t. Adding eps to sqrt(v̂) steps
    # lr·g/(|g| + eps); adding it to sqrt(v), before the correction (scikit-learn's form),
    # steps lr·g/(|g| + eps/sqrt(1 - beta2^t)). A gradient near eps tells them apart.
    params = np.zeros(2)
    grads = np.array([2e-8, -5e-9])
    adam = opt.Adam(learning_rate=0.01, eps=1e-8, eps_after_correction=after)
    expected = np.zeros(2)
    for t in range(1, 4):
        adam.step(params, grads)
        eps = 1e-8 if after else 1e-8 / np.sqrt(1 - 0.999**t)
        expected -= 0.01 * grads / (np.abs(grads) + eps)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    with pytest.raises(TypeError, match="eps_after_correction must be True or False, got str"):
        opt.Adam(eps_after_correction="no")


def test_defaults_are_pytorchs():
    assert opt.get("adam").config == {
        "name": "adam",
        "learning_rate": 0.001,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "eps_after_correction": True,
    }
    assert opt.get("adamw").config["weight_decay"] == 0.01
    rms = opt.get("rmsprop").config
    assert (rms["learning_rate"], rms["alpha"], rms["eps"]) == (0.01, 0.99, 1e-8)
    sgd = opt.get("sgd").config
    assert (sgd["momentum"], sgd["dampening"], sgd["nesterov"]) == (0.0, 0.0, False)
    assert not sgd["rate_in_velocity"]


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw"])
def test_state_dict_resumes_exactly(name):
    kwargs = {"sgd": {"momentum": 0.9, "nesterov": True}, "rmsprop": {"centered": True}}
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(7).astype(np.float32) for _ in range(6)]
    straight = opt.get(name, learning_rate=0.05, **kwargs.get(name, {}))
    params = np.linspace(-1, 1, 7, dtype=np.float32)
    for g in grads:
        straight.step(params, g)

    first = opt.get(name, learning_rate=0.05, **kwargs.get(name, {}))
    resumed_params = np.linspace(-1, 1, 7, dtype=np.float32)
    for g in grads[:3]:
        first.step(resumed_params, g)
    saved = first.state_dict()
    for g in grads[:2]:  # moving on after saving must not change the saved state
        first.step(np.zeros(7, np.float32), g)
    second = opt.get(saved["name"])
    second.load_state_dict(saved)
    assert second.config == straight.config
    assert second.iterations == 3
    for g in grads[3:]:
        second.step(resumed_params, g)
    np.testing.assert_array_equal(resumed_params, params)
    for key, buffer in straight.state.items():
        np.testing.assert_array_equal(second.state[key], buffer)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw"])
def test_a_state_saved_at_a_scheduled_rate_of_zero_loads(name):
    # A cosine past total_epochs (min_lr=0) or a decay that underflowed sets the rate to
    # 0: the checkpoint of such an epoch could not be loaded (nor a fit resumed from it).
    saved_from = opt.get(name, learning_rate=0.05)
    saved_from.step(np.ones(3), np.ones(3))
    saved_from.learning_rate = 0.0
    restored = opt.get(name)
    restored.load_state_dict(saved_from.state_dict())
    assert restored.learning_rate == 0.0
    assert restored.initial_learning_rate == 0.05
    assert restored.config == saved_from.config
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number >= 0, got -0\.1"):
        restored.load_state_dict(
            {**saved_from.state_dict(), "hyperparameters": {"learning_rate": -0.1}}
        )


def test_state_dict_layout_is_documented_and_json_safe():
    import json

    adam = opt.Adam(learning_rate=0.01)
    adam.step(np.ones(3), np.ones(3))
    state = adam.state_dict()
    assert sorted(state) == [
        "hyperparameters",
        "initial_learning_rate",
        "iterations",
        "name",
        "state",
    ]
    assert sorted(state["state"]) == ["exp_avg", "exp_avg_sq"]
    json.dumps({k: v for k, v in state.items() if k != "state"})


def test_load_state_dict_refuses_the_wrong_optimizer_or_shapes():
    adam = opt.Adam()
    adam.step(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="state is for optimizer 'adam', not 'sgd'"):
        opt.SGD().load_state_dict(adam.state_dict())
    fresh = opt.Adam()
    fresh.load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="one optimizer serves one model"):
        fresh.step(np.ones(4), np.ones(4))
    bad = adam.state_dict()
    bad["state"]["velocity"] = np.zeros(3)
    with pytest.raises(ValueError, match="unknown state buffers"):
        opt.Adam().load_state_dict(bad)


@pytest.mark.parametrize(("iterations", "kind"), [(2.7, "float"), (True, "bool"), ("5", "str")])
def test_load_state_dict_refuses_a_step_count_that_is_not_an_integer(iterations, kind):
    """The step count was read with int(): 2.7 resumed at step 2, True at 1 and "5" at 5,
    so Adam's bias corrections no longer matched its moments; -1 is refused as before."""
    adam = opt.Adam()
    for _ in range(3):
        adam.step(np.ones(3), np.ones(3))
    restored = opt.Adam()
    with pytest.raises(TypeError, match=f"iterations must be an integer, got {kind}"):
        restored.load_state_dict({**adam.state_dict(), "iterations": iterations})
    assert restored.iterations == 0 and restored.state == {}
    with pytest.raises(ValueError, match="iterations must be >= 0, got -1"):
        restored.load_state_dict({**adam.state_dict(), "iterations": -1})
    restored.load_state_dict({**adam.state_dict(), "iterations": np.int64(3)})
    assert restored.iterations == 3


def test_load_state_dict_takes_a_step_count_read_back_from_an_npz(tmp_path):
    """A state saved with np.savez reads back with its step count a 0-d array, which int()
    took and the integer check refused."""
    adam = opt.Adam()
    for _ in range(3):
        adam.step(np.ones(3), np.ones(3))
    state = adam.state_dict()
    np.savez(tmp_path / "state.npz", iterations=state["iterations"], **state["state"])
    with np.load(tmp_path / "state.npz") as saved:
        read_back = {"iterations": saved["iterations"], "state": dict(saved)}
    del read_back["state"]["iterations"]
    restored = opt.Adam()
    restored.load_state_dict({**state, **read_back})
    assert restored.iterations == 3
    with pytest.raises(TypeError, match=r"an integer, got float64 np\.float64\(2\.5\)"):
        restored.load_state_dict({**adam.state_dict(), "iterations": np.array(2.5)})


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("adam", {}),
        ("adamw", {}),
        ("rmsprop", {"centered": True, "momentum": 0.5}),
        ("sgd", {"momentum": 0.9}),
    ],
)
def test_a_state_past_its_first_step_missing_a_buffer_is_refused(name, kwargs):
    # A state at step 3 without, say, Adam's exp_avg_sq resumed with that buffer at zero:
    # the next steps were far off the saved run's, without a word.
    saved = opt.get(name, **kwargs)
    for _ in range(3):
        saved.step(np.ones(3), np.ones(3))
    state = saved.state_dict()
    for key in state["state"]:
        cut = {**state, "state": {k: v for k, v in state["state"].items() if k != key}}
        with pytest.raises(ValueError, match=rf"at step 3 but lacks the buffers \['{key}'\]"):
            opt.get(name).load_state_dict(cut)
    # Before the first step no buffer exists yet, and without momentum SGD keeps none.
    opt.get(name).load_state_dict(opt.get(name, **kwargs).state_dict())
    plain = opt.SGD()
    plain.step(np.ones(3), np.ones(3))
    opt.SGD().load_state_dict(plain.state_dict())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: opt.get("adamax"), "unknown optimizer 'adamax'"),
        (lambda: opt.get(3), "optimizer must be a name"),
        (lambda: opt.SGD(learning_rate=0), "learning_rate must be a finite number > 0"),
        (lambda: opt.SGD(momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda: opt.SGD(nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda: opt.Adam(betas=(0.9,)), "betas must be a pair"),
        (lambda: opt.Adam(betas=(0.9, 1.5)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda: opt.RMSprop(eps=-1), "eps must be a finite number > 0"),
        (lambda: opt.get("adam", momentum=0.9), "optimizer 'adam'"),
    ],
)
def test_bad_hyperparameters_are_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_name_object_and_config_are_accepted():
    sgd = opt.SGD(momentum=0.5)
    assert opt.get(sgd) is sgd
    assert opt.get({"name": "sgd", "momentum": 0.5}).config == sgd.config
    assert isinstance(opt.get("AdamW"), opt.AdamW)
    assert repr(opt.Adam()).startswith("Adam(learning_rate=0.001")


def test_step_allocates_no_new_buffers_after_the_first():
    adam = opt.Adam()
    params, grads = np.ones(5, np.float32), np.full(5, 0.5, np.float32)
    adam.step(params, grads)
    buffers = [id(b) for b in (*adam.state.values(), *adam._temps)]
    adam.step(params, grads)
    assert [id(b) for b in (*adam.state.values(), *adam._temps)] == buffers


@pytest.mark.parametrize(
    ("optimizer", "learning_rate", "epochs"),
    [
        (opt.SGD(), 0.1, 3000),
        (opt.SGD(momentum=0.9, nesterov=True), 0.05, 800),
        (opt.RMSprop(), 0.01, 1500),
        (opt.Adam(), 0.05, 1500),
        (opt.AdamW(weight_decay=0.0), 0.05, 1500),
    ],
    ids=["sgd", "nesterov", "rmsprop", "adam", "adamw"],
)
def test_converges_to_the_least_squares_solution(optimizer, learning_rate, epochs):
    # A network without hidden layers and squared error is linear least squares: convex,
    # with the closed-form minimiser from numpy.linalg.lstsq as the oracle.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = X @ [1.5, -2.0, 0.5] + 0.3 + 0.1 * rng.standard_normal(200)
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(200)], y, rcond=None)
    model = MLP(hidden=(), loss="squared_error", dtype="float64", seed=0)
    model.fit(
        X, y, epochs=epochs, optimizer=optimizer, learning_rate=learning_rate, schedule="cosine"
    )
    found = np.r_[model.network.weights[0].ravel(), model.network.biases[0]]
    np.testing.assert_allclose(found, coef, atol=2e-3)


@pytest.mark.parametrize(
    ("optimizer", "added"),
    [(opt.Adam(), "eps_after_correction"), (opt.SGD(momentum=0.9), "rate_in_velocity")],
)
def test_an_optimizer_pickled_before_a_setting_existed_steps_with_its_default(optimizer, added):
    import pickle

    del vars(optimizer)[added]  # as an object pickled by an earlier version holds it
    restored = pickle.loads(pickle.dumps(optimizer))
    fresh = type(optimizer)(**{k: v for k, v in optimizer.config.items() if k != "name"})
    a, b = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    for _ in range(3):
        restored.step(a, 0.5 * a)
        fresh.step(b, 0.5 * b)
    np.testing.assert_array_equal(a, b)
    assert restored.config == fresh.config


@pytest.mark.parametrize(
    ("make", "name"),
    [(lambda: opt.SGD(0.1, momentum=0.9, nesterov="no"), "nesterov"),
     (lambda: opt.RMSprop(centered="false"), "centered")],
)  # fmt: skip
def test_flags_given_as_text_are_refused_not_read_as_true(make, name):
    with pytest.raises(TypeError, match=rf"{name} must be True or False, got str"):
        make()


# ------------------------------------------------------------------- PyTorch as an oracle
RMSPROP_ALL = {
    "name": "rmsprop", "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05, "momentum": 0.7,
    "centered": True,
}  # fmt: skip
TORCH_CASES = [
    ({"name": "sgd", "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}, "SGD"),
    ({"name": "sgd", "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}, "SGD"),
    ({"name": "sgd", "momentum": 0.8, "nesterov": True, "rate_in_velocity": True}, "SGD"),
    (RMSPROP_ALL, "RMSprop"),
    ({"name": "adam", "betas": (0.8, 0.95), "eps": 1e-4, "weight_decay": 0.1}, "Adam"),
    ({"name": "adamw", "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.3}, "AdamW"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("config", "torch_name"), TORCH_CASES)
def test_many_steps_agree_with_torch_optim(config, torch_name, dtype, backend):
    """Sixty steps on random gradients of three magnitudes, with the learning rate
    changed halfway as a schedule would, against ``torch.optim`` in float64."""
    torch = pytest.importorskip("torch")
    settings = {k: v for k, v in config.items() if k not in ("name", "rate_in_velocity")}
    rng = np.random.default_rng(0)
    params = rng.normal(size=101).astype(dtype)
    reference = torch.tensor(params.astype(np.float64), requires_grad=True)
    ours = opt.get({**config, "learning_rate": 0.05})
    theirs = getattr(torch.optim, torch_name)([reference], lr=0.05, **settings)
    for step in range(60):
        if step == 30 and not config.get("rate_in_velocity"):  # that form differs here
            ours.learning_rate = 0.02
            theirs.param_groups[0]["lr"] = 0.02
        scale = rng.choice([1e-3, 1.0, 10.0], size=params.shape)
        grads = (rng.normal(size=params.shape) * scale).astype(dtype)
        ours.step(params, grads)
        reference.grad = torch.tensor(grads.astype(np.float64))
        theirs.step()
    expected = reference.detach().numpy()
    assert params.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(params, expected, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_parameters_are_refused_by_name_before_any_state_changes(name, dtype):
    """SGD took the learning rate in the parameters' dtype, 0 for integers, and left
    integer parameters unchanged without a word; Adam and RMSprop failed with NumPy's
    "Cannot cast ufunc 'sqrt' output" after counting the step."""
    optimizer = opt.get(name, learning_rate=0.5)
    params = np.array([10, 20, 30], dtype=dtype)
    with pytest.raises(ValueError, match=f"params must be floating-point.*got {np.dtype(dtype)}"):
        optimizer.step(params, params.copy())
    assert optimizer.iterations == 0 and optimizer.state == {}
    np.testing.assert_array_equal(params, np.array([10, 20, 30], dtype=dtype))


@pytest.mark.parametrize(
    "make",
    [lambda: opt.SGD(0.1), lambda: opt.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda: opt.RMSprop(0.01, momentum=0.9), lambda: opt.AdamW(0.01)],
)  # fmt: skip
def test_a_pickled_or_copied_optimizer_holds_its_state_not_its_scratch_buffers(make):
    """The scratch buffers a step reuses were pickled and deep-copied with the state: a
    plain SGD's pickle (sent to a worker process, or inside a pickled model) held two
    copies of the parameters that its next step overwrites anyway."""
    import copy
    import pickle

    rng = np.random.default_rng(0)
    params = rng.normal(size=50_000)
    optimizer = make()
    for _ in range(2):
        optimizer.step(params, 0.1 * params)
    state_bytes = sum(buffer.nbytes for buffer in optimizer.state.values())
    assert len(pickle.dumps(optimizer)) < state_bytes + 10_000
    twins = [pickle.loads(pickle.dumps(optimizer)), copy.deepcopy(optimizer)]
    for _ in range(3):  # each continues as the original does
        before = params.copy()
        optimizer.step(params, 0.1 * params)
        for twin in twins:
            theirs = before.copy()
            twin.step(theirs, 0.1 * theirs)
            np.testing.assert_array_equal(theirs, params)
