"""Feed-forward networks of any DAG topology (Bishop, *Deep Learning*, sec. 8.1.2).

Every unit j of a layer forms a weighted sum of the activations z_i it receives, from any earlier
layer or straight from the input, and applies a nonlinearity:

    a_j = sum_i w_ji z_i + b_j,        z_j = h(a_j)                       (Bishop 8.5, 8.6)

A layer that reads several sources keeps one weight matrix per source, so a skip-layer connection
is one more name in ``inputs``::

    net = Network({"h1": Dense(64, "tanh", inputs=["x"]),
                   "out": Dense(10, inputs=["h1", "x"])}, input_dim=64)
    params = net.init(seed=0)       # {"h1": {"W": {"x": (64, 64)}, "b": (64,)},
                                    #  "out": {"W": {"h1": (64, 10), "x": (64, 10)}, "b": (10,)}}
    y = net.apply(params, x)        # x: (N, 64) -> (N, 10)

Parameters are plain pytrees (nested dicts of float64 arrays), so ``chainrule.value_and_grad``
differentiates a loss ``loss(params, x, t)`` with respect to all of them at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..checkpoint import checkpoint as _remat
from ..core.primitive import Box
from .activations import get_activation

INPUT = "x"
_INITS = ("glorot", "he")


class ParamShapeError(ValueError):
    """Parameters that do not fit the network (missing, extra or wrongly shaped arrays)."""


@dataclass(frozen=True)
class Dense:
    """A layer of ``units`` units: ``h(sum_s z_s @ W[s] + b)`` over its sources ``s`` in ``inputs``.

    ``inputs`` names earlier layers or ``"x"`` (the network input); ``None`` means the layer
    listed just before this one (``"x"`` for the first). ``activation`` is a name from
    :data:`chainrule.nn.activations.ACTIVATIONS` or ``None`` (identity: logits / linear outputs).
    ``init`` is ``"glorot"`` (uniform, the default for tanh/sigmoid/identity/softmax) or ``"he"``
    (normal, the default for relu/gelu).
    """

    units: int
    activation: str | None = None
    inputs: tuple[str, ...] | None = None
    init: str | None = None
    bias: bool = True

    def __post_init__(self):
        if isinstance(self.units, bool) or not isinstance(self.units, int | np.integer) or self.units < 1:
            raise ValueError(f"Dense(units=...) must be a positive integer, got {self.units!r}")
        object.__setattr__(self, "units", int(self.units))
        if isinstance(self.inputs, str):
            object.__setattr__(self, "inputs", (self.inputs,))
        elif self.inputs is not None:
            object.__setattr__(self, "inputs", tuple(self.inputs))
            if not self.inputs:
                raise ValueError("Dense(inputs=[]) needs at least one source")
        if not (self.activation is None or isinstance(self.activation, str)):
            raise TypeError("Dense(activation=...) takes a name such as 'tanh' (saved models store names)")
        get_activation(self.activation)  # fail now on an unknown name
        if self.init is not None and self.init not in _INITS:
            raise ValueError(f"unknown init {self.init!r}; use 'glorot' or 'he'")

    @property
    def init_scheme(self) -> str:
        if self.init is not None:
            return self.init
        return "he" if self.activation in ("relu", "gelu") else "glorot"


def Linear(units: int, inputs=None, init: str | None = None, bias: bool = True) -> Dense:
    """A layer with no nonlinearity, y = z @ W + b (Bishop's single-layer linear model, 8.1.1)."""
    return Dense(units, None, inputs, init, bias)


class Network:
    """A feed-forward network: named :class:`Dense` layers wired as a directed acyclic graph.

    ``output`` names the layer whose activations :meth:`apply` returns (default: the last one
    listed). ``input_dim`` may be given here or to :meth:`init`; it is needed to build weights.
    """

    def __init__(self, layers: Mapping[str, Dense], input_dim: int | None = None,
                 output: str | None = None):
        if not isinstance(layers, Mapping) or not layers:
            raise ValueError("Network needs a non-empty dict {name: Dense(...)}")
        resolved: dict[str, Dense] = {}
        previous = INPUT
        for name, layer in layers.items():
            if not isinstance(name, str) or not name or "/" in name or name == INPUT:
                raise ValueError(f"bad layer name {name!r}: use a non-empty string without '/', "
                                 f"not {INPUT!r} (that is the input)")
            if not isinstance(layer, Dense):
                raise TypeError(f"layer {name!r} is a {type(layer).__name__}, expected Dense")
            if layer.inputs is None:
                layer = Dense(layer.units, layer.activation, (previous,), layer.init, layer.bias)
            if len(set(layer.inputs)) != len(layer.inputs):
                raise ValueError(f"layer {name!r} lists a source twice: {list(layer.inputs)}")
            for src in layer.inputs:
                if src != INPUT and src not in layers:
                    raise ValueError(f"layer {name!r} reads from {src!r}, which is neither a layer "
                                     f"nor the input {INPUT!r}")
            resolved[name] = layer
            previous = name
        self.layers = resolved
        self.order = _topological_order(resolved)
        self.output = list(resolved)[-1] if output is None else output
        if self.output not in resolved:
            raise ValueError(f"output {self.output!r} is not a layer of this network")
        if input_dim is not None and (not isinstance(input_dim, int | np.integer) or input_dim < 1):
            raise ValueError(f"input_dim must be a positive integer, got {input_dim!r}")
        self.input_dim = None if input_dim is None else int(input_dim)

    # ------------------------------------------------------------------ structure
    @property
    def output_dim(self) -> int:
        return self.layers[self.output].units

    def _dim(self, src: str, input_dim: int | None) -> int:
        if src == INPUT:
            if input_dim is None:
                raise ValueError("the network's input size is unknown: pass input_dim to Network(...) "
                                 "or to init(...)")
            return input_dim
        return self.layers[src].units

    def param_shapes(self, input_dim: int | None = None) -> dict:
        """The pytree of parameter shapes: ``{layer: {"W": {source: (fan, units)}, "b": (units,)}}``."""
        d = self.input_dim if input_dim is None else input_dim
        shapes = {}
        for name in self.order:
            layer = self.layers[name]
            entry = {"W": {s: (self._dim(s, d), layer.units) for s in layer.inputs}}
            if layer.bias:
                entry["b"] = (layer.units,)
            shapes[name] = entry
        return shapes

    def num_params(self, input_dim: int | None = None) -> int:
        total = 0
        for entry in self.param_shapes(input_dim).values():
            total += sum(math.prod(s) for s in entry["W"].values()) + math.prod(entry.get("b", (0,)))
        return total

    # ------------------------------------------------------------------ parameters
    def init(self, seed: int | np.random.Generator = 0, input_dim: int | None = None) -> dict:
        """Fresh parameters, reproducible from ``seed``; biases start at zero.

        Glorot (uniform): w ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)).
        He (normal):      w ~ N(0, 2 / fan_in).
        fan_in counts every source of the layer (a skip connection widens it).
        """
        if input_dim is not None:
            if self.input_dim is not None and input_dim != self.input_dim:
                raise ValueError(f"init(input_dim={input_dim}) but the network was built with "
                                 f"input_dim={self.input_dim}")
            self.input_dim = int(input_dim)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        shapes = self.param_shapes()
        params = {}
        for name in self.order:
            layer = self.layers[name]
            fan_in = sum(s[0] for s in shapes[name]["W"].values())
            fan_out = layer.units
            W = {}
            for src in layer.inputs:
                shape = shapes[name]["W"][src]
                if layer.init_scheme == "he":
                    W[src] = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
                else:
                    r = math.sqrt(6.0 / (fan_in + fan_out))
                    W[src] = rng.uniform(-r, r, size=shape)
            params[name] = {"W": W}
            if layer.bias:
                params[name]["b"] = np.zeros(layer.units)
        return params

    def check_params(self, params, what: str = "parameters") -> None:
        """Raise :class:`ParamShapeError` naming the first array that does not fit this network."""
        if not isinstance(params, Mapping):
            raise ParamShapeError(f"{what} must be a dict of layers, got {type(params).__name__}")
        input_dim = self.input_dim
        if input_dim is None:  # take it from the first weight that reads the input
            for name in self.order:
                w = params.get(name, {}).get("W", {}) if isinstance(params.get(name), Mapping) else {}
                if INPUT in w:
                    input_dim = int(np.shape(w[INPUT])[0])
                    break
        want = self.param_shapes(input_dim)
        _compare(want, params, what, ())

    # ------------------------------------------------------------------ forward propagation
    def apply(self, params, x, return_all: bool = False, checkpoint: int | None = None):
        """Forward propagation (Bishop 8.5-8.6) in topological order.

        ``x`` has shape ``(N, input_dim)`` (or ``(input_dim,)`` for one example). Returns the
        output layer's activations, or with ``return_all`` a dict of every layer's activations
        (and ``"x"``). ``checkpoint=k`` runs each block of ``k`` consecutive layers (in
        topological order) under :func:`chainrule.checkpoint`: a gradient keeps only the
        activations that cross a block boundary and recomputes the rest in its backward pass
        (same value and derivatives; with ``k`` about the square root of the depth, memory
        ``O(sqrt(depth))`` for one extra forward pass).
        """
        if checkpoint is not None and (isinstance(checkpoint, bool) or not isinstance(checkpoint, int)
                                       or checkpoint < 1):
            raise ValueError(f"checkpoint must be a positive number of layers, got {checkpoint!r}")
        if self.input_dim is not None:
            d = np.shape(x._value if isinstance(x, Box) else x)
            if not d or d[-1] != self.input_dim:
                raise ValueError(f"input has shape {d}, but the network expects {self.input_dim} "
                                 "features in its last axis")
        z = {INPUT: x}
        if checkpoint is None:
            for name in self.order:
                z[name] = self._layer(name, params[name], z)
            return z if return_all else z[self.output]
        for start in range(0, len(self.order), checkpoint):
            names = self.order[start:start + checkpoint]
            later = self.order[start + checkpoint:]
            # what the block reads from before it, and what is read after it (or returned)
            reads = sorted({s for n in names for s in self.layers[n].inputs} - set(names))
            keep = [n for n in names if return_all or n == self.output
                    or any(n in self.layers[m].inputs for m in later)]
            z.update(_remat(self._block(names, keep))({n: params[n] for n in names},
                                                      {s: z[s] for s in reads}))
        return z if return_all else z[self.output]

    def _layer(self, name, p, z):
        """``h(sum_s z_s @ W[s] + b)`` for layer ``name`` from the activations ``z``."""
        layer = self.layers[name]
        a = None
        for src in layer.inputs:
            term = z[src] @ p["W"][src]
            a = term if a is None else a + term
        if layer.bias:
            a = a + p["b"]
        return get_activation(layer.activation)(a)

    def _block(self, names, keep):
        """Layers ``names`` as one function of their parameters and inputs, returning ``keep``."""
        def block(params, inputs):
            z = dict(inputs)
            for name in names:
                z[name] = self._layer(name, params[name], z)
            return {n: z[n] for n in keep}
        return block

    __call__ = apply

    # ------------------------------------------------------------------ description
    def to_config(self) -> dict:
        """A JSON-able description; :meth:`from_config` rebuilds the same network."""
        return {"input_dim": self.input_dim, "output": self.output,
                "layers": [{"name": n, "units": lay.units, "activation": lay.activation,
                            "inputs": list(lay.inputs), "init": lay.init, "bias": lay.bias}
                           for n, lay in self.layers.items()]}

    @classmethod
    def from_config(cls, config: Mapping) -> Network:
        try:
            layers = {d["name"]: Dense(d["units"], d.get("activation"), tuple(d["inputs"]),
                                       d.get("init"), d.get("bias", True))
                      for d in config["layers"]}
            return cls(layers, input_dim=config.get("input_dim"), output=config.get("output"))
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a network description: missing or bad field {e}") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, Network) and self.to_config() == other.to_config()

    def __repr__(self) -> str:
        return f"Network(input_dim={self.input_dim}, output={self.output!r}, layers={self.layers!r})"

    def summary(self) -> str:
        """One line per layer: name, units, activation, sources, parameter count."""
        lines = [f"input {INPUT!r}: {self.input_dim} features"]
        shapes = self.param_shapes()
        for name in self.order:
            lay = self.layers[name]
            n = sum(math.prod(s) for s in shapes[name]["W"].values()) + (lay.units if lay.bias else 0)
            lines.append(f"{name}: {lay.units} units, {lay.activation or 'identity'}, "
                         f"from {', '.join(lay.inputs)} ({n} parameters)")
        lines.append(f"output: {self.output}; {self.num_params()} parameters in all")
        return "\n".join(lines)


def mlp(input_dim: int, hidden: Sequence[int], output_dim: int, activation: str = "tanh",
        output_activation: str | None = None) -> Network:
    """A layered network x -> h1 -> h2 -> ... -> out (one of the DAGs :class:`Network` builds)."""
    layers = {f"h{i + 1}": Dense(int(u), activation) for i, u in enumerate(hidden)}
    layers["out"] = Dense(int(output_dim), output_activation)
    return Network(layers, input_dim=input_dim)


def _topological_order(layers: Mapping[str, Dense]) -> list[str]:
    """Kahn's algorithm, keeping the listed order among ready layers; a cycle is an error."""
    done = {INPUT}
    order: list[str] = []
    pending = list(layers)
    while pending:
        ready = [n for n in pending if all(s in done for s in layers[n].inputs)]
        if not ready:
            raise ValueError(f"the layers {pending} form a cycle: a feed-forward network must be "
                             "a directed acyclic graph")
        for n in ready:
            order.append(n)
            done.add(n)
        pending = [n for n in pending if n not in done]
    return order


def _path(keys) -> str:
    return "params" + "".join(f"[{k!r}]" for k in keys)


def _compare(want, got, what, keys) -> None:
    if isinstance(want, dict):
        if not isinstance(got, Mapping):
            raise ParamShapeError(f"{what} do not match the network: {_path(keys)} should be a dict "
                                  f"with keys {sorted(want)}, got {type(got).__name__}")
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        if missing:
            raise ParamShapeError(f"{what} do not match the network: {_path(keys + (missing[0],))} "
                                  "is missing")
        if extra:
            raise ParamShapeError(f"{what} do not match the network: {_path(keys + (extra[0],))} "
                                  "is not a parameter of this network")
        for k in want:
            _compare(want[k], got[k], what, keys + (k,))
        return
    shape = np.shape(got._value if isinstance(got, Box) else got)
    if tuple(shape) != tuple(want):
        raise ParamShapeError(f"{what} do not match the network: {_path(keys)} has shape "
                              f"{tuple(shape)}, the network needs {tuple(want)}")
