"""``autograd.scipy.signal``: autograd's ``convolve(A, B, axes=None, dot_axes=[(), ()],
mode="full")``, a convolution over chosen pairs of axes with a tensor contraction over others,
and SciPy's other convolutions (``correlate``, ``convolve2d``, ...) from ``chainrule.scipy.signal``.

With ``axes = (axes_A, axes_B)`` the convolved pairs and ``dot_axes = (dot_A, dot_B)`` the
contracted ones, and ``n``, ``k`` multi-indices over the convolved axes,

    full[i_A, i_B, n] = sum_{k, d} A[i_A, k, d] B[i_B, n - k, d]

where ``i_A`` (``i_B``) runs over A's (B's) remaining axes, in that output order. ``valid``
keeps the ``|len_A - len_B| + 1`` entries of full overlap; ``same`` the ``len_A`` entries
centred as ``scipy.signal.convolve``'s. Written with chainrule's differentiable ``pad``,
``take`` (the sliding windows) and ``einsum``, so both inputs are differentiable at every order.
"""

from __future__ import annotations

from string import ascii_letters

import numpy as _np

from ... import numpy as _cnp
from ...core.aval import shape_of
from ...scipy.signal import *  # noqa: F403
from ...scipy.signal import __all__ as _scipy_names

__all__ = list(_scipy_names)  # ``convolve`` below replaces SciPy's signature with autograd's


def convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """autograd's convolution (see the module docstring); ``axes=None`` convolves every axis of
    ``A`` with the same axis of ``B``."""
    if mode not in ("valid", "full", "same"):
        raise ValueError(f"convolve: mode {mode!r} undefined, it can be one of 'valid', 'full', and 'same'")
    A, B = _cnp.asarray(A), _cnp.asarray(B)
    sa, sb = shape_of(A), shape_of(B)
    if axes is None:
        axes = [list(range(len(sa))), list(range(len(sa)))]
    conv_a, conv_b = [list(a) for a in axes]
    dot_a, dot_b = [list(d) for d in dot_axes]
    if len(conv_a) != len(conv_b) or len(dot_a) != len(dot_b):
        raise ValueError("convolve: axes and dot_axes must pair axes of A with axes of B")
    la = [sa[i] for i in conv_a]
    lb = [sb[j] for j in conv_b]
    if mode == "valid" and not (all(x <= y for x, y in zip(la, lb)) or all(y <= x for x, y in zip(la, lb))):
        raise ValueError("convolve: one array must be larger than the other along all convolved dimensions")
    # sliding windows of B, zero-padded by len_A - 1 on both sides: W[.., n, j, ..] = Bp[.., n + j, ..]
    pad = [(0, 0)] * len(sb)
    for i, j in zip(conv_a, conv_b):
        pad[j] = (sa[i] - 1, sa[i] - 1)
    W = _cnp.pad(B, pad)
    letters = iter(ascii_letters)
    a_sub = [next(letters) for _ in sa]
    b_let = [next(letters) for _ in sb]  # B's axes by their original position
    for i, j in zip(dot_a, dot_b):
        b_let[j] = a_sub[i]  # contracted with A's axis i
    ign_a = [a_sub[i] for i in range(len(sa)) if i not in conv_a and i not in dot_a]
    ign_b = [b_let[j] for j in range(len(sb)) if j not in conv_b and j not in dot_b]
    cur, out_conv = list(b_let), []  # the window array's axes: each convolved one becomes (n, j)
    for i, j in zip(conv_a, conv_b):
        idx = _np.arange(sa[i] + sb[j] - 1)[:, None] + _np.arange(sa[i])[None, :]
        pos = cur.index(b_let[j])
        W = _cnp.take(W, idx, axis=pos)
        n_letter = next(letters)
        cur[pos:pos + 1] = [n_letter, a_sub[i]]
        out_conv.append(n_letter)
    flip = [slice(None)] * len(sa)
    for i in conv_a:
        flip[i] = slice(None, None, -1)
    full = _cnp.einsum(f"{''.join(a_sub)},{''.join(cur)}->{''.join(ign_a + ign_b + out_conv)}",
                       A[tuple(flip)], W)
    if mode == "full":
        return full
    index = [slice(None)] * (len(ign_a) + len(ign_b))
    for x, y in zip(la, lb):
        start = min(x, y) - 1 if mode == "valid" else (y - 1) // 2
        stop = max(x, y) if mode == "valid" else (y - 1) // 2 + x
        index.append(slice(start, stop))
    return full[tuple(index)]
