"""The calls of a Keras Functional graph, in the order the importer reads them (importer.graph)."""

from __future__ import annotations

from typing import Any

from archspec.keras.importer.errors import KerasImportError


def calls_in_order(graph: Any) -> list[Any]:
    """Every call (Keras node) of `graph`, in the order of its operations, each after the calls whose
    outputs it uses."""
    calls = [node for depth in sorted(graph._nodes_by_depth, reverse=True) for node in graph._nodes_by_depth[depth]]
    order = {id(operation): index for index, operation in enumerate(graph.operations)}
    return _after_their_inputs(sorted(calls, key=lambda call: order.get(id(call.operation), len(order))))


def _after_their_inputs(calls: list[Any]) -> list[Any]:
    """`calls` in their order, except that a call waits for the calls whose outputs it uses: a layer
    called twice (a traced MLP's one Dropout after each Dense) sorts both calls at the layer's place."""
    known = {id(call) for call in calls}
    done: set[int] = set()
    pending, ordered = list(calls), []
    while pending:
        index = next((index for index, call in enumerate(pending)
                      if all(id(parent) in done or id(parent) not in known for parent in call.parent_nodes)), 0)
        call = pending.pop(index)
        done.add(id(call))
        ordered.append(call)
    return ordered


def functional_graph(model: Any) -> Any:
    """The Functional graph of a model: a Sequential's inner one (built when it has an Input)."""
    graph = getattr(model, "_functional", None) or model
    if not hasattr(graph, "_nodes_by_depth"):
        raise KerasImportError(f"model '{model.name}' has no graph yet (a Sequential without an Input); "
                               "build it with keras.Input first")
    return graph
