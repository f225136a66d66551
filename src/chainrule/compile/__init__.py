"""Staged execution: ``jit`` records a call's primitives once and replays them as plain NumPy."""

from .staging import JitFallbackWarning, Program, jit

__all__ = ["jit", "Program", "JitFallbackWarning"]
