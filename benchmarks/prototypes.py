r"""Prototypes measured by the benchmarks before they move into the library.

:class:`PrototypeAdam` is an Adam step over the flat parameter vector written to make as
few passes over memory as it can, with no temporary the size of the model. The harness
uses it for workload 2 only while ``mlpzero.optimizers`` has no ``"adam"``.

With :math:`g` the gradient, :math:`t` the step count and bias corrections
:math:`c_1 = 1 - \beta_1^t`, :math:`c_2 = 1 - \beta_2^t`:

.. math::
    m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
    \theta \leftarrow \theta - \frac{\alpha \sqrt{c_2}}{c_1}
        \frac{m}{\sqrt{v} + \epsilon \sqrt{c_2}}

The last line is :math:`\theta - \alpha \hat m / (\sqrt{\hat v} + \epsilon)` with
:math:`\hat m = m / c_1`, :math:`\hat v = v / c_2`, with numerator and denominator
multiplied by :math:`\sqrt{c_2}`: the same update, two passes shorter.
"""

from __future__ import annotations

import numpy as np

from mlpzero.optimizers import Optimizer


class PrototypeAdam(Optimizer):
    """Adam (Kingma and Ba, 2015) in 11 in-place passes over flat buffers."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._m = self._v = self._scratch = None

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        if self._m is None or self._m.shape != params.shape or self._m.dtype != params.dtype:
            self._m = np.zeros_like(params)
            self._v = np.zeros_like(params)
            self._scratch = np.empty_like(params)
        m, v, s = self._m, self._v, self._scratch
        kind = params.dtype.type
        t = self.iterations
        c1 = 1.0 - self.beta_1**t
        c2_root = (1.0 - self.beta_2**t) ** 0.5
        # m = b1 m + (1 - b1) g, written as b1 (m - g) + g: no scaled copy of g
        m -= grads
        m *= kind(self.beta_1)
        m += grads
        # v = b2 v + (1 - b2) g^2, likewise with s = g^2
        np.multiply(grads, grads, out=s)
        v -= s
        v *= kind(self.beta_2)
        v += s
        # theta -= (lr sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2))
        np.sqrt(v, out=s)
        s += kind(self.epsilon * c2_root)
        np.divide(m, s, out=s)
        s *= kind(-self.learning_rate * c2_root / c1)
        params += s
