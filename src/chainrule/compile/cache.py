"""The on-disk cache of jit's compiled loops, shared by every process of the user.

Compiling a fused loop with Numba takes 0.1-0.7 s, in every new process. With the cache,
each loop's source is written once to ``<cache dir>/kernels/k_<hash>.py`` (named by the
SHA-256 of the source, which spells out every dtype the loop computes in) and compiled with
``numba.njit(cache=True)``, which keeps the machine code beside it (in ``__pycache__``, one
entry per argument types) and loads it in later processes instead of compiling again.

The directory is, in order: the last :func:`set_cache_dir` call; the ``CHAINRULE_CACHE_DIR``
environment variable (empty: no cache); ``$XDG_CACHE_HOME/chainrule``; ``~/.cache/chainrule``.
A directory that cannot be written disables the cache for the process (loops are then
compiled in memory, as without it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

__all__ = ["cache_dir", "set_cache_dir", "load_kernel", "dispatcher_stats"]

_UNSET = object()
_setting: list = [_UNSET]  # what set_cache_dir chose (a path, None for off, or unset)
_broken: set = set()  # directories that could not be written in this process
_HEADER = "# a fused loop of chainrule.jit (generated; safe to delete)\nimport numpy as np\n\n"


def set_cache_dir(path) -> str | None:
    """Use ``path`` for jit's compiled loops from now on (``None``: keep them in memory
    only); returns the previous directory. Overrides ``CHAINRULE_CACHE_DIR``."""
    previous = cache_dir()
    _setting[0] = None if path is None else os.fspath(path)
    return previous


def cache_dir() -> str | None:
    """The directory of the cache, or None when it is off."""
    setting = _setting[0]
    if setting is not _UNSET:
        return setting
    env = os.environ.get("CHAINRULE_CACHE_DIR")
    if env is not None:
        return env or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "chainrule")


def _kernel_file(source: str) -> str | None:
    """The file holding ``source`` in the cache (written if missing), or None (no cache)."""
    root = cache_dir()
    if root is None or root in _broken:
        return None
    folder = os.path.join(root, "kernels")
    text = _HEADER + source
    path = os.path.join(folder, f"k_{hashlib.sha256(text.encode()).hexdigest()[:32]}.py")
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return path
    except OSError:
        pass
    try:  # written whole, then renamed: another process never reads half a file
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        _broken.add(root)
        return None
    return path


def load_kernel(source: str, numba, **options):
    """``numba.njit(**options)`` of the function ``fused`` that ``source`` defines, cached on
    disk when the cache is on (see the module docstring)."""
    path = _kernel_file(source)
    if path is None:
        env = {"np": np}
        exec(compile(source, "<chainrule fused loop>", "exec"), env)  # noqa: S102 - our own code
        return numba.njit(**options)(env["fused"])
    name = "chainrule_kernel_" + os.path.basename(path)[:-3]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # Numba's cached code names its module; a later load imports it by that name
        sys.modules[name] = module
    return numba.njit(cache=True, **options)(module.fused)


def dispatcher_stats(kernels) -> dict:
    """How the ``kernels`` (Numba dispatchers) got their machine code: ``compiled`` in this
    process or ``loaded`` from the cache (one count per argument types)."""
    compiled = loaded = 0
    for k in kernels:
        stats = k.stats
        hits = sum(stats.cache_hits.values())
        loaded += hits
        compiled += len(k.signatures) - hits
    return {"kernels": len(kernels), "compiled": compiled, "loaded": loaded, "dir": cache_dir()}
