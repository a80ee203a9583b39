r"""Optimizers: update rules over the flat parameter vector.

Every optimizer updates the whole model at once: ``step(params, grads)`` changes the flat
vector ``params`` in place from the flat gradient ``grads`` (see
:class:`mlpzero.network.Network`) with a handful of vectorised operations and no loop over
layers. Its state (velocities, moment estimates) lives in flat buffers of the same shape
and dtype as ``params``, created on the first step; a float32 model is updated entirely in
float32.

The update rules, hyper-parameter names and defaults follow PyTorch's ``torch.optim``, so
a run can be checked step by step against it. With ``t`` the step count (1 on the first
step), ``g`` the gradient and :math:`\gamma` the learning rate:

- ``sgd``: :math:`g \leftarrow g + \lambda\theta`; with momentum :math:`\mu`,
  :math:`b \leftarrow \mu b + (1 - \tau) g` (:math:`b = g` at ``t = 1``), then
  :math:`g \leftarrow g + \mu b` (Nesterov) or :math:`g \leftarrow b`;
  :math:`\theta \leftarrow \theta - \gamma g`.
- ``rmsprop``: :math:`v \leftarrow \alpha v + (1-\alpha) g^2`,
  :math:`\theta \leftarrow \theta - \gamma g / (\sqrt{v} + \epsilon)`.
- ``adam``: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
  :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
  :math:`\theta \leftarrow \theta - \gamma \hat m / (\sqrt{\hat v} + \epsilon)` with
  :math:`\hat m = m / (1-\beta_1^t)` and :math:`\hat v = v / (1-\beta_2^t)`.
- ``adamw``: a decoupled decay :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`,
  then Adam on the plain gradient.

``weight_decay`` (:math:`\lambda`) follows PyTorch too: it acts on every parameter,
biases included. To penalise weights only, use ``MLP.fit(l2=...)`` instead.

``get(name_or_object_or_config)`` accepts a name such as ``"adam"``, an
:class:`Optimizer`, or a ``config`` dict (``{"name": "sgd", "momentum": 0.9}``).

Checkpoints
-----------
:meth:`Optimizer.state_dict` returns everything needed to resume training exactly::

    {
        "name": "adam",                      # registry name
        "hyperparameters": {...},            # the config without "name" (JSON-safe)
        "initial_learning_rate": 0.001,      # the rate schedules start from
        "iterations": 120,                   # steps taken so far (t)
        "state": {"exp_avg": array, ...},    # flat arrays, params' shape and dtype
    }

Everything but ``state`` is JSON-serialisable; ``state`` holds 1-D NumPy arrays (empty
before the first step). :meth:`Optimizer.load_state_dict` restores it into an optimizer of
the same class; its arrays are copied.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from . import kernels as _kernels
from .registry import resolve
from .validation import check_flag, check_int, check_non_negative, check_positive

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "check_dtype_range",
    "get",
]


class Optimizer:
    """Base class. Subclasses set ``name``, ``_hyperparameters``, ``_state_names`` and
    implement :meth:`_update`.

    ``learning_rate`` is the rate used by the next step (schedules change it between
    epochs); ``initial_learning_rate`` is the rate the optimizer was built with, from which
    schedules compute theirs. ``iterations`` counts the steps taken.
    """

    name: ClassVar[str] = "optimizer"
    #: Names of the flat state buffers an optimizer of this kind may hold.
    _state_names: ClassVar[tuple[str, ...]] = ()
    #: Constructor arguments besides ``learning_rate``; :attr:`config` reports them.
    _hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.initial_learning_rate = self.learning_rate
        self.iterations = 0
        self.state: dict[str, np.ndarray] = {}
        self._temps: list[np.ndarray] = []

    # ------------------------------------------------------------------ stepping
    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place from ``grads`` (both flat, same shape and floating dtype).

        ``grads`` is read, never written. Nothing is allocated after the first step.
        """
        if params.ndim != 1 or params.shape != grads.shape or params.dtype != grads.dtype:
            raise ValueError(
                "params and grads must be flat arrays of the same shape and dtype, got "
                f"{params.shape} {params.dtype} and {grads.shape} {grads.dtype}"
            )
        if params.dtype.kind != "f":  # the rate in an integer dtype is 0: no step at all
            raise ValueError(
                f"params must be floating-point, as float32 or float64, got {params.dtype}"
            )
        if not params.flags.writeable:  # refused before the state changes
            raise ValueError(
                "params must be writable (the step updates them in place), got a read-only array"
            )
        for key, buffer in self.state.items():
            if buffer.shape != params.shape or buffer.dtype != params.dtype:
                raise ValueError(
                    f"{type(self).__name__} state {key!r} has shape {buffer.shape} and dtype "
                    f"{buffer.dtype}, but the parameters are {params.shape} {params.dtype}: "
                    "one optimizer serves one model"
                )
        if self._temps and (
            self._temps[0].shape != params.shape or self._temps[0].dtype != params.dtype
        ):
            self._temps = []
        self.iterations += 1
        self._update(params, grads)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError

    def overflowed_state(self) -> list[str]:
        """The names of the state buffers that hold NaN or infinity.

        A running average of squared gradients (Adam's ``exp_avg_sq``, RMSprop's
        ``square_avg``) overflows where a gradient passes the square root of the dtype's
        largest number (about 1.8e19 in float32) while the gradient itself stays finite.
        It then stays infinite, and every step of the parameters it divides is zero.
        """
        return [key for key, buffer in self.state.items() if not np.isfinite(buffer).all()]

    def _temp(self, index: int, like: np.ndarray) -> np.ndarray:
        """Scratch buffer number ``index`` (0, 1 or 2), made once and reused."""
        while len(self._temps) <= index:
            self._temps.append(np.empty_like(like))
        return self._temps[index]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (and deep-copy) the state without the scratch buffers, which hold
        nothing from one step to the next: the first step after unpickling makes them."""
        return {**self.__dict__, "_temps": []}

    def _buffer(self, key: str, like: np.ndarray) -> np.ndarray:
        """The state buffer ``key``, created as zeros on first use."""
        buffer = self.state.get(key)
        if buffer is None:
            buffer = self.state[key] = np.zeros_like(like)
        return buffer

    def _decayed_gradient(self, params: np.ndarray, grads: np.ndarray, decay: float) -> np.ndarray:
        r"""``g + λθ`` in scratch buffer 0, or ``grads`` itself when ``decay`` is 0."""
        if decay == 0:
            return grads
        out = self._temp(0, params)
        np.multiply(params, params.dtype.type(decay), out=out)
        out += grads
        return out

    # ------------------------------------------------------------------ description
    @property
    def config(self) -> dict[str, Any]:
        """The hyper-parameters, enough to rebuild the optimizer with :func:`get`."""
        config: dict[str, Any] = {"name": self.name}
        for key in ("learning_rate", *self._hyperparameters):
            value = getattr(self, key)
            config[key] = list(value) if isinstance(value, tuple) else value
        return config

    def state_dict(self) -> dict[str, Any]:
        """A complete snapshot for checkpoints (layout in the module docstring).

        ``hyperparameters["learning_rate"]`` is the current (possibly scheduled) rate.
        """
        hyper = {k: v for k, v in self.config.items() if k != "name"}
        return {
            "name": self.name,
            "hyperparameters": hyper,
            "initial_learning_rate": self.initial_learning_rate,
            "iterations": self.iterations,
            "state": {key: buffer.copy() for key, buffer in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` taken from an optimizer of the same kind.

        Hyper-parameters, step count and state buffers are all replaced; the next
        :meth:`step` continues exactly where the saved optimizer stopped.
        """
        if not isinstance(state, dict) or "name" not in state:
            raise TypeError(f"expected a dict from state_dict(), got {type(state).__name__}")
        if state["name"] != self.name:
            raise ValueError(
                f"this state is for optimizer {state['name']!r}, not {self.name!r}; "
                "build the right one with mlpzero.optimizers.get(state['name'])"
            )
        arrays = dict(state.get("state") or {})
        unknown = set(arrays) - set(self._state_names)
        if unknown:
            raise ValueError(
                f"unknown state buffers for {self.name}: {sorted(unknown)}; "
                f"expected some of {list(self._state_names)}"
            )
        shapes = {np.shape(a) for a in arrays.values()}
        if len(shapes) > 1 or any(len(s) != 1 for s in shapes):
            raise ValueError(f"state buffers must be flat and of one length, got shapes {shapes}")
        # int() would read 2.7 as 2, True as 1 and "5" as 5; a 0-d integer array (a state
        # saved with np.savez and read back) is its number
        iterations = state.get("iterations", 0)
        if isinstance(iterations, np.ndarray) and iterations.ndim == 0:
            iterations = iterations[()]
        iterations = check_int("iterations", iterations, minimum=0)
        missing = [key for key in self._state_in_use(state) if key not in arrays]
        if missing and iterations > 0:
            raise ValueError(
                f"this {self.name} state is at step {iterations} but lacks the buffers "
                f"{missing}; its next step would start them again from zero"
            )
        hyperparameters = dict(state.get("hyperparameters") or {})
        # The current rate, which a schedule may have taken to 0; only the initial one,
        # which schedules start from, must be above 0.
        rate = hyperparameters.pop("learning_rate", None)
        fresh = type(self)(**hyperparameters)
        vars(self).update(vars(fresh))
        if rate is not None:
            self.learning_rate = check_non_negative("learning_rate", rate)
        self.initial_learning_rate = check_positive(
            "initial_learning_rate", state.get("initial_learning_rate", self.learning_rate)
        )
        self.iterations = iterations
        self.state = {key: np.array(value, copy=True) for key, value in arrays.items()}

    def _state_in_use(self, state: dict[str, Any]) -> tuple[str, ...]:
        """The buffers a step with the hyper-parameters of ``state`` (a
        :meth:`state_dict`) keeps; every one of them once a step has been taken."""
        return self._state_names

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "name")
        return f"{type(self).__name__}({args})"


def _check_fraction(name: str, value: Any) -> float:
    """A float in ``[0, 1)``."""
    number = check_non_negative(name, value)
    if number >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return number


class SGD(Optimizer):
    r"""Gradient descent, with optional momentum, Nesterov momentum and weight decay.

    With the defaults it is the article's update :math:`\theta \leftarrow \theta - \gamma g`.
    ``weight_decay`` :math:`\lambda` first adds :math:`\lambda\theta` to the gradient.
    ``momentum`` :math:`\mu` keeps a velocity :math:`b \leftarrow \mu b + (1-\tau) g`
    (``dampening`` :math:`\tau`; :math:`b = g` on the first step) and steps by
    :math:`\gamma b`, or by :math:`\gamma (g + \mu b)` with ``nesterov=True``.

    ``rate_in_velocity=True`` keeps the rate inside the velocity instead, as scikit-learn
    does: :math:`v \leftarrow \mu v - \gamma (1-\tau) g` (:math:`v = -\gamma g` on the
    first step) and :math:`\theta \leftarrow \theta + v`, or
    :math:`\theta \leftarrow \theta + \mu v - \gamma g` with Nesterov. While the rate
    is constant the two forms take the same steps (:math:`v = -\gamma b`); when a
    schedule changes it, this form applies the new rate to new gradients only.

    The default learning rate, 0.01, is the article's; the other defaults are PyTorch's.
    State: ``momentum_buffer`` (only with momentum): :math:`b`, or :math:`v`.
    """

    name = "sgd"
    _hyperparameters: ClassVar[tuple[str, ...]] = (
        "momentum",
        "dampening",
        "nesterov",
        "weight_decay",
        "rate_in_velocity",
    )
    _state_names = ("momentum_buffer",)
    rate_in_velocity = False  # the default for an SGD pickled before the setting existed

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        rate_in_velocity: bool = False,
    ) -> None:
        super().__init__(learning_rate)
        self.momentum = _check_fraction("momentum", momentum)
        self.dampening = check_non_negative("dampening", dampening)
        if self.dampening > 1:
            raise ValueError(f"dampening must be in [0, 1], got {dampening!r}")
        self.nesterov = check_flag("nesterov", nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        self.weight_decay = check_non_negative("weight_decay", weight_decay)
        self.rate_in_velocity = check_flag("rate_in_velocity", rate_in_velocity)

    def _state_in_use(self, state: dict[str, Any]) -> tuple[str, ...]:
        momentum = (state.get("hyperparameters") or {}).get("momentum", 0)
        return self._state_names if momentum else ()

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        t = params.dtype.type
        g = self._decayed_gradient(params, grads, self.weight_decay)
        work = self._temp(1, params)
        if self.momentum and self.rate_in_velocity:
            self._step_with_rate_in_velocity(params, g, work)
            return
        if self.momentum:
            first = "momentum_buffer" not in self.state
            velocity = self._buffer("momentum_buffer", params)
            if first:
                velocity[...] = g
            else:
                velocity *= t(self.momentum)
                if self.dampening:
                    np.multiply(g, t(1 - self.dampening), out=work)
                    velocity += work
                else:
                    velocity += g
            if self.nesterov:
                np.multiply(velocity, t(self.momentum), out=work)
                work += g
                g = work
            else:
                g = velocity
        np.multiply(g, t(-self.learning_rate), out=work)
        params += work

    def _step_with_rate_in_velocity(
        self, params: np.ndarray, g: np.ndarray, work: np.ndarray
    ) -> None:
        """``v = mu v - lr (1 - dampening) g``, then ``params += v`` (Nesterov:
        ``params += mu v - lr g``)."""
        t = params.dtype.type
        first = "momentum_buffer" not in self.state
        velocity = self._buffer("momentum_buffer", params)
        np.multiply(g, t(-self.learning_rate), out=work)  # -lr g
        if first:
            velocity[...] = work
        else:
            velocity *= t(self.momentum)
            if self.dampening:  # no Nesterov then, which needs work as -lr g below
                work *= t(1 - self.dampening)
            velocity += work
        if self.nesterov:  # dampening is 0 here
            ahead = self._temp(2, params)
            np.multiply(velocity, t(self.momentum), out=ahead)
            ahead += work
            params += ahead
        else:
            params += velocity


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root mean square of recent gradients.

    :math:`v \leftarrow \alpha v + (1-\alpha) g^2` and
    :math:`\theta \leftarrow \theta - \gamma g / (\sqrt{v} + \epsilon)`. With
    ``centered=True`` the running mean :math:`\bar g \leftarrow \alpha \bar g + (1-\alpha) g`
    is also kept and :math:`v - \bar g^2` (a variance) replaces :math:`v` under the root.
    With ``momentum`` :math:`\mu`: :math:`b \leftarrow \mu b + g / (\sqrt{v} + \epsilon)` and
    :math:`\theta \leftarrow \theta - \gamma b`. ``weight_decay`` adds
    :math:`\lambda\theta` to ``g`` first. Defaults are PyTorch's.

    State: ``square_avg``; ``grad_avg`` when centered; ``momentum_buffer`` with momentum.
    """

    name = "rmsprop"
    _hyperparameters: ClassVar[tuple[str, ...]] = (
        "alpha",
        "eps",
        "weight_decay",
        "momentum",
        "centered",
    )
    _state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        learning_rate: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(learning_rate)
        self.alpha = _check_fraction("alpha", alpha)
        self.eps = check_positive("eps", eps)
        self.weight_decay = check_non_negative("weight_decay", weight_decay)
        self.momentum = _check_fraction("momentum", momentum)
        self.centered = check_flag("centered", centered)

    def _state_in_use(self, state: dict[str, Any]) -> tuple[str, ...]:
        hyperparameters = state.get("hyperparameters") or {}
        used = {
            "square_avg": True,
            "grad_avg": hyperparameters.get("centered", False),
            "momentum_buffer": hyperparameters.get("momentum", 0),
        }
        return tuple(key for key in self._state_names if used[key])

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        t = params.dtype.type
        g = self._decayed_gradient(params, grads, self.weight_decay)
        work = self._temp(1, params)
        square_avg = self._buffer("square_avg", params)
        square_avg *= t(self.alpha)
        np.multiply(g, g, out=work)
        work *= t(1 - self.alpha)
        square_avg += work
        if self.centered:
            grad_avg = self._buffer("grad_avg", params)
            grad_avg *= t(self.alpha)
            np.multiply(g, t(1 - self.alpha), out=work)
            grad_avg += work
            np.multiply(grad_avg, grad_avg, out=work)
            np.subtract(square_avg, work, out=work)
            np.maximum(work, 0, out=work)  # rounding must not take a root of a negative
            np.sqrt(work, out=work)
        else:
            np.sqrt(square_avg, out=work)
        work += t(self.eps)
        np.divide(g, work, out=work)
        if self.momentum:
            velocity = self._buffer("momentum_buffer", params)
            velocity *= t(self.momentum)
            velocity += work
            np.multiply(velocity, t(-self.learning_rate), out=work)
        else:
            work *= t(-self.learning_rate)
        params += work


class Adam(Optimizer):
    r"""Adam: momentum on the gradient and a per-parameter step size from its square.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`, and with the bias corrections
    :math:`\hat m = m / (1-\beta_1^t)`, :math:`\hat v = v / (1-\beta_2^t)`:
    :math:`\theta \leftarrow \theta - \gamma \hat m / (\sqrt{\hat v} + \epsilon)`.
    ``weight_decay`` adds :math:`\lambda\theta` to ``g`` first (coupled L2, as in PyTorch's
    Adam; :class:`AdamW` decouples it). Defaults are PyTorch's.

    ``eps_after_correction=False`` adds :math:`\epsilon` to :math:`\sqrt{v}` before the
    bias correction instead, the form of Kingma and Ba's section 2 that scikit-learn uses:
    :math:`\theta \leftarrow \theta - \gamma \hat m / (\sqrt{\hat v} +
    \epsilon / \sqrt{1-\beta_2^t})`, a larger :math:`\epsilon` over the first steps.

    State: ``exp_avg`` (:math:`m`) and ``exp_avg_sq`` (:math:`v`).
    """

    name = "adam"
    _hyperparameters: ClassVar[tuple[str, ...]] = (
        "betas", "eps", "weight_decay", "eps_after_correction",
    )  # fmt: skip
    _state_names = ("exp_avg", "exp_avg_sq")
    eps_after_correction = True  # the default for an Adam pickled before the setting existed

    def __init__(
        self,
        learning_rate: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        eps_after_correction: bool = True,
    ) -> None:
        super().__init__(learning_rate)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_check_fraction("betas[0]", beta1), _check_fraction("betas[1]", beta2))
        self.eps = check_positive("eps", eps)
        self.weight_decay = check_non_negative("weight_decay", weight_decay)
        self.eps_after_correction = check_flag("eps_after_correction", eps_after_correction)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._adam_step(params, self._decayed_gradient(params, grads, self.weight_decay))

    def _adam_step(self, params: np.ndarray, g: np.ndarray) -> None:
        # Twelve in-place passes over flat buffers and no temporary the size of the model.
        # With c1 = 1 - beta1^t and c2 = 1 - beta2^t, the update
        #   lr * (m / c1) / (sqrt(v / c2) + eps)
        # equals, multiplying through by sqrt(c2),
        #   (lr sqrt(c2) / c1) * m / (sqrt(v) + eps sqrt(c2)),
        # which needs no pass to scale sqrt(v) (the form Kingma and Ba give in section 2).
        # (Writing m's update as beta1 (m - g) + g would save a pass but cancels badly in
        # float32 when m is small next to g, as on the first steps: it is not done.)
        t = params.dtype.type
        beta1, beta2 = self.betas
        exp_avg = self._buffer("exp_avg", params)
        exp_avg_sq = self._buffer("exp_avg_sq", params)
        root_correction2 = math.sqrt(1 - beta2**self.iterations)
        step = t(self.learning_rate * root_correction2 / (1 - beta1**self.iterations))
        eps_hat = t(self.eps * root_correction2 if self.eps_after_correction else self.eps)
        compiled = _kernels.compiled()
        # The same update in one pass (mlpzero.kernels), for the dtypes it takes.
        if compiled is not None and params.dtype in _kernels.COMPILED_DTYPES:
            compiled.adam(
                params, g, exp_avg, exp_avg_sq, t(beta1), t(1 - beta1), t(beta2), t(1 - beta2),
                step, eps_hat,
            )  # fmt: skip
            return
        work = self._temp(1, params)
        # Chunk by chunk, so that a chunk's five buffers stay in the last-level cache
        # through the twelve passes: on a very large model each pass would otherwise
        # stream from memory. The update is element-wise, so the result is the same bit
        # for bit.
        for start in range(0, params.shape[0], _ADAM_CHUNK):
            chunk = slice(start, start + _ADAM_CHUNK)
            m, v, w = exp_avg[chunk], exp_avg_sq[chunk], work[chunk]
            m *= t(beta1)
            np.multiply(g[chunk], t(1 - beta1), out=w)
            m += w
            v *= t(beta2)
            np.multiply(g[chunk], g[chunk], out=w)
            w *= t(1 - beta2)
            v += w
            np.sqrt(v, out=w)
            w += eps_hat
            np.divide(m, w, out=w)
            w *= -step
            params[chunk] += w


#: Elements per chunk of Adam's NumPy update: a chunk's five buffers fit a server's
#: last-level cache. Chunks sized for a core's own cache measured slower on the
#: benchmarks' 784-512-256-10 network, as each chunk costs twelve NumPy calls.
_ADAM_CHUNK = 1 << 20


class AdamW(Adam):
    r"""Adam with decoupled weight decay: :math:`\theta \leftarrow \theta (1 - \gamma\lambda)`
    first, then the Adam step on the plain gradient. Defaults are PyTorch's
    (``weight_decay=0.01``). Like PyTorch's, it decays every parameter, biases included.
    """

    name = "adamw"

    def __init__(
        self,
        learning_rate: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        eps_after_correction: bool = True,
    ) -> None:
        super().__init__(learning_rate, betas, eps, weight_decay, eps_after_correction)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        if self.weight_decay:
            params *= params.dtype.type(1 - self.learning_rate * self.weight_decay)
        self._adam_step(params, grads)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
_ALIASES = {"gd": "sgd", "gradient_descent": "sgd"}


def check_dtype_range(optimizer: Optimizer, dtype: Any) -> None:
    """Refuse settings that ``dtype``, the parameters', cannot hold, as each update takes
    them in it: a learning rate or a ``weight_decay`` beyond its largest number (infinite
    there: every parameter would become NaN), and an ``eps`` below its smallest normal one
    (zero there, or nearly, after Adam's bias correction: a parameter whose gradient is
    always 0 would then step by 0 / 0)."""
    info = np.finfo(dtype)
    for name in ("learning_rate", "weight_decay"):
        value = getattr(optimizer, name, 0.0)
        if value > float(info.max):
            raise ValueError(
                f"{name}={value!r} is beyond the largest {np.dtype(dtype).name} number (the "
                "parameters' dtype)"
            )
    eps = getattr(optimizer, "eps", None)
    if eps is not None and eps < float(info.tiny):
        raise ValueError(
            f"eps={eps!r} is below the smallest normal {np.dtype(dtype).name} number "
            f"({float(info.tiny):.3g}, the parameters' dtype), where it would be 0"
        )


def get(optimizer: str | Optimizer | dict[str, Any], **kwargs: Any) -> Optimizer:
    """Return an :class:`Optimizer` from a name (built with ``kwargs``), a ``config`` dict,
    or an instance (returned as is)."""
    return resolve("optimizer", optimizer, Optimizer, OPTIMIZERS, _ALIASES, **kwargs)
