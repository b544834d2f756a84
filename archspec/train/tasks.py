"""What each training task needs of a model's input and output shapes, checked statically.

`archspec fit` trains on 28x28 greyscale images (MNIST, Fashion-MNIST). A
model whose input or output cannot take them would otherwise fail only after
TensorFlow is imported, the model built and the data loaded, with a message
about arrays; checked on the DAG instead, the error points at the input or
output node in the spec, and `archspec validate` finds it too for specs with
a `train:` section. No TensorFlow or numpy here.
"""

from __future__ import annotations

import math

import networkx as nx

from archspec.errors import SpecError, raise_collected
from archspec.graph.primitives import Shape, format_shape

IMAGE_SIZE = (28, 28)
IMAGE_VALUES = IMAGE_SIZE[0] * IMAGE_SIZE[1]
CLASSES = 10
IMAGE_SHAPES_TEXT = "784 values, e.g. 28x28x1, 28x28 or 784"


def holds_image(shape: Shape) -> bool:
    """A fully known shape with exactly 28*28 values (a 28x28 image reshaped into it)."""
    return None not in shape and math.prod(shape) == IMAGE_VALUES


def check_task_fits(graph: nx.MultiDiGraph, task: str, dataset: str) -> None:
    """Raise the SpecError(s) of an input or output that the task's data cannot fill or match."""
    raise_collected(task_problems(graph, task, dataset))


def task_problems(graph: nx.MultiDiGraph, task: str, dataset: str) -> list[SpecError]:
    inputs = [name for name, data in graph.nodes(data=True) if data["kind"] == "input"]
    outputs = graph.graph["outputs"]
    extra = [(name, "input") for name in inputs[1:]] + [(name, "node") for name in outputs[1:]]
    if extra:
        name, kind = extra[0]
        return [SpecError(
            "`archspec fit` trains models with one input and one output",
            location=graph.nodes[name]["location"], node=name, node_kind=kind,
            expected="1 input and 1 output",
            got=f"{len(inputs)} input(s) ({', '.join(inputs)}) and {len(outputs)} output(s) ({', '.join(outputs)})",
            hint="build and train such a model from Python with archspec.compile_model(spec)",
        )]
    problems = []
    image_input, output = inputs[0], outputs[0]
    shape = graph.nodes[image_input]["shape"]
    if not holds_image(shape):
        problems.append(SpecError(
            f"task '{task}' feeds this input {dataset}'s 28x28 greyscale images",
            location=graph.nodes[image_input]["location"], node=image_input, node_kind="input",
            expected=IMAGE_SHAPES_TEXT, got=format_shape(shape),
            hint="give the input shape [28, 28, 1] (archspec fit trains on MNIST-sized images only)",
        ))
    shape = graph.nodes[output]["shape"]
    if task == "classify" and tuple(shape) != (CLASSES,):
        problems.append(SpecError(
            f"task 'classify' compares this output with one of {dataset}'s {CLASSES} classes",
            location=graph.nodes[output]["location"], node=output,
            expected=f"{CLASSES} class scores (shape {CLASSES})", got=format_shape(shape),
            hint=f"end with a dense node of {CLASSES} units and softmax (after a flatten), "
            "or train it with task: autoencode or denoise",
        ))
    if task != "classify" and not holds_image(shape):
        problems.append(SpecError(
            f"task '{task}' compares this output with the clean 28x28 image",
            location=graph.nodes[output]["location"], node=output,
            expected=IMAGE_SHAPES_TEXT, got=format_shape(shape),
            hint="end with a conv2d of 1 filter and sigmoid at 28x28, or train it with task: classify",
        ))
    return problems
