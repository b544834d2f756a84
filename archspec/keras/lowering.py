"""DAG -> a flat list of Steps (`var = Layer(...)(args)`), the program both compile and codegen run.

Checking happened before (graph, shapes); here every node's plan
(archspec.graph.plan) is folded over tensor variables in topological order:
each application adds its steps and its last step is the next one's input.
So the compiler is a flat loop and the generated code reads like a
hand-written model.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from archspec.catalogue.primitives import Step
from archspec.graph.build import topological_nodes
from archspec.graph.ir import node_of


def lower_graph(graph: nx.MultiDiGraph) -> tuple[list[Step], dict[str, str]]:
    """The steps of a shape-checked graph, and the tensor variable that holds each node's output."""
    steps: list[Step] = []
    output_of: dict[str, str] = {}
    for name in topological_nodes(graph):
        data = node_of(graph, name)
        if data.is_input:
            steps.append(Step(name, name, None, input_shape=tuple(data.params.shape),
                              input_dtype=data.params.dtype))
            output_of[name] = name
            continue
        current = ""
        for application in data.plan.applications:
            args = [current if source is None else output_of[source] for source in application.sources]
            new = _unique(application.lower(args, name, _input_shapes(data)), steps)
            if application.is_op and data.shares:  # the owner's layer, called on this input
                new = [replace(step, shares=data.shares) for step in new]
            steps.extend(new)
            current = new[-1].var if new else args[0]
        output_of[name] = current
    return steps, output_of


def _input_shapes(data: dict) -> list:
    shape = data.input_shape
    return shape if isinstance(shape, list) else [shape]


def _unique(new: list[Step], existing: list[Step]) -> list[Step]:
    """Number repeated merge names (two concat-skips into one node: x.concat_skip, x.concat_skip_2).

    An argument is renamed only if it is a step of `new` renamed before it:
    the tensor a merge starts from may carry the very name being renamed.
    """
    taken = {step.var for step in existing}
    renamed: dict[str, str] = {}
    result = []
    for step in new:
        args = tuple(renamed.get(arg, arg) for arg in step.args)
        var = step.var
        count = 2
        while var in taken:
            var = f"{step.var}_{count}"
            count += 1
        renamed[step.var] = var
        taken.add(var)
        tensor_kwargs = tuple((key, renamed.get(arg, arg)) for key, arg in step.tensor_kwargs)
        result.append(Step(var, var, step.call, args, step.as_list, step.call_kwargs, tensor_kwargs))
    return result
