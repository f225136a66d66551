"""Numbers as the glass box prints them: textbook-short scalars, small arrays in full,
large arrays as their shape and summary statistics."""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import unbox_all

# Arrays up to this many elements are printed in full (tables, HTML); larger ones as a summary.
PRINT_ELEMENTS = 16


def plain(x):
    """The primal value of ``x`` as NumPy data (every trace stripped)."""
    x = unbox_all(x)
    if isinstance(x, tuple):
        return tuple(plain(v) for v in x)
    return x


def size_of(x) -> int:
    """How many numbers ``x`` holds (1 for a scalar)."""
    return int(np.size(plain(x)))


def is_scalar(x) -> bool:
    return x is not None and size_of(x) == 1


def scalar(x) -> float:
    return float(np.asarray(plain(x), dtype=float).reshape(-1)[0])


def num(v: float, digits: int = 6) -> str:
    """``-12.0`` -> ``"-12"``, ``0.333333333`` -> ``"0.333333"``: the textbook's way of writing numbers."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    s = format(v, f".{digits}g")
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s


def stats(x) -> dict:
    """Shape, dtype and summary statistics of an array (finite entries only for min/max/mean/std)."""
    a = np.asarray(plain(x))
    out = {"shape": list(a.shape), "dtype": str(a.dtype), "size": int(a.size)}
    if a.size == 0 or a.dtype.kind not in "fiub":
        return out
    f = a.astype(float, copy=False).reshape(-1)
    finite = np.isfinite(f)
    out["nonfinite"] = int(f.size - finite.sum())
    fin = f[finite]
    if fin.size:
        out.update(min=float(fin.min()), max=float(fin.max()), mean=float(fin.mean()),
                   std=float(fin.std()), norm=float(np.sqrt((fin * fin).sum())))
    return out


def fmt_value(x, digits: int = 6, max_elements: int = PRINT_ELEMENTS) -> str:
    """A value for a table cell: scalars as numbers, small arrays in full, large ones summarised."""
    if x is None:
        return "-"
    x = plain(x)
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt_value(v, digits, max_elements) for v in x) + ")"
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        return repr(x)
    if a.ndim == 0:
        return num(a, digits) if a.dtype.kind == "f" else str(a.item())
    if a.size <= max_elements:
        return _nested(a, min(digits, 4))
    return fmt_summary(a)


def _nested(a, digits: int, depth: int = 0) -> str:
    """``[[1, -2.5], [0.3333, 4]]``, one row per line for matrices."""
    if a.ndim == 1:
        return "[" + ", ".join(num(v, digits) if a.dtype.kind == "f" else str(v) for v in a.tolist()) + "]"
    sep = ",\n" + " " * (depth + 1) if a.ndim == 2 else ",\n\n" + " " * (depth + 1)
    return "[" + sep.join(_nested(r, digits, depth + 1) for r in a) + "]"


def fmt_summary(x) -> str:
    s = stats(x)
    shape = "×".join(str(d) for d in s["shape"])
    if "mean" not in s:
        return f"{s['dtype']}[{shape}]"
    bad = f", {s['nonfinite']} non-finite" if s.get("nonfinite") else ""
    return (f"{s['dtype']}[{shape}] mean {num(s['mean'], 3)} std {num(s['std'], 3)} "
            f"min {num(s['min'], 3)} max {num(s['max'], 3)}{bad}")


def fmt_short(x, digits: int = 4) -> str:
    """A value on a circuit wire: a number, or a shape with the mean / norm for arrays."""
    if x is None:
        return ""
    x = plain(x)
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt_short(v, digits) for v in x) + ")"
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        return type(x).__name__
    if a.size == 1:
        return num(a.reshape(-1)[0], digits)
    shape = "×".join(str(d) for d in a.shape)
    if a.size <= 4:
        return "[" + ", ".join(num(v, 3) for v in a.reshape(-1)) + "]"
    return f"[{shape}] ‖·‖ {num(np.sqrt(np.sum(np.asarray(a, float) ** 2)), 3)}"


def fmt_index(idx) -> str:
    """``(slice(None), None)`` -> ``":, None"``: an index as it was written."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            s = "" if p.start is None else str(p.start)
            s += ":" + ("" if p.stop is None else str(p.stop))
            if p.step is not None:
                s += ":" + str(p.step)
            out.append(s)
        elif p is Ellipsis:
            out.append("...")
        elif p is None:
            out.append("None")
        else:
            out.append(fmt_const(p))
    return ", ".join(out)


def fmt_const(x) -> str:
    """A constant argument (a literal, an index, a condition array) in an op's argument list."""
    x = plain(x)
    if isinstance(x, (np.ndarray, np.generic)) or np.isscalar(x):
        a = np.asarray(x)
        if a.size <= 4 and a.dtype.kind in "fiub":
            return fmt_value(a, 4)
        return f"{a.dtype}[{'×'.join(str(d) for d in a.shape)}]"
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."


def jsonable(x, max_elements: int):
    """Nested lists for an array with at most ``max_elements`` entries, else ``None``; non-finite -> str."""
    if x is None:
        return None
    x = plain(x)
    if isinstance(x, tuple):
        return [jsonable(v, max_elements) for v in x]
    a = np.asarray(x)
    if a.dtype.kind not in "fiub" or a.size > max_elements:
        return None
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        return np.vectorize(lambda v: v if math.isfinite(v) else str(v), otypes=[object])(a).tolist()
    return a.tolist()
