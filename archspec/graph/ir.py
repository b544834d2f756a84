"""The typed records a spec's graph is made of: one `Node` per node, one `Edge` per edge.

networkx stays the container (its algorithms order, walk and match the graph);
what it holds for each node and edge is one of these dataclasses instead of a
free dict, in the manner of torch.fx's Node: declared fields that every stage
reads by attribute (`node.shape`, `node.plan`, `edge.connection`), plus a
`meta` dict for a pass's own extras. A stage that computes something new about
a node makes a new record (`dataclasses.replace`) and puts it in place with
`replace_node`, rather than changing fields one by one in the middle of a pass.

The records still answer the dict protocol networkx and older code use
(`graph.nodes[name]["shape"]`, `"plan" in data`, `data.get("output_of")`): a
declared field whose value is None counts as absent, any other key lives in
`meta`. `SpecGraph` makes networkx create these records for every node and edge
it adds, so `graph.add_node(name, kind="op", ...)` fills one.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import networkx as nx

from archspec.catalogue.connections import CONNECTIONS, Connection
from archspec.catalogue.ops import OPS, Op, Shape
from archspec.errors import Location
from archspec.graph.plan import NodePlan


class _Record(MutableMapping[str, Any]):
    """The dict protocol over a dataclass's fields and its `meta`, for networkx and dict-style readers."""

    meta: dict[str, Any]

    def _field_names(self) -> tuple[str, ...]:
        return type(self)._FIELDS  # type: ignore[attr-defined]

    def __getitem__(self, key: str) -> Any:
        if key in self._field_names():
            value = getattr(self, key)
            if value is None:
                raise KeyError(key)
            return value
        return self.meta[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self._field_names():
            setattr(self, key, value)
        else:
            self.meta[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self._field_names():
            if getattr(self, key) is None:
                raise KeyError(key)
            setattr(self, key, None)
        else:
            del self.meta[key]

    def __iter__(self) -> Iterator[str]:
        yield from (name for name in self._field_names() if getattr(self, name) is not None)
        yield from self.meta

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> _Record:
        """A new record with the same fields and its own `meta` (networkx copies node data so)."""
        return replace(self, meta=dict(self.meta))  # type: ignore[type-var]

    def __bool__(self) -> bool:
        return True  # a record is there even when every field is empty (networkx tests `if data`)


def _declare(cls: type) -> type:
    """Give a record class the names of its declared fields (`meta` excluded) for the dict protocol."""
    cls._FIELDS = tuple(item.name for item in fields(cls) if item.name != "meta")  # type: ignore[attr-defined]
    return cls


@_declare
@dataclass(eq=False)
class Node(_Record):
    """One node: an input or an op application, with what each stage found out about it.

    Set by graph building: `name` (the node's key in the graph), `kind`, `op` (the op's name; "input" for inputs),
    `params` (the op's validated params, or an input's InputSpec), `location`,
    `text_location` (where an `expr` node's expression starts), `deferred`
    (params waiting for the input's shape), `shares`, `output_of` (on a named
    output `halves.a`, its owner) and `plan`. Set by shape inference: `shape`,
    `input_shape` (batch axis excluded) and `resolved` (the values deferred
    params took). Set by the dtype check: `dtype`, the output's.
    """

    name: str = ""
    kind: Literal["input", "op"] = "op"
    op: str = ""
    params: Any = None
    location: Location | None = None
    text_location: Location | None = None
    deferred: dict[str, Any] | None = None
    shares: str | None = None
    output_of: str | None = None
    plan: NodePlan | None = None
    shape: Shape | None = None
    input_shape: Shape | list[Shape] | None = None
    resolved: dict[str, Any] | None = None
    dtype: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        return self.kind == "input"

    @property
    def definition(self) -> Op:
        """The op object an op node applies (its rules and layer); an input applies none (KeyError)."""
        return OPS[self.op]

    def weight_count(self) -> int:
        """Weights the node's op makes for the input it gets, as Keras counts them (a sharing node's too: the
        owner's layer called on this input); needs the shapes, so after shape inference."""
        inputs = self.input_shape if isinstance(self.input_shape, list) else [self.input_shape]
        return self.definition.count_params(self.params, inputs, self.shape)

    @property
    def noun(self) -> str:
        """How messages name this node's kind: "input" or "node"."""
        return "input" if self.is_input else "node"


@_declare
@dataclass(eq=False)
class Edge(_Record):
    """One edge: its kind and params as written, where, its position in the file, and the shape it carries.

    `spec` is the front end's EdgeSpec (what plans are made from); `shape` is
    set by shape inference (the source node's output).
    """

    kind: str = "plain"
    params: Any = None
    location: Location | None = None
    index: int | None = None
    spec: Any = None
    shape: Shape | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def connection(self) -> Connection:
        """The edge kind's object: its rule, lowering and drawing style."""
        return CONNECTIONS[self.kind]


class SpecGraph(nx.MultiDiGraph):
    """A MultiDiGraph whose node and edge data are `Node` and `Edge` records."""

    node_attr_dict_factory = Node
    edge_attr_dict_factory = Edge


def node_of(graph: nx.MultiDiGraph, name: str) -> Node:
    """The record of node `name` (typed access to `graph.nodes[name]`)."""
    return graph.nodes[name]  # type: ignore[no-any-return]


def nodes_of(graph: nx.MultiDiGraph) -> Iterator[tuple[str, Node]]:
    """Every node's name and record, in the order they were added (the file's order)."""
    return iter(graph.nodes(data=True))  # type: ignore[arg-type]


def edges_into(graph: nx.MultiDiGraph, name: str) -> list[Edge]:
    """The records of the edges into node `name`."""
    return [data for _, _, data in graph.in_edges(name, data=True)]


def edges_of(graph: nx.MultiDiGraph) -> Iterator[tuple[str, str, Edge]]:
    """Every edge as (source, target, record)."""
    return iter(graph.edges(data=True))  # type: ignore[arg-type]


def replace_node(graph: nx.MultiDiGraph, name: str, record: Node) -> None:
    """Put a new record in place of node `name`'s, keeping its edges: how a pass revises a node."""
    assert record.name == name, f"the record of {record.name!r} cannot stand for node {name!r}"
    graph._node[name] = record  # networkx keeps node data in _node; NodeView reads it live
