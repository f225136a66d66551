"""Data: the bundled digits, CSV/NPZ tables, train/test splits, shuffled mini-batches.

Everything here is plain NumPy (data are constants to the derivative). Problems with a file raise
:class:`DataError` with a one-line message that names the file, row and column.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .io import npz_arrays


class DataError(ValueError):
    """A data file that cannot be used as it is (missing, malformed, non-numeric, NaN...)."""


# ---------------------------------------------------------------- the bundled data set

def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits (1,797 images; UCI optdigits test set, bundled as in scikit-learn).

    Returns ``(x, t)``: ``x`` float64 (1797, 64), pixel counts 0..16 row-major; ``t`` int64 labels 0..9.
    """
    raw = resources.files("chainrule").joinpath("data", "digits.csv.gz").read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",")
    return table[:, :-1].astype(np.float64), table[:, -1].astype(np.int64)


def digits_path() -> str:
    """Filesystem path of the bundled ``digits.csv.gz`` (for ``chainrule train --data``)."""
    return str(resources.files("chainrule").joinpath("data", "digits.csv.gz"))


# ---------------------------------------------------------------- splitting and batching

def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def train_test_split(x, t, test_fraction: float = 0.2, seed=0, stratify: bool = False):
    """Shuffle and split into ``(x_train, x_test, t_train, t_test)``.

    With ``stratify`` every class keeps (about) the same share in both parts.
    """
    x, t = np.asarray(x), np.asarray(t)
    n = len(x)
    if len(t) != n:
        raise ValueError(f"x has {n} rows but t has {len(t)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    rng = _rng(seed)
    if stratify:
        test = []
        for c in np.unique(t):
            idx = rng.permutation(np.flatnonzero(t == c))
            test.extend(idx[: int(round(test_fraction * len(idx)))])
        test = np.sort(np.asarray(test, dtype=np.int64))
        mask = np.zeros(n, bool)
        mask[test] = True
        train = rng.permutation(np.flatnonzero(~mask))
        test = rng.permutation(test)
    else:
        perm = rng.permutation(n)
        k = int(round(test_fraction * n))
        test, train = perm[:k], perm[k:]
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"cannot split {n} examples with test_fraction={test_fraction}: "
                         "one part would be empty")
    return x[train], x[test], t[train], t[test]


def batches(x, t, batch_size: int, seed=None, shuffle: bool = True, drop_last: bool = False):
    """Yield mini-batches ``(x_b, t_b)`` covering the data once (one epoch).

    The order is a permutation drawn from ``seed`` (an int, a sequence such as ``(seed, epoch)``,
    or a Generator), so runs are reproducible.
    """
    x, t = np.asarray(x), np.asarray(t)
    n = len(x)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for i in range(0, stop, batch_size):
        idx = order[i:i + batch_size]
        yield x[idx], t[idx]


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """How many mini-batches :func:`batches` yields for ``n`` examples: ``ceil(n / batch_size)``,
    or ``n // batch_size`` with ``drop_last``."""
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def fit_standardizer(x) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where a feature is constant)."""
    x = np.asarray(x, dtype=float)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return mean, np.where(std > 1e-12, std, 1.0)


def standardize(x, mean, std) -> np.ndarray:
    """(x - mean) / std, feature by feature."""
    return (np.asarray(x, dtype=float) - mean) / std


# ---------------------------------------------------------------- reading tables

@dataclass
class Table:
    """A data file read for training or prediction.

    ``x``: float64 features (N, D). ``t``: the target column (float64, or str when any entry is
    not a number: class names), ``None`` when the file has no target column.
    """

    x: np.ndarray
    t: np.ndarray | None
    feature_names: list[str]
    target_name: str | None
    target_index: int | None
    has_header: bool = False
    source: str = ""
    notes: list[str] = field(default_factory=list)


def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def _open_text(path: str):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _check_exists(path: str) -> None:
    if not os.path.exists(path):
        raise DataError(f"no such file: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder, not a data file")


def read_table(path: str, target=None, require_target: bool = True, features=None,
               sep: str | None = None) -> Table:
    """Read a ``.csv`` / ``.tsv`` (optionally ``.gz``) or ``.npz`` file.

    ``target``: a column name (needs a header row), an integer index (negative counts from the
    end), or ``None`` for the last column. With ``require_target=False`` and ``target=None`` every
    column is a feature (prediction input).
    ``features``: CSV with a header row only: the feature columns by name, read in this order
    wherever they stand in the file (a missing one is an error naming it); every other column
    except the target is ignored and listed in ``Table.notes``. With ``require_target=False`` a
    named target the file lacks means no target.
    ``sep``: the field separator of a text table (default: :func:`sniff_delimiter` finds it).
    CSV: a first row in which no field is a number is a header. NPZ: arrays ``x``/``X`` and
    ``t``/``y``/``target`` (or the key named by ``target``), or a single 2-D array treated like a CSV.
    """
    path = os.fspath(path)
    _check_exists(path)
    name = os.path.basename(path).lower()
    if name.endswith(".npz"):
        if features is not None:
            raise DataError(f"{path}: an .npz file has no column names to match features by")
        return _read_npz(path, target, require_target)
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        return _read_csv(path, target, require_target, features, sep)
    raise DataError(f"{path}: unsupported file type; use .csv, .tsv (optionally .gz) or .npz")


_DELIMITERS = ",;\t|"


def sniff_delimiter(path: str, sep: str | None = None) -> str:
    """The field separator of a text table: ``sep`` when given (``\\t`` or ``tab`` for a tab);
    else a tab for ``.tsv``; otherwise the one of ``, ; tab |`` that :class:`csv.Sniffer` finds
    consistent over the first lines (a semicolon table, as spreadsheets write it where the
    decimal mark is a comma), and a comma when it cannot tell."""
    if sep is not None:
        return separator(sep)
    if ".tsv" in os.path.basename(path).lower():
        return "\t"
    try:
        with _open_text(path) as f:
            sample = f.read(16384)
    except (OSError, UnicodeDecodeError, EOFError):
        return ","  # the reader reports the problem
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if len(sample) == 16384 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def separator(sep: str) -> str:
    """A field separator the user gave (``\\t`` or ``tab`` for a tab), checked."""
    sep = "\t" if sep in ("\\t", "tab") else sep
    if len(sep) != 1 or sep in "\"\r\n" or sep.isalnum() or sep in ".-":
        raise DataError(f"--sep {sep!r}: the field separator must be one character such as "
                        "',', ';', '|' or '\\t' (not a letter, digit, quote or decimal mark)")
    return sep


def column_names(path: str, sep: str | None = None) -> list[str] | None:
    """The header row of a text table (its first non-blank row, when no field in it is a number,
    as :func:`read_table` decides), or ``None`` for a file without one or an ``.npz`` file."""
    path = os.fspath(path)
    _check_exists(path)
    if os.path.basename(path).lower().endswith(".npz"):
        return None
    try:
        with _open_text(path) as f:
            for row in csv.reader(f, delimiter=sniff_delimiter(path, sep)):
                if row and any(c.strip() for c in row):
                    first = [c.strip() for c in row]
                    return first if all(_number(c) is None for c in first) else None
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as e:
        raise DataError(f"{path}: cannot read it as text CSV ({type(e).__name__}: {e})") from None
    return None


def _read_csv(path, target, require_target, features=None, sep=None) -> Table:
    delimiter = sniff_delimiter(path, sep)
    try:
        with _open_text(path) as f:
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(f, delimiter=delimiter))
                    if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as e:
        raise DataError(f"{path}: cannot read it as text CSV ({type(e).__name__}: {e})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    first = [c.strip() for c in rows[0][1]]
    has_header = all(_number(c) is None for c in first)
    header = first if has_header else [f"column {j}" for j in range(len(first))]
    body = rows[1:] if has_header else rows
    if not body:
        raise DataError(f"{path}: no data rows after the header")
    ncol = len(header)
    for line, r in body:
        if len(r) != ncol:
            raise DataError(f"{path}: line {line} has {len(r)} fields, expected {ncol}")
    cells = np.array([[c.strip() for c in r] for _, r in body], dtype=str)
    lines = [line for line, _ in body]
    notes = []
    if features is None:
        tcol = _target_column(path, target, header, has_header, ncol, require_target)
        feature_cols = [j for j in range(ncol) if j != tcol]
    else:
        feature_cols = _named_columns(path, list(features), header, has_header)
        tcol = (None if not require_target and isinstance(target, str) and target not in header
                else _target_column(path, target, header, has_header, ncol, require_target))
        ignored = [header[j] for j in range(ncol) if j not in feature_cols and j != tcol]
        if ignored:
            notes.append(f"ignored {len(ignored)} column{'s' if len(ignored) > 1 else ''} the model "
                         f"does not use: {', '.join(map(repr, ignored))}")
    if not feature_cols:
        raise DataError(f"{path}: no feature columns left besides the target")
    x = np.empty((len(body), len(feature_cols)))
    for k, j in enumerate(feature_cols):
        x[:, k] = _numeric_column(path, cells[:, j], header[j], lines)
    t = None
    if tcol is not None:
        t = _target_values(path, cells[:, tcol], header[tcol], lines)
    return Table(x, t, [header[j] for j in feature_cols], None if tcol is None else header[tcol],
                 tcol, has_header, path, notes)


def _named_columns(path, features, header, has_header) -> list[int]:
    """The positions of the ``features`` columns, by header name."""
    if not has_header:
        shown = ", ".join(map(repr, features[:6])) + (", ..." if len(features) > 6 else "")
        raise DataError(f"{path}: has no header row, so its columns cannot be matched to the named "
                        f"features ({shown}); add the header row")
    missing = [f for f in features if f not in header]
    if missing:
        more = f" (and {len(missing) - 1} more: {', '.join(map(repr, missing[1:4]))}" \
               f"{', ...' if len(missing) > 4 else ''})" if len(missing) > 1 else ""
        raise DataError(f"{path}: no column named {missing[0]!r}{more}; the model needs it")
    twice = next((f for f in features if header.count(f) > 1), None)
    if twice is not None:
        raise DataError(f"{path}: column {twice!r} appears {header.count(twice)} times in the header; "
                        "cannot tell which one the model means")
    return [header.index(f) for f in features]


def _target_column(path, target, header, has_header, ncol, require_target):
    if target is None:
        return ncol - 1 if require_target else None
    if isinstance(target, str) and target in header and has_header:
        return header.index(target)
    index = target if isinstance(target, int) else None
    if isinstance(target, str):
        try:
            index = int(target)
        except ValueError:
            shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
            why = (f"columns: {shown}" if has_header
                   else "the file has no header row; give the column index instead")
            raise DataError(f"{path}: no column named {target!r} ({why})") from None
    if not -ncol <= index < ncol:
        raise DataError(f"{path}: target column index {index} is out of range "
                        f"(the file has {ncol} columns, 0..{ncol - 1})")
    return index % ncol


def _bad_cell(path, values, bad, colname, lines, what):
    i = int(np.flatnonzero(bad)[0])
    comma = _number(str(values[i]).replace(",", ".", 1)) is not None and "," in str(values[i])
    return DataError(f"{path}: {what} {str(values[i])!r} at line {lines[i]}, column {colname!r}"
                     + (f" ({int(bad.sum())} such cells in all)" if bad.sum() > 1 else "")
                     + ("; numbers need a decimal point, not a decimal comma" if comma else ""))


def _parse_floats(values):
    out = np.empty(len(values))
    ok = np.ones(len(values), bool)
    for i, v in enumerate(values):
        f = _number(v)
        if f is None:
            ok[i] = False
            out[i] = np.nan
        else:
            out[i] = f
    return out, ok


def _numeric_column(path, values, colname, lines):
    out, ok = _parse_floats(values)
    missing = np.array([v == "" for v in values])
    if missing.any():
        raise _bad_cell(path, values, missing, colname, lines, "missing value")
    if not ok.all():
        raise _bad_cell(path, values, ~ok, colname, lines, "non-numeric value")
    _check_finite(path, out, values, colname, lines)
    return out


def _check_finite(path, out, values, colname, lines):
    nan = np.isnan(out)
    if nan.any():
        raise _bad_cell(path, values, nan, colname, lines, "NaN value")
    inf = np.isinf(out)
    if inf.any():
        raise _bad_cell(path, values, inf, colname, lines, "infinite value")


def _target_values(path, values, colname, lines):
    missing = np.array([v == "" for v in values])
    if missing.any():
        raise _bad_cell(path, values, missing, colname, lines, "missing target")
    out, ok = _parse_floats(values)
    if not ok.all():
        return np.asarray(values, dtype=str)  # class names
    _check_finite(path, out, values, colname, lines)
    return out


_X_KEYS = ("x", "X", "data", "features", "inputs")
_T_KEYS = ("t", "y", "Y", "T", "target", "targets", "labels")


def _read_npz(path, target, require_target) -> Table:
    try:
        arrays = npz_arrays(path)
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable .npz file: {e}") from None
    if not arrays:
        raise DataError(f"{path}: the .npz file holds no arrays")
    keys = sorted(arrays)
    tkey = None
    if isinstance(target, str) and target in arrays:
        tkey = target
    elif target is None:
        tkey = next((k for k in _T_KEYS if k in arrays), None)
    xkey = next((k for k in _X_KEYS if k in arrays and k != tkey), None)
    if xkey is None and tkey is not None and len(arrays) == 2:
        xkey = next(k for k in keys if k != tkey)
    if xkey is not None and (tkey is not None or not require_target or target is None):
        x = _npz_features(path, arrays[xkey], xkey)
        t = None
        if tkey is not None:
            t = np.asarray(arrays[tkey])
            if t.ndim == 2 and t.shape[1] == 1:
                t = t[:, 0]
            if t.ndim != 1 or len(t) != len(x):
                raise DataError(f"{path}: target array {tkey!r} has shape {t.shape}, expected ({len(x)},)")
            t = _npz_target(path, t, tkey)
        elif require_target:
            raise DataError(f"{path}: found features {xkey!r} but no target array "
                            f"(arrays: {', '.join(keys)}); name it with --target")
        return Table(x, t, [f"{xkey}[{j}]" for j in range(x.shape[1])], tkey, None, False, path)
    if len(arrays) == 1:
        (key,) = keys
        table = np.asarray(arrays[key])
        if table.ndim != 2:
            raise DataError(f"{path}: array {key!r} has shape {table.shape}; expected a 2-D table")
        header = [f"column {j}" for j in range(table.shape[1])]
        tcol = _target_column(path, target, header, False, table.shape[1], require_target)
        cols = [j for j in range(table.shape[1]) if j != tcol]
        x = _npz_features(path, table[:, cols], key)
        t = None if tcol is None else _npz_target(path, table[:, tcol], key)
        return Table(x, t, [header[j] for j in cols], None if tcol is None else header[tcol], tcol,
                     False, path)
    raise DataError(f"{path}: cannot tell features from target among arrays {', '.join(keys)}; "
                    "name the target array with --target (features: x or X)")


def _npz_features(path, x, key):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise DataError(f"{path}: feature array {key!r} has shape {x.shape}; expected (N, D)")
    if not (np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.bool_)):
        raise DataError(f"{path}: feature array {key!r} is non-numeric (dtype {x.dtype})")
    if np.iscomplexobj(x):
        raise DataError(f"{path}: feature array {key!r} is complex; chainrule.nn needs real numbers")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(x[r, c]) else "infinite"
        raise DataError(f"{path}: {kind} value in {key!r} at row {r}, column {c} "
                        f"({int(bad.sum())} non-finite values in all)")
    return x


def _npz_target(path, t, key):
    if np.issubdtype(t.dtype, np.str_):
        return t.astype(str)
    if not (np.issubdtype(t.dtype, np.number) or np.issubdtype(t.dtype, np.bool_)) or np.iscomplexobj(t):
        raise DataError(f"{path}: target {key!r} has unusable dtype {t.dtype}")
    t = t.astype(np.float64)
    bad = ~np.isfinite(t)
    if bad.any():
        raise DataError(f"{path}: non-finite target in {key!r} at row {int(np.flatnonzero(bad)[0])}")
    return t
