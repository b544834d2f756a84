"""DAG -> a flat list of Steps (`var = Layer(...)(args)`), the program both compile and codegen run.

Checking happened before (graph, shapes); here every node becomes its input
merges followed by its op's layer, in topological order, so the compiler is
a flat loop and the generated code reads like a hand-written model.
"""

from __future__ import annotations

import networkx as nx

from archspec.graph.build import topological_nodes
from archspec.graph.connections import CONNECTIONS, lower_softmax_gate
from archspec.graph.ops import OPS
from archspec.graph.primitives import Step


def lower_graph(graph: nx.MultiDiGraph) -> tuple[list[Step], dict[str, str]]:
    """The steps of a shape-checked graph, and the tensor variable that holds each node's output."""
    steps: list[Step] = []
    output_of: dict[str, str] = {}
    for name in topological_nodes(graph):
        data = graph.nodes[name]
        if data["kind"] == "input":
            steps.append(Step(name, name, None, input_shape=tuple(data["params"].shape),
                              input_dtype=data["params"].dtype))
            output_of[name] = name
            continue
        op = OPS[data["op"]]
        plan = data["plan"]
        mains = [output_of[edge.source] for edge in plan.mains]
        if plan.softmax_gate is not None:
            steps.append(lower_softmax_gate(mains, output_of[plan.softmax_gate.source], name))
            current = steps[-1].var
        else:
            current = mains[0]
        for edge in plan.merges:
            merge_steps = CONNECTIONS[edge.kind].lower(edge.params, current, output_of[edge.source], name)
            steps.extend(_unique(merge_steps, steps))
            current = steps[-1].var
        call = op.layer(data["params"], _input_shapes(data))
        if call is None:  # a junction (the gate op): the node's output is its merged input
            output_of[name] = current
            continue
        if op.arity == "many":
            args, as_list = tuple(mains), True
        elif op.arity == "attention":
            source = output_of[plan.attention.source] if plan.attention else current
            args, as_list = (current, source), False
        else:
            args, as_list = (current,), False
        steps.append(Step(name, name, call, args, as_list, op.call_kwargs(data["params"])))
        output_of[name] = name
    return steps, output_of


def _input_shapes(data: dict) -> list:
    shape = data["input_shape"]
    return shape if isinstance(shape, list) else [shape]


def _unique(new: list[Step], existing: list[Step]) -> list[Step]:
    """Number repeated merge names (two concat-skips into one node: x.concat_skip, x.concat_skip_2)."""
    taken = {step.var for step in existing}
    renamed: dict[str, str] = {}
    result = []
    for step in new:
        var = step.var
        count = 2
        while var in taken:
            var = f"{step.var}_{count}"
            count += 1
        renamed[step.var] = var
        taken.add(var)
        args = tuple(renamed.get(arg, arg) for arg in step.args)
        result.append(Step(var, var, step.call, args, step.as_list, step.call_kwargs))
    return result
