"""Saving and loading parameters as ``.npz``.

Layout: one array per parameter leaf under its key path (``"params/h1/W/x"``, ``"params/h1/b"``),
plus JSON text entries ``"__network__"`` (the :class:`Network` description) and
``"__metadata__"`` (anything JSON-able: preprocessing, class names, metrics). No pickles: files
load with ``allow_pickle=False``. Writes are atomic (temporary file in the same folder, then
``os.replace``), so an interrupted save never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping

import numpy as np

from .layers import Network, ParamShapeError

FORMAT = "chainrule.nn/1"
_PREFIX = "params/"


class ModelFileError(ValueError):
    """A model file that is missing, unreadable or not a chainrule.nn model."""


def _flatten_params(tree, prefix, out):
    if isinstance(tree, Mapping):
        for k, v in tree.items():
            k = str(k)
            if not k or "/" in k:
                raise ValueError(f"parameter key {k!r} cannot be saved: keys must be non-empty, without '/'")
            _flatten_params(v, prefix + k + "/", out)
        return
    arr = np.asarray(tree)
    if not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)):
        raise TypeError(f"parameter {prefix[:-1]!r} has dtype {arr.dtype}; only numeric arrays are saved")
    out[prefix[:-1]] = arr


def _unflatten_params(flat: Mapping) -> dict:
    params: dict = {}
    for key, arr in flat.items():
        node = params
        *parents, leaf = key.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = arr
    return params


def save(path, params, network: Network | None = None, metadata: Mapping | None = None) -> str:
    """Write ``params`` (a pytree of nested dicts of arrays) to ``path`` atomically; returns the path.

    With ``network`` the parameters are checked against it first and its description is stored,
    so :func:`load_model` can rebuild it.
    """
    path = os.fspath(path)
    if network is not None:
        network.check_params(params)
    arrays: dict = {}
    _flatten_params(params, _PREFIX, arrays)
    arrays["__format__"] = np.array(FORMAT)
    if network is not None:
        arrays["__network__"] = np.array(json.dumps(network.to_config()))
    if metadata is not None:
        arrays["__metadata__"] = np.array(json.dumps(metadata, default=_json_default))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"metadata value of type {type(o).__name__} is not JSON-serialisable")


def npz_arrays(path) -> dict:
    """Every array of an ``.npz`` file, loaded without unpickling anything.

    Raises ``ValueError`` with a reason a user can act on; never NumPy's own advice to load
    pickles (a pickle can run code), which a data or model file never needs.
    """
    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(512)
        text = bool(head) and b"\0" not in head
        raise ValueError("it is not an .npz (zip) archive" + ("; it looks like a text file such as a CSV"
                                                              if text else ""))
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError("it holds Python objects (pickled object arrays), which chainrule never "
                             "loads: unpickling a file can run code") from None
        raise ValueError(f"a damaged .npz archive ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"a damaged .npz archive ({type(e).__name__}: {e})") from None


def _read(path) -> dict:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(f"no such model file: {path}")
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a folder, not a model file")
    try:
        return npz_arrays(path)
    except ValueError as e:
        raise ModelFileError(f"{path} is not a readable .npz model file: {e}") from None


def load_model(path) -> tuple[Network | None, dict, dict]:
    """``(network, params, metadata)`` from a file written by :func:`save`.

    The parameters are checked against the stored network (``None`` if none was stored).
    """
    arrays = _read(path)
    flat = {k[len(_PREFIX):]: v for k, v in arrays.items() if k.startswith(_PREFIX)}
    if not flat:
        raise ModelFileError(f"{path} holds no chainrule.nn parameters (arrays: {', '.join(sorted(arrays))})")
    for key, arr in flat.items():
        if not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)) \
                or np.iscomplexobj(arr):
            raise ModelFileError(f"{path}: parameter {key!r} has dtype {arr.dtype}; expected real numbers")
    params = _unflatten_params(flat)
    network = None
    if "__network__" in arrays:
        try:
            network = Network.from_config(_json_entry(arrays, "__network__", path, "network description"))
        except (ValueError, TypeError, AttributeError) as e:
            raise ModelFileError(f"{path}: corrupt network description ({e})") from None
        _check(network, params, path)
    metadata = _json_entry(arrays, "__metadata__", path, "metadata") if "__metadata__" in arrays else {}
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: corrupt metadata (a JSON {type(metadata).__name__}, not an object)")
    return network, params, metadata


def _json_entry(arrays, key, path, what):
    """A JSON text entry of the file, parsed; a damaged one is a :class:`ModelFileError`."""
    arr = arrays[key]
    if arr.shape != () or arr.dtype.kind not in "US":
        raise ModelFileError(f"{path}: corrupt {what} (expected JSON text, found an array of dtype "
                             f"{arr.dtype} and shape {arr.shape})")
    try:
        return json.loads(str(arr))
    except ValueError as e:  # json.JSONDecodeError
        raise ModelFileError(f"{path}: corrupt {what}: not valid JSON ({e})") from None


def load(path, network: Network | None = None) -> dict:
    """The parameters in ``path``, checked against ``network`` (or the network stored in the file).

    A mismatch raises :class:`~chainrule.nn.layers.ParamShapeError` naming the array and both shapes.
    """
    _, params, _ = load_model(path)
    if network is not None:
        _check(network, params, path)
    return params


def _check(network, params, path):
    try:
        network.check_params(params, what=f"parameters in {os.fspath(path)}")
    except ParamShapeError as e:
        raise ParamShapeError(str(e)) from None
