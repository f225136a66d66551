"""The phase-retrieval example runs (at a small size) and recovers what it claims."""

import importlib.util
from pathlib import Path

import numpy as np

import chainrule as cr

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "phase_retrieval.py"


def _load():
    spec = importlib.util.spec_from_file_location("phase_retrieval", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_phase_retrieval_example_recovers_the_far_field(capsys):
    ratio_phase, ratio_field = _load().main(["--size", "12", "--steps", "150"])
    out = capsys.readouterr().out
    assert "phase as unknown" in out and "complex field as unknown" in out
    assert ratio_phase < 1e-3  # the phase as unknown fits the measured magnitudes
    assert ratio_field < 0.2   # the complex field as unknown: a fit, more slowly


def test_example_gradients_are_the_central_differences():
    ex = _load()
    amplitude, _, measured = ex.make_problem(6)
    rng = np.random.default_rng(0)
    phi = rng.standard_normal(amplitude.shape)
    loss = lambda p: ex.misfit(amplitude * np.exp(1j * p), measured)  # noqa: E731
    v = rng.standard_normal(phi.shape)
    eps = 1e-6
    fd = (loss(phi + eps * v) - loss(phi - eps * v)) / (2 * eps)
    np.testing.assert_allclose(np.sum(cr.grad(loss)(phi) * v), fd, rtol=1e-6)
    # complex field: the directional derivative along dz is Re(sum(grad * dz)) (JAX's pairing)
    z = amplitude * np.exp(1j * phi)
    lz = lambda z: ex.misfit(z, measured)  # noqa: E731
    dz = rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape)
    fd = (lz(z + eps * dz) - lz(z - eps * dz)) / (2 * eps)
    np.testing.assert_allclose(np.real(np.sum(cr.grad(lz)(z) * dz)), fd, rtol=1e-6)
