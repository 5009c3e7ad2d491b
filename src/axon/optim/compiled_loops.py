"""Optimizer updates in one pass over the weights (Numba); used through :mod:`axon.fast`.

Each loop performs, element by element, exactly the float operations of the NumPy code in
:meth:`SGD.update <axon.optim.SGD.update>` and :meth:`Adam.update <axon.optim.Adam.update>`, in
the same order and the same precision (the constants arrive as the arrays' dtype, as NumPy casts
a Python float next to a float32 array; no fused multiply-add, no reordering), so the weights come
out bit for bit the same, in one pass instead of four (momentum) and ten (Adam). Arrays are flat
views of C-contiguous arrays.
"""

from __future__ import annotations

import math

from numba import njit


@njit(nogil=True, cache=True)
def sgd_momentum(theta, g, v, mu, lr):
    """v ← μ·v + g,  θ ← θ − η·v   (every array 1-D, of one dtype; μ and η of that dtype)."""
    for i in range(theta.shape[0]):
        vi = v[i] * mu + g[i]
        v[i] = vi
        theta[i] = theta[i] - vi * lr


@njit(nogil=True, cache=True, error_model="numpy")  # x / 0 gives inf as in NumPy: no branch, so it vectorises
def adam(theta, g, s1, s2, b1, b2, c_over_s, eps_over_s):
    """S₁ ← β₁·S₁ + g,  S₂ ← β₂·S₂ + g²,  θ ← θ − S₁ / ((c/s)·√S₂ + ε/s)   (see :class:`~axon.optim.Adam`)."""
    for i in range(theta.shape[0]):
        gi = g[i]
        a = s1[i] * b1 + gi
        s1[i] = a
        b = s2[i] * b2 + gi * gi
        s2[i] = b
        theta[i] = theta[i] - a / (math.sqrt(b) * c_over_s + eps_over_s)
