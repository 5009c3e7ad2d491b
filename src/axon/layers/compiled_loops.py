"""The compiled loops (Numba) behind :mod:`axon.layers.compiled`; imported only through it.

Every loop takes ``start, stop`` last and handles the samples ``range(start, stop)`` only, writing
nothing outside them, so that :func:`axon._workers.split_batch` can run ranges on several threads
(the loops release the GIL). Arrays are C-contiguous; the caller checks.

Convolutions (stride 1) read each channel of the padded input as one flat row of ``Hp·Wp``
numbers. Output pixel ``(p, q)`` sits at flat position ``p·Wp + q`` of a grid as wide as the padded
input; tap ``(i, j)`` of the kernel then reads the same flat row shifted by ``i·Wp + j``. So each
kernel row is one pass of multiply-adds over ``L = (Ho − 1)·Wp + Wo`` contiguous numbers (the
compiler vectorises it), and the ``Wp − Wo`` grid columns past the output's width are computed and
dropped. Kernel rows of 3 or 5 taps are written out, so a pass reads and writes the accumulator
once for the whole row (1.5-2x faster than a pass per tap).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Reductions (the weight gradient's sums) may be reordered so that they vectorise; the order is
# fixed by the compiled code, so results repeat exactly from run to run.
_REDUCE = {"reassoc", "nsz"}


@njit(nogil=True, cache=True, inline="always")
def _add_kernel_row(acc, xc, w, f, c, i, Wp, L):
    """acc[t] += Σ_j w[f, c, i, j] · xc[i·Wp + j + t] for t < L: one kernel row of one channel."""
    kw = w.shape[3]
    o = i * Wp
    if kw == 5:
        w0, w1, w2, w3, w4 = w[f, c, i, 0], w[f, c, i, 1], w[f, c, i, 2], w[f, c, i, 3], w[f, c, i, 4]
        x0, x1, x2 = xc[o:o + L], xc[o + 1:o + 1 + L], xc[o + 2:o + 2 + L]
        x3, x4 = xc[o + 3:o + 3 + L], xc[o + 4:o + 4 + L]
        for t in range(L):
            acc[t] += w0 * x0[t] + w1 * x1[t] + w2 * x2[t] + w3 * x3[t] + w4 * x4[t]
    elif kw == 3:
        w0, w1, w2 = w[f, c, i, 0], w[f, c, i, 1], w[f, c, i, 2]
        x0, x1, x2 = xc[o:o + L], xc[o + 1:o + 1 + L], xc[o + 2:o + 2 + L]
        for t in range(L):
            acc[t] += w0 * x0[t] + w1 * x1[t] + w2 * x2[t]
    else:
        for j in range(kw):
            wv = w[f, c, i, j]
            xs = xc[o + j:o + j + L]  # a slice: the index is known to be >= 0, so the loop vectorises
            for t in range(L):
                acc[t] += wv * xs[t]


@njit(nogil=True, cache=True)
def conv2d(xp, w, b, out, start, stop):
    """out[n, f, p, q] = b[f] + Σ_{c,i,j} w[f, c, i, j] · xp[n, c, p + i, q + j] (stride 1).

    xp (N, C, Hp, Wp), w (F, C, kh, kw), b (F,), out (N, F, Hp − kh + 1, Wp − kw + 1).
    """
    N, C, Hp, Wp = xp.shape
    F, kh = w.shape[0], w.shape[2]
    Ho, Wo = out.shape[2], out.shape[3]
    L = (Ho - 1) * Wp + Wo
    acc = np.empty(L, dtype=out.dtype)
    xf = xp.reshape(N, C, Hp * Wp)
    for n in range(start, stop):
        for f in range(F):
            acc[:] = b[f]
            for c in range(C):
                for i in range(kh):
                    _add_kernel_row(acc, xf[n, c], w, f, c, i, Wp, L)
            for p in range(Ho):
                for q in range(Wo):
                    out[n, f, p, q] = acc[p * Wp + q]


@njit(nogil=True, cache=True, fastmath=_REDUCE)
def conv2d_weight_grad(xp, delta, part, zero, start, stop):
    """part[n, f, c, i, j] = Σ_{p,q} delta[n, f, p, q] · xp[n, c, p + i, q + j]: sample n's share of ∂C/∂W.

    xp (N, C, Hp, Wp), delta (N, F, Ho, Wo), part (N, F, C, kh, kw); ``zero`` is 0 of the dtype
    (the sums' start). The caller sums ``part`` over n.
    """
    N, C, Hp, Wp = xp.shape
    F, Ho, Wo = delta.shape[1], delta.shape[2], delta.shape[3]
    kh, kw = part.shape[3], part.shape[4]
    L = (Ho - 1) * Wp + Wo
    dflat = np.zeros(L, dtype=delta.dtype)  # δ on the padded-width grid: zeros in the columns past Wo
    xf = xp.reshape(N, C, Hp * Wp)
    for n in range(start, stop):
        for f in range(F):
            for p in range(Ho):
                for q in range(Wo):
                    dflat[p * Wp + q] = delta[n, f, p, q]
            for c in range(C):
                xc = xf[n, c]
                for i in range(kh):
                    o = i * Wp
                    if kw == 5:
                        x0, x1, x2 = xc[o:o + L], xc[o + 1:o + 1 + L], xc[o + 2:o + 2 + L]
                        x3, x4 = xc[o + 3:o + 3 + L], xc[o + 4:o + 4 + L]
                        s0 = s1 = s2 = s3 = s4 = zero
                        for t in range(L):
                            d = dflat[t]
                            s0 += d * x0[t]
                            s1 += d * x1[t]
                            s2 += d * x2[t]
                            s3 += d * x3[t]
                            s4 += d * x4[t]
                        part[n, f, c, i, 0], part[n, f, c, i, 1], part[n, f, c, i, 2] = s0, s1, s2
                        part[n, f, c, i, 3], part[n, f, c, i, 4] = s3, s4
                    elif kw == 3:
                        x0, x1, x2 = xc[o:o + L], xc[o + 1:o + 1 + L], xc[o + 2:o + 2 + L]
                        s0 = s1 = s2 = zero
                        for t in range(L):
                            d = dflat[t]
                            s0 += d * x0[t]
                            s1 += d * x1[t]
                            s2 += d * x2[t]
                        part[n, f, c, i, 0], part[n, f, c, i, 1], part[n, f, c, i, 2] = s0, s1, s2
                    else:
                        for j in range(kw):
                            xs = xc[o + j:o + j + L]
                            s = zero
                            for t in range(L):
                                s += dflat[t] * xs[t]
                            part[n, f, c, i, j] = s


@njit(nogil=True, cache=True)
def max_pool_2x2(x, y, arg, start, stop):
    """y[n, c, p, q] = max of the window x[n, c, 2p : 2p + 2, 2q : 2q + 2] (2×2 windows, stride 2).

    arg (N, C, Ho, Wo) uint8 receives the window offset 2·i + j of the maximum, the first in
    row-major order among equal values. A window holding NaN gives NaN (as ``np.maximum``). The
    loop has no branch (selects only), so that it vectorises: a generic window size measured 5x
    slower, so other windows keep the NumPy path.
    """
    C, Ho, Wo = x.shape[1], y.shape[2], y.shape[3]
    for n in range(start, stop):
        for c in range(C):
            for p in range(Ho):
                r0, r1 = x[n, c, 2 * p], x[n, c, 2 * p + 1]
                out, k = y[n, c, p], arg[n, c, p]
                for q in range(Wo):
                    a, b, d0, d1 = r0[2 * q], r0[2 * q + 1], r1[2 * q], r1[2 * q + 1]
                    top, bottom = np.maximum(a, b), np.maximum(d0, d1)
                    out[q] = np.maximum(top, bottom)
                    k[q] = (np.uint8(2) + np.uint8(d1 > d0)) if bottom > top else np.uint8(b > a)


@njit(nogil=True, cache=True)
def max_pool_2x2_backward(grad_y, arg, dx, start, stop):
    """dx[n, c, 2p + i, 2q + j] = grad_y[n, c, p, q] where 2·i + j = arg[n, c, p, q], else 0.

    dx (N, C, H, W) is overwritten whole (a last odd row or column, which no window covers, gets 0).
    The position is computed, not chosen by a branch (which the CPU would mispredict half the time).
    """
    N, C, H, W = dx.shape
    Ho, Wo = grad_y.shape[2], grad_y.shape[3]
    flat = dx.reshape(N, C * H * W)
    for n in range(start, stop):
        flat[n] = 0
        for c in range(C):
            for p in range(Ho):
                base = c * H * W + 2 * p * W
                for q in range(Wo):
                    k = arg[n, c, p, q]
                    flat[n, base + (k >> 1) * W + 2 * q + (k & 1)] = grad_y[n, c, p, q]
