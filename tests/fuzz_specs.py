"""Hypothesis strategies: random valid specs (with the shapes they must have) and broken variants of them.

A valid spec is built as a chain of blocks on a current tensor, each block one
of the lecture's connections: plain chains, concat skips, residuals, sigmoid
and softmax gates, self- and cross-attention. The builder tracks every node's
shape by hand, so the tests can compare it with archspec's inference and with
Keras.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

Shape = tuple[int, ...]


@dataclass
class Generated:
    """A spec as data, its YAML text, and the shape each of its nodes must have."""

    data: dict[str, Any]
    shapes: dict[str, Shape]

    @property
    def text(self) -> str:
        return to_yaml(self.data)


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=1000)


@dataclass
class _Builder:
    draw: Callable[[st.SearchStrategy[Any]], Any]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[Any] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)

    def add(self, params: dict[str, Any], shape: Shape, plain: list[str],
            others: tuple[tuple[str, str, dict[str, Any]], ...] = ()) -> str:
        name = f"n{len(self.nodes)}"
        self.nodes[name] = params
        self.shapes[name] = shape
        for source in plain:
            self.edges.append(f"{source} -> {name}")
        for source, kind, extra in others:
            self.edges.append({"from": source, "to": name, "kind": kind, **extra})
        return name

    def size(self, low: int = 1, high: int = 12) -> int:
        return self.draw(st.integers(low, high))

    def activation(self) -> dict[str, Any]:
        choice = self.draw(st.sampled_from([None, "relu", "tanh", "sigmoid", "gelu"]))
        return {} if choice is None else {"activation": choice}


def _dense(b: _Builder, cur: str, units: int | None = None) -> str:
    units = units or b.size()
    return b.add({"op": "dense", "units": units, **b.activation()}, b.shapes[cur][:-1] + (units,), [cur])


def _vector_block(b: _Builder, cur: str) -> str:
    shape = b.shapes[cur]
    kind = b.draw(st.sampled_from(["dense", "residual", "concat", "sigmoid_gate", "softmax_gate",
                                   "norm", "dropout", "highway", "glu"]))
    if kind == "dense":
        return _dense(b, cur)
    if kind == "glu":  # a split into two named outputs, read by an expr as a * sigmoid(b)
        units = b.size()
        inner = _dense(b, cur, 2 * units)
        halves = b.add({"op": "split", "into": ["a", "b"]}, shape[:-1] + (2 * units,), [inner])
        b.shapes[f"{halves}.a"] = b.shapes[f"{halves}.b"] = shape[:-1] + (units,)
        return b.add({"op": "expr", "expr": "a * sigmoid(b)"}, shape[:-1] + (units,), [],
                     ((f"{halves}.a", "plain", {"as": "a"}), (f"{halves}.b", "plain", {"as": "b"})))
    if kind == "highway":  # an expr node over three named inputs, one learned per-feature scale
        gate, hidden = _dense(b, cur, shape[-1]), _dense(b, cur, shape[-1])
        expr, learns = b.draw(st.sampled_from([("x * (1 - sigmoid(t)) + h * sigmoid(t)", False),
                                               ("g * (x + 0.1 * h) - t / 2", True),
                                               ("x - mean(h, -1) + g * tanh(t) ** 2", True)]))
        learnable = {"g": {"shape": [shape[-1]], "init": 1.0}} if learns else {}
        params = {"op": "expr", "expr": expr, **({"learnable": learnable} if learnable else {})}
        return b.add(params, shape, [cur], ((gate, "plain", {"as": "t"}), (hidden, "plain", {"as": "h"})))
    if kind == "residual":  # H(x) = F(x) + x, then a dense on the sum
        inner = _dense(b, cur, shape[-1])
        units = b.size()
        return b.add({"op": "dense", "units": units}, shape[:-1] + (units,), [inner],
                     ((cur, "add-residual", {}),))
    if kind == "concat":
        inner = _dense(b, cur)
        units = b.size()
        return b.add({"op": "dense", "units": units}, shape[:-1] + (units,), [inner],
                     ((cur, "concat-skip", {}),))
    if kind == "sigmoid_gate":
        inner = _dense(b, cur)
        per_position = b.draw(st.booleans())
        gate = _dense(b, cur, 1 if per_position else b.shapes[inner][-1])
        units = b.size()
        return b.add({"op": "dense", "units": units}, shape[:-1] + (units,), [inner],
                     ((gate, "gate", {}),))
    if kind == "softmax_gate":
        experts = b.draw(st.integers(2, 3))
        width = b.size()
        mains = [_dense(b, cur, width) for _ in range(experts)]
        router = _dense(b, cur, experts)
        units = b.size()
        return b.add({"op": "dense", "units": units}, shape[:-1] + (units,), mains,
                     ((router, "gate", {}),))
    if kind == "norm":
        return b.add({"op": "layer_norm"}, shape, [cur])
    return b.add({"op": "dropout", "rate": b.draw(st.sampled_from([0.0, 0.1, 0.5]))}, shape, [cur])


def _conv(b: _Builder, cur: str, filters: int | None = None, kernel: int | None = None) -> str:
    height, width, _ = b.shapes[cur]
    filters = filters or b.size(1, 8)
    kernel = kernel or b.draw(st.sampled_from([1, 3]))
    return b.add({"op": "conv2d", "filters": filters, "kernel": kernel, **b.activation()},
                 (height, width, filters), [cur])


def _image_block(b: _Builder, cur: str) -> str:
    height, width, channels = b.shapes[cur]
    kind = b.draw(st.sampled_from(["conv", "strided", "residual", "concat", "unet", "sigmoid_gate",
                                   "squeeze_excite", "norm"]))
    if kind == "conv":
        return _conv(b, cur)
    if kind == "strided":
        filters = b.size(1, 8)
        shape = (-(-height // 2), -(-width // 2), filters)
        return b.add({"op": "conv2d", "filters": filters, "kernel": 3, "strides": 2}, shape, [cur])
    if kind == "residual":
        inner = _conv(b, cur, channels)
        return _conv_with(b, inner, ((cur, "add-residual", {}),))
    if kind == "concat":
        inner = _conv(b, cur)
        return _conv_with(b, inner, ((cur, "concat-skip", {}),))
    if kind == "unet" and height % 2 == 0 and width % 2 == 0:
        pool_op = b.draw(st.sampled_from(["max_pool2d", "avg_pool2d"]))
        down = b.add({"op": pool_op}, (height // 2, width // 2, channels), [cur])
        mid = _conv(b, down)
        up = b.add({"op": "upsample2d"}, (height, width, b.shapes[mid][-1]), [mid])
        return _conv_with(b, up, ((cur, "concat-skip", {}),))
    if kind == "sigmoid_gate":
        inner = _conv(b, cur)
        gate = _conv(b, cur, b.draw(st.sampled_from([1, b.shapes[inner][-1]])))
        return _conv_with(b, inner, ((gate, "gate", _gate_activation(b)),))
    if kind == "squeeze_excite":  # a C-vector or 1x1xC gate broadcast over the map
        inner = _conv(b, cur)
        filters = b.shapes[inner][-1]
        excite = _dense(b, b.add({"op": "global_avg_pool2d"}, (filters,), [inner]), filters)
        if b.draw(st.booleans()):
            excite = b.add({"op": "reshape", "shape": [1, 1, filters]}, (1, 1, filters), [excite])
        return _conv_with(b, inner, ((excite, "gate", _gate_activation(b)),))
    return b.add({"op": "batch_norm"}, b.shapes[cur], [cur])


def _gate_activation(b: _Builder) -> dict[str, Any]:
    choice = b.draw(st.sampled_from([None, "sigmoid", "hard_sigmoid", "tanh", "none"]))
    return {} if choice is None else {"activation": choice}


def _conv_with(b: _Builder, main: str, others: tuple[tuple[str, str, dict[str, Any]], ...]) -> str:
    height, width, _ = b.shapes[main]
    filters = b.size(1, 8)
    return b.add({"op": "conv2d", "filters": filters}, (height, width, filters), [main], others)


def _sequence_block(b: _Builder, cur: str) -> str:
    shape = b.shapes[cur]
    kind = b.draw(st.sampled_from(["dense", "self_attention", "cross_attention", "norm", "conv1d", "rnn",
                                   "rms_norm", "class_token", "slice"]))
    if kind == "dense":
        return _dense(b, cur)
    if kind == "class_token":  # learned tokens in front: more steps
        tokens = b.size(1, 2)
        return b.add({"op": "class_token", "tokens": tokens}, (shape[0] + tokens, shape[1]), [cur])
    if kind == "slice" and shape[0] > 1:  # drop the first step
        return b.add({"op": "slice", "axis": 1, "start": 1}, (shape[0] - 1, shape[1]), [cur])
    if kind == "conv1d":  # same and causal padding keep the steps
        filters = b.size(1, 8)
        params = {"op": "conv1d", "filters": filters, "kernel": b.draw(st.sampled_from([1, 2, 3])),
                  "padding": b.draw(st.sampled_from(["same", "causal"])),
                  "dilation": b.draw(st.sampled_from([1, 2])), **b.activation()}
        return b.add(params, (shape[0], filters), [cur])
    if kind == "rnn":  # every step's output, one or both directions
        units = b.size(1, 6)
        merge = b.draw(st.sampled_from([False, True, "sum"]))
        params = {"op": b.draw(st.sampled_from(["lstm", "gru", "simple_rnn"])), "units": units,
                  "return_sequences": True, "bidirectional": merge}
        return b.add(params, (shape[0], units * (2 if merge is True else 1)), [cur])
    if kind == "rms_norm":
        return b.add({"op": "rms_norm"}, shape, [cur])
    heads, key_dim = b.draw(st.integers(1, 3)), b.draw(st.integers(1, 8))
    attention = {"op": "attention", "heads": heads, "key_dim": key_dim}
    if kind == "self_attention":  # attention wrapped in a residual, as in a transformer block
        inner = b.add(attention, shape, [cur])
        return b.add({"op": "identity"}, shape, [inner], ((cur, "add-residual", {}),))
    if kind == "cross_attention":
        memory = _dense(b, cur)
        return b.add(attention, shape, [cur], ((memory, "attention", {}),))
    return b.add({"op": "layer_norm"}, shape, [cur])


@st.composite
def valid_specs(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Generated:
    """A random valid spec: a vector MLP, a CNN or a sequence model made of random blocks."""
    b = _Builder(draw)
    family = draw(st.sampled_from(["vector", "image", "sequence"]))
    if family == "vector":
        shape: Shape = (b.size(1, 16),)
        block = _vector_block
    elif family == "image":
        side = draw(st.sampled_from([4, 6, 8]))
        shape = (side, side, b.size(1, 3))
        block = _image_block
    else:
        shape = (b.size(2, 6), b.size(2, 12))
        block = _sequence_block
    b.shapes["x"] = shape
    cur = "x"
    for _ in range(draw(st.integers(1, 4))):
        cur = block(b, cur)
    if family == "image":
        cur = b.add({"op": "flatten"}, (b.shapes[cur][0] * b.shapes[cur][1] * b.shapes[cur][2],), [cur])
    elif family == "sequence":  # pool the steps, or read out the first or last one
        readout = draw(st.sampled_from([{"op": "global_pool1d"}, {"op": "take", "axis": 1, "index": 0},
                                        {"op": "take", "axis": 1, "index": -1}]))
        cur = b.add(readout, (b.shapes[cur][-1],), [cur])
    cur = _dense(b, cur)
    data = {
        "archspec": 1, "name": "fuzz", "inputs": {"x": {"shape": list(shape)}},
        "nodes": b.nodes, "edges": b.edges, "outputs": [cur],
    }
    return Generated(data, dict(b.shapes))


JUNK: list[Any] = ["zzz", 3, -1, 0, 2.5, True, None, [1, "a"], {"k": 1}]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _names(data: dict[str, Any]) -> list[str]:
    return list(data["inputs"]) + list(data["nodes"])


CHAIN_STEPS = [
    ("=".join(f"l{n}" for n in range(3000)) + "=dense(4)", True),  # labels: one per step
    ("dense(units=" + "[" * 3000 + "4" + "]" * 3000 + ")", True),  # nesting: refused before recursing
    ("relu(op=dense)", True), ("dense(4, units=5)", True), ("dense(4", True), ("conv2d(4, 3, 2, 1)", True),
    ("dense(4, relu)", False), ("relu", False), ("mid=identity", False), ("dropout(0.5)", False),
]
"""(step, must_fail): inline steps a mutation puts into a chain; a step that may fit the chain need not fail."""


@st.composite
def mutated_specs(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[str, str, bool]:
    """(mutation, YAML text, must_fail): a valid spec with one structural change."""
    data = copy.deepcopy(draw(valid_specs()).data)
    mutation = draw(st.sampled_from(["delete_key", "change_type", "rewire_edge", "add_edge",
                                     "rename_node", "share_node", "fan_in", "loop", "when",
                                     "residual", "chain_step"]))
    must_fail = False
    if mutation == "delete_key":
        path = draw(st.sampled_from([p for p in _paths(data) if isinstance(p[-1], str)]))
        del _parent(data, path)[path[-1]]
    elif mutation == "change_type":
        path = draw(st.sampled_from(_paths(data)))
        old = _parent(data, path)[path[-1]]
        _parent(data, path)[path[-1]] = draw(st.sampled_from(
            [junk for junk in JUNK if type(junk) is not type(old)]))
    elif mutation == "rewire_edge":
        index = draw(st.integers(0, len(data["edges"]) - 1))
        edge = data["edges"][index]
        source, target = (edge.split(" -> ") if isinstance(edge, str) else (edge["from"], edge["to"]))
        new = draw(st.sampled_from(_names(data) + ["ghost"]))
        must_fail = new == "ghost"
        if draw(st.booleans()):
            source = new
        else:
            target = new
        data["edges"][index] = (f"{source} -> {target}" if isinstance(edge, str)
                                else {**edge, "from": source, "to": target})
    elif mutation == "add_edge":
        names = _names(data)
        kind = draw(st.sampled_from(["plain", "concat-skip", "add-residual", "gate", "attention"]))
        data["edges"].append({"from": draw(st.sampled_from(names)), "to": draw(st.sampled_from(names)),
                              "kind": kind})
    elif mutation == "share_node":  # a node made another's twin: `shares:` a node, an input, junk, itself
        name = draw(st.sampled_from(list(data["nodes"])))
        owner = draw(st.sampled_from([*_names(data), "ghost", 3, ["x"], None]))
        data["nodes"][name] = {"shares": owner}
        must_fail = owner == name or not isinstance(owner, str) or owner not in data["nodes"]
    elif mutation == "fan_in":  # a group of sources into one node: `[a, b] -> t`, `a, b -> t` or {from: [a, b]}
        sources = draw(st.lists(st.sampled_from([*_names(data), "ghost", ""]), min_size=1, max_size=3))
        target = draw(st.sampled_from(list(data["nodes"])))
        form = draw(st.sampled_from(["brackets", "commas", "mapping"]))
        data["edges"].append({"from": sources, "to": target} if form == "mapping" else
                             f"[{', '.join(sources)}] -> {target}" if form == "brackets" else
                             f"{', '.join(sources)} -> {target}")
        must_fail = "ghost" in sources or "" in sources
    elif mutation == "loop":  # an edge wrapped in a loop: over one value, two, none, or a header that is wrong
        index = draw(st.integers(0, len(data["edges"]) - 1))
        header = draw(st.sampled_from(["i in range(1)", "k in range(1, 2)", "i in range(2)", "i in range(0)",
                                       "i in range(x)", "i in rang(1)", "i in range(1, 2, 0)", 3, None]))
        data["edges"][index] = {"for": header, "do": [data["edges"][index]]}
        must_fail = header not in ("i in range(1)", "k in range(1, 2)", "i in range(2)", "i in range(0)")
    elif mutation == "when":  # an edge made conditional: on a condition that holds, one that fails, or junk
        index = draw(st.integers(0, len(data["edges"]) - 1))
        condition = draw(st.sampled_from([True, False, "${1 < 2}", "${2 < 1}", 3, "${nope}", None, "yes"]))
        data["edges"][index] = {"when": condition, "do": data["edges"][index]}
        must_fail = condition not in (True, False, "${1 < 2}", "${2 < 1}")
    elif mutation == "residual":  # `a -> +b`: a sum of two nodes (or of a node and a ghost) in one step
        names = _names(data)
        source, other = draw(st.sampled_from(names)), draw(st.sampled_from([*names, "ghost"]))
        data["edges"].append(f"{source} -> +{other}")
        must_fail = other == "ghost"
    elif mutation == "chain_step":  # an inline step put into a plain chain: the compact syntax at its limits
        plain = [index for index, edge in enumerate(data["edges"]) if isinstance(edge, str)]
        step, must_fail = draw(st.sampled_from(CHAIN_STEPS))
        if plain:
            index = draw(st.sampled_from(plain))
            source, target = data["edges"][index].split(" -> ")
            data["edges"][index] = f"{source} -> {step} -> {target}"
        else:
            must_fail = False
    else:
        old = draw(st.sampled_from(list(data["nodes"])))
        data["nodes"] = {("renamed" if name == old else name): value
                         for name, value in data["nodes"].items()}
        must_fail = True
    return mutation, to_yaml(data), must_fail


@st.composite
def mangled_texts(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[str, str]:
    """(mutation, text): a valid spec's YAML text with one textual change (a typo, a tab, a cut)."""
    return _mangle(draw, draw(valid_specs()).text)


SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
LANGUAGE_SPECS = [SPECS_DIR / "zoo" / "unetpp.yaml", SPECS_DIR / "zoo" / "wavenet.yaml"]
"""Zoo specs written with loops, groups, carry and discard, so mangling reaches those forms too."""


@st.composite
def mangled_real_specs(draw: Callable[[st.SearchStrategy[Any]], Any]) -> tuple[str, str]:
    """(mutation, text): a spec of specs/ (blocks, vars, extends included) with one change.

    The change is textual, or a key deleted or a value replaced by one of another type.
    """
    text = draw(st.sampled_from(sorted(SPECS_DIR.glob("*.yaml")) + LANGUAGE_SPECS)).read_text(encoding="utf-8")
    if draw(st.booleans()):
        return _mangle(draw, text)
    data = yaml.safe_load(text)
    paths = _paths(data)
    path = draw(st.sampled_from(paths))
    if draw(st.booleans()) and isinstance(path[-1], str):
        del _parent(data, path)[path[-1]]
        return "delete_key", to_yaml(data)
    old = _parent(data, path)[path[-1]]
    _parent(data, path)[path[-1]] = draw(st.sampled_from([junk for junk in JUNK if type(junk) is not type(old)]))
    return "change_type", to_yaml(data)


def _mangle(draw: Callable[[st.SearchStrategy[Any]], Any], text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    mutation = draw(st.sampled_from(["delete_line", "duplicate_line", "tab", "truncate", "character"]))
    index = draw(st.integers(0, len(lines) - 1))
    if mutation == "delete_line":
        del lines[index]
    elif mutation == "duplicate_line":
        lines.insert(index, lines[index])
    elif mutation == "tab":
        lines[index] = "\t" + lines[index]
    elif mutation == "truncate":
        return mutation, text[: draw(st.integers(0, len(text)))]
    else:
        position = draw(st.integers(0, len(text) - 1))
        char = draw(st.sampled_from(list(":[]{}&*!#|>'\"\t-,?%@`\x00\x85") + ["\u2028", "é"]))
        return mutation, text[:position] + char + text[position + 1:]
    return mutation, "".join(lines)


_NAMES = ["x", "y", "a", "b", "c", "out"]
_PARAMS = ["units", "filters", "kernel", "strides", "padding", "activation", "rate", "axis", "by",
           "heads", "key_dim", "shape", "size", "pool", "input_dim", "output_dim", "use_bias",
           "dilation", "causal", "mode", "momentum", "factor"]
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.sampled_from([0.5, 1.5, -0.1, 1e30, float("nan")]),
    st.sampled_from(_NAMES + ["same", "valid", "relu", "softmax", "sigmoid", "max", "-1", ""]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.sampled_from(_PARAMS + _NAMES), inner, max_size=3),
                       max_leaves=8)


_REQUIRED: dict[str, dict[str, Any]] = {
    "dense": {"units": 4}, "conv2d": {"filters": 4}, "conv2d_transpose": {"filters": 4},
    "attention": {"heads": 2, "key_dim": 4}, "dropout": {"rate": 0.5}, "reshape": {"shape": [-1]},
    "embedding": {"input_dim": 10, "output_dim": 4},
    "activation": {"activation": "relu"},
}
"""Parameters each op needs, so that random nodes get past the schema and reach graph and shapes."""


@st.composite
def random_documents(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """Spec-shaped YAML with random ops, parameters, shapes and wiring: valid or not, never a crash."""
    from archspec.catalogue.connections import CONNECTIONS
    from archspec.catalogue.ops import OPS

    size = st.integers(1, 9)
    shape = (st.lists(st.integers(-1, 9) | st.none(), max_size=4) if draw(st.integers(0, 7)) == 0
             else st.lists(size, min_size=1, max_size=3))
    inputs = {name: {"shape": draw(shape)}
              for name in draw(st.lists(st.sampled_from(_NAMES[:2]), min_size=1, max_size=2, unique=True))}
    nodes = {}
    for name in draw(st.lists(st.sampled_from(_NAMES[2:]), min_size=1, max_size=4, unique=True)):
        op = draw(st.sampled_from(sorted(OPS)))
        fields = sorted(OPS[op].Params.model_fields)
        defaults = [info.default for info in OPS[op].Params.model_fields.values()
                    if isinstance(info.default, (int, float, str)) and not isinstance(info.default, bool)]
        value = st.sampled_from(defaults) | size if defaults else size
        plausible = st.dictionaries(st.sampled_from(fields), value, max_size=2) if fields else st.just({})
        params = {**_REQUIRED.get(op, {}), **draw(plausible)}
        if draw(st.integers(0, 3)) == 0:  # now and then, anything at all
            params.update(draw(st.dictionaries(st.sampled_from(_PARAMS), _VALUES, max_size=2)))
        nodes[name] = {"op": op, **params}
    names = list(inputs) + list(nodes)
    edge = st.one_of(
        st.lists(st.sampled_from(names), min_size=2, max_size=4).map(" -> ".join),
        st.builds(lambda source, target, kind, extra: {"from": source, "to": target, "kind": kind, **extra},
                  st.sampled_from(names), st.sampled_from(names), st.sampled_from(sorted(CONNECTIONS)),
                  st.dictionaries(st.sampled_from(["axis", "activation"]), _VALUES, max_size=1)),
    )
    data = {"archspec": 1, "name": "random", "inputs": inputs, "nodes": nodes,
            "edges": draw(st.lists(edge, min_size=1, max_size=6)),
            "outputs": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))}
    return to_yaml(data)
