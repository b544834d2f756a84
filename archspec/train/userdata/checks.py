"""A dataset held against a spec before anything is built: its inputs, its outputs, its bad files.

Each mismatch is one located SpecError naming the spec node (and the data's
path in the message): a 10-way softmax on 12 class folders, a 1-channel
input on RGB images, a 13-value input on a 4-column table. Bad files are one
DataError listing them, unless the data options say to skip them. numpy and
Pillow only.
"""

from __future__ import annotations

import networkx as nx

from archspec.catalogue.primitives import format_shape
from archspec.errors import DataError, SpecError, raise_collected
from archspec.graph.ir import node_of
from archspec.spec.data_spec import DataSpec
from archspec.train.tasks import get_task, single_input_output
from archspec.train.userdata.sources import Scan, Source

MAX_BAD_SHOWN = 10


def check_data_fits(graph: nx.MultiDiGraph, task: str, source: Source, scan: Scan, options: DataSpec) -> None:
    """Raise the SpecError(s) of an input or output that this data cannot feed or match."""
    raise_collected(data_problems(graph, task, source, scan, options))


def data_problems(graph: nx.MultiDiGraph, task: str, source: Source, scan: Scan, options: DataSpec) -> list[SpecError]:
    shape_problem = single_input_output(graph)
    if shape_problem is not None:
        return [shape_problem]
    problems = []
    inputs = [name for name, data in graph.nodes(data=True) if data.is_input]
    image_input, output = inputs[0], graph.graph["outputs"][0]
    shape = tuple(node_of(graph, image_input).shape)
    found = source.input_problem(scan, shape, options)
    if found is not None:
        expected, hint = found
        problems.append(SpecError(
            f"task '{task}' feeds this input the {source.input_values} of {scan.path}",
            location=node_of(graph, image_input).location, node=image_input, node_kind="input",
            expected=expected, got=format_shape(shape), hint=hint,
        ))
    problems.extend(embedding_problems(graph, image_input, scan))
    problem = get_task(task).data_output_problem(
        tuple(node_of(graph, output).shape), output, node_of(graph, output).location, scan)
    if problem is not None:
        problems.append(problem)
    return problems


def embedding_problems(graph: nx.MultiDiGraph, input_node: str, scan: Scan) -> list[SpecError]:
    """An embedding the input's token ids feed that has fewer rows than there are ids (Keras fails mid-epoch)."""
    problems = []
    for node in dict.fromkeys(graph.successors(input_node)) if scan.token_ids else ():
        record = node_of(graph, node)
        if record.op == "embedding" and record.params.input_dim < scan.token_ids:
            problems.append(SpecError(
                f"this embedding looks up every {scan.facts['token']} of {scan.path}",
                location=record.location, node=node,
                expected=f"input_dim {scan.token_ids} or more: {scan.facts['token_ids_hold']}",
                got=f"input_dim {record.params.input_dim}",
                hint=f"give the embedding {scan.token_ids} rows: embedding({scan.token_ids}, "
                     f"{record.params.output_dim})",
            ))
    return problems


def check_bad_items(scan: Scan, options: DataSpec) -> None:
    """Stop on unusable files or rows (each named), unless skip_bad: then they stay out and are counted."""
    if not scan.bad or options.skip_bad:
        return
    shown = [f"  {item}" for item in scan.bad[:MAX_BAD_SHOWN]]
    if len(scan.bad) > MAX_BAD_SHOWN:
        shown.append(f"  ... and {len(scan.bad) - MAX_BAD_SHOWN} more")
    raise DataError(
        f"{scan.path}: {len(scan.bad)} unusable file(s) or row(s):\n" + "\n".join(shown)
        + "\n  hint: fix or remove them, or skip them with --skip-bad (they are listed in the run folder's data.json)"
    )
