"""Phase retrieval by gradient descent: recover a wavefront's phase from the intensity of its
far field (what a camera behind a lens records), with chainrule's complex derivatives.

A pupil of known amplitude ``A`` (a disc) carries an unknown phase ``phi``; the camera sees the
Fourier magnitude ``m = |fft2(A exp(i phi))|`` (zero-padded: oversampled twice). Two ways to
get ``phi`` back, both plain gradient descent on the magnitude misfit:

1. Differentiate with respect to the real phase: the loss goes real -> complex (exp(i phi),
   fft2) -> real (abs), and ``grad`` returns a real gradient.
2. Differentiate with respect to the complex field ``z`` itself (support constraint: zero
   outside the disc). ``grad`` of a real loss of complex ``z`` is JAX's ``dL/dx - i dL/dy``;
   the steepest-descent step is along its conjugate: ``z -= lr * conj(grad(L)(z))``.

Run ``python examples/phase_retrieval.py`` (``--size 16 --steps 200`` runs in a second;
``--figure out.png`` draws the true and recovered phases and the misfits).
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr


def make_problem(size: int, seed: int = 0):
    """A disc-shaped pupil with a smooth random phase (a few low-order modes), and the
    oversampled far-field magnitude it produces."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    amplitude = (x ** 2 + y ** 2 <= 0.8).astype(float)
    modes = [x, y, x * y, x ** 2 - y ** 2, 2 * (x ** 2 + y ** 2) - 1]
    phase = sum(c * m for c, m in zip(rng.uniform(-1.5, 1.5, len(modes)), modes)) * amplitude
    measured = np.abs(np.fft.fft2(amplitude * np.exp(1j * phase), s=(2 * size, 2 * size)))
    return amplitude, phase, measured


def misfit(field, measured):
    """Mean squared difference of far-field magnitudes, relative to the measured energy."""
    far = np.fft.fft2(field, s=measured.shape)
    return np.sum((np.abs(far) - measured) ** 2) / np.sum(measured ** 2)


def adam(grad_fn, x, steps, lr, conj=False):
    """Adam on a real or complex parameter (for a complex one the step follows conj(grad))."""
    m = np.zeros_like(x)
    v = np.zeros(np.shape(x))
    for k in range(1, steps + 1):
        g = grad_fn(x)
        g = np.conj(g) if conj else g
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * np.abs(g) ** 2
        x = x - lr * (m / (1 - 0.9 ** k)) / (np.sqrt(v / (1 - 0.999 ** k)) + 1e-12)
    return x


def retrieve_phase(amplitude, measured, steps, lr=0.05, seed=1):
    """Way 1: the real phase is the unknown."""
    phi0 = np.random.default_rng(seed).uniform(-0.1, 0.1, amplitude.shape)
    loss = lambda phi: misfit(amplitude * np.exp(1j * phi), measured)  # noqa: E731
    phi = adam(cr.grad(loss), phi0, steps, lr)
    return phi, loss(phi0), loss(phi)


def retrieve_field(amplitude, measured, steps, lr=0.02, seed=1):
    """Way 2: the complex field is the unknown (zero outside the pupil's support)."""
    rng = np.random.default_rng(seed)
    support = amplitude > 0
    z0 = (rng.uniform(0.5, 1.0, amplitude.shape) + 0j) * support
    loss = lambda z: misfit(z * support, measured)  # noqa: E731
    z = adam(cr.grad(loss), z0, steps, lr, conj=True)
    return z * support, loss(z0), loss(z)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--figure", default=None, help="write a PNG of the result here")
    args = parser.parse_args(argv)
    amplitude, phase, measured = make_problem(args.size)
    phi, before1, after1 = retrieve_phase(amplitude, measured, args.steps)
    z, before2, after2 = retrieve_field(amplitude, measured, args.steps)
    print(f"phase as unknown:        misfit {before1:.3g} -> {after1:.3g}")
    print(f"complex field as unknown: misfit {before2:.3g} -> {after2:.3g}")
    if args.figure:
        import matplotlib  # optional: only for the figure

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        inside = amplitude > 0
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
        for ax, img, title in ((axes[0], np.log1p(np.fft.fftshift(measured)), "measured |far field| (log)"),
                               (axes[1], np.where(inside, phase, np.nan), "true phase"),
                               (axes[2], np.where(inside, phi, np.nan), "recovered: phase"),
                               (axes[3], np.where(inside, np.angle(z), np.nan),
                                "recovered: complex field")):
            ax.imshow(img, cmap="twilight" if "phase" in title or "field" in title else "magma")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.figure, dpi=90)
    return after1 / before1, after2 / before2


if __name__ == "__main__":
    main()
