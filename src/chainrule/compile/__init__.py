"""Staged execution: ``jit`` records a call's primitives once and replays them as plain NumPy."""

from .cache import cache_dir, set_cache_dir
from .fusion import kernel_cache_info
from .staging import JitFallbackWarning, Program, jit

__all__ = ["jit", "Program", "JitFallbackWarning", "cache_dir", "set_cache_dir", "kernel_cache_info"]
