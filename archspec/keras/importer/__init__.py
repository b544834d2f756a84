"""Keras Functional model -> spec YAML (`archspec import`), the inverse of the compiler.

Each operation of the model's graph becomes a node: a layer through the op that declares its
Keras class (`Op.keras_classes` and `Op.from_keras`, next to `Op.layer`; plugin ops declare
theirs the same way), a `keras.ops` call through importer.keras_ops. Single-use merges become
edges (importer.layout). The spec is compiled and compared with the model before it is
returned (importer.verify): an import never yields a spec that builds another model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspec.errors import ArchspecError, did_you_mean
from archspec.keras.importer.blocks import Folded, fold_units
from archspec.keras.importer.errors import KerasImportError
from archspec.keras.importer.graph import GraphReader, functional_graph
from archspec.keras.importer.layout import edge_entries, flow, fold_merges
from archspec.keras.importer.naming import model_name
from archspec.keras.importer.structure import items_of
from archspec.keras.importer.units import choose
from archspec.keras.importer.verify import verify_import
from archspec.keras.importer.writer import write_body
from archspec.spec.syntax import SHARES

__all__ = ["KerasImportError", "import_and_rebuild", "import_model", "load_model_to_import", "read_spec"]

APPLICATIONS_PREFIX = "keras.applications."


def load_model_to_import(reference: str) -> Any:
    """A model from a .keras file, or `keras.applications.NAME` built with weights=None.

    (Once also called load_keras_model, the name of archspec.keras.saved's safe loader.)
    """
    from archspec.keras.backend import import_keras

    keras = import_keras()
    if reference.startswith(APPLICATIONS_PREFIX):
        name = reference[len(APPLICATIONS_PREFIX):]
        known = [item for item in dir(keras.applications) if item[:1].isupper()]
        if name not in known:
            hint = did_you_mean(name, known) or "see dir(keras.applications)"
            raise KerasImportError(f"keras.applications has no model '{name}'; {hint}")
        return getattr(keras.applications, name)(weights=None)
    path = Path(reference)
    if path.suffix != ".keras" or not path.is_file():
        raise KerasImportError(
            f"cannot import {reference!r}: give a saved .keras file or keras.applications.NAME "
            "(e.g. keras.applications.ResNet50)")
    from archspec.keras.saved import load_keras_model

    return load_keras_model(path, compile=False)  # safe_mode=True, clear errors for bad files


def import_model(model: Any, source: str | None = None, *, verify: bool = True) -> str:
    """The spec YAML text of a Keras Functional model, checked to compile back to the same model.

    If the spec with blocks fails the check (a folding the importer got wrong), the model is
    imported again without blocks and that is checked instead, so a folding mistake costs
    concision, never the import; the header comment says why.
    """
    if not verify:
        return read_spec(model, source)[0]
    return import_and_rebuild(model, source)[0]


def import_and_rebuild(model: Any, source: str | None = None, *, doc: str = "Keras") -> tuple[str, Any]:
    """The checked spec text of `model` and the model compiled from it, holding `model`'s weights."""
    text, reader = read_spec(model, source, doc=doc)
    try:
        rebuilt = verify_import(model, text, reader.layers, reader.outputs)
    except ArchspecError as error:
        if not reader.folded:
            raise
        text, reader = read_spec(model, source, blocks=False, doc=doc)
        rebuilt = verify_import(model, text, reader.layers, reader.outputs)
        reason = " ".join(str(error).split())[:300]
        text = text.replace("\n", f"\n# Written without blocks: with them the check failed ({reason}).\n", 1)
    return text, rebuilt


def read_spec(model: Any, source: str | None = None, *, blocks: bool = True,
              doc: str = "Keras") -> tuple[str, GraphReader]:
    """The spec text of `model` (unchecked) and the reader that holds each node's Keras layer."""
    reader = GraphReader()
    outputs = reader.read(model)
    rank = {reader.tensors[id(tensor)]: index for index, tensor in enumerate(functional_graph(model).inputs)}
    # model.inputs order (a dict of inputs flattens by key): the rebuilt model takes the list the model's takes
    reader.inputs = dict(sorted(reader.inputs.items(), key=lambda item: rank.get(item[0], len(rank))))
    nodes = reader.nodes
    blocks = blocks and not any(SHARES in node.params for node in nodes.values())  # folding: no shared layers
    fold_merges(nodes, outputs, reader.shapes, unit_of(reader, outputs) if blocks else None)
    header = (f"Imported from {source or model.name} by `archspec import`: "
              f"{len(nodes)} layers, {model.count_params():,} parameters.")
    lines = [f"# {header}", "archspec: 1", f"name: {flow(model_name(model.name))}",
             f"doc: {flow(f'Imported from {doc} (' + (source or model.name) + ').')}"]
    folded = fold_repeated_units(reader, outputs) if blocks else None
    reader.folded = folded is not None
    if folded is not None:
        return "\n".join(lines + write_body(reader.inputs, folded)), reader
    entries = edge_entries(reader.inputs, nodes)
    lines += ["", "inputs:"]
    lines += [f"  {name}: {flow(spec)}" for name, spec in reader.inputs.items()]
    width = max((len(name) for name in nodes), default=0) + 1
    lines += ["", "nodes:"]
    for node in nodes.values():
        lines.append(f"  {(node.name + ':').ljust(width)} {flow({'op': node.op, **node.params})}")
    lines += ["", "edges:"] + [f"  - {flow(entry)}" for entry in entries]
    lines += ["", f"outputs: {flow(outputs)}", ""]
    return "\n".join(lines), reader


def fold_repeated_units(reader: GraphReader, outputs: list[str]) -> Folded | None:
    """The reader's graph with its repeated units as blocks (importer.blocks), or None if it has none.

    Renamed layers (automatic Keras names given a name inside their block) are renamed in the
    reader's node -> layer map too, so the verification copies every layer's weights.
    """
    weighted = {name for name, layer in reader.layers.items() if layer.weights}
    folded = fold_units(items_of(reader.nodes), outputs, reader.auto, weighted, set(reader.inputs) | set(reader.nodes),
                        frozenset(reader.traced))
    if not folded.blocks:
        return None
    final = {name: _final_name(name, folded.renamed) for name in reader.layers}
    reader.layers = {final[name]: layer for name, layer in reader.layers.items()}
    reader.outputs = {final.get(name, name): tensor for name, tensor in reader.outputs.items()}
    return folded


def unit_of(reader: GraphReader, outputs: list[str]) -> dict[str, str] | None:
    """Each node -> the repeated unit it falls in, on the graph before merges fold; None if none repeats."""
    weighted = {name for name, layer in reader.layers.items() if layer.weights}
    groups = choose(items_of(reader.nodes), outputs, reader.auto, weighted, set(reader.inputs) | set(reader.nodes),
                    frozenset(reader.traced))
    if not groups:
        return None
    return {name: unit.prefix for group in groups for unit in group for name in unit.members}


def _final_name(name: str, renamed: dict[str, str]) -> str:
    return renamed.get(name, name)


def __getattr__(name: str) -> Any:
    if name == "load_keras_model":  # the old name; archspec.keras.saved.load_keras_model is another function
        import warnings

        warnings.warn("archspec.keras.importer.load_keras_model is now load_model_to_import",
                      DeprecationWarning, stacklevel=2)
        return load_model_to_import
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
