"""Token and axis ops: read one position (`take`), a range (`slice`), reorder axes (`permute`), prepend
learned tokens (`class_token`).

Axes count as Keras counts them, the batch being axis 0: `axis: 1` is the
first axis of a shape as archspec prints it (the steps of a sequence), -1 the
last. Keras has no layer for indexing or for a learned token, so `take`,
`slice` and `class_token` lower to small layers of archspec.keras.layers.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt, field_validator, model_validator

from archspec.catalogue.names import NAME_RULE, is_name
from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape
from archspec.catalogue.ops.weights import Initializer, weight_kwargs, weight_params


def axis_index(axis: int, shape: Shape, what: str) -> int:
    """The position in `shape` (batch excluded) of Keras axis `axis`; a ShapeProblem when there is none."""
    rank = len(shape)
    if axis == 0:
        raise ShapeProblem(f"{what} axis 0 is the batch axis", expected=f"1..{rank} or -1..-{rank}", got="0",
                           hint="axis 1 is the first axis of the shape archspec prints (the steps), -1 the last")
    if not (-rank <= axis <= rank):
        raise ShapeProblem(f"{what} axis {axis} does not exist for a {format_shape(shape)} input (rank {rank})",
                           expected=f"1..{rank} or -1..-{rank}", got=str(axis))
    return axis - 1 if axis > 0 else axis % rank


class TakeParams(OpParams):
    axis: int = 1
    index: int = Field(description="position to read; negative counts from the end (-1: the last)")


class Take(Op):
    name = "take"
    output_dtype = None
    family = "dense"
    positional = ("axis", "index")
    Params = TakeParams
    min_rank = 2
    doc = ("Reads one position along an axis and drops that axis: token 0 of a (tokens, features) sequence, "
           "the last timestep (index: -1).")

    def infer_shape(self, params: TakeParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if len(shape) < 2:
            raise ShapeProblem(f"take on a rank-{len(shape)} input ({format_shape(shape)}) would leave no axis "
                               "but the batch",
                               expected="rank 2 or more (a sequence, an image)",
                               got=f"{format_shape(shape)} (rank {len(shape)})",
                               hint="to keep one feature of a vector, use slice (it keeps the axis)")
        index = axis_index(params.axis, shape, "take")
        size = shape[index]
        if size is None:  # any index: position 0 exists in every non-empty sequence as -1 does, and a
            return shape[:index] + shape[index + 1:]  # sequence too short fails at run time either way
        if not -size <= params.index < size:
            raise ShapeProblem(
                f"take index {params.index} is out of range for axis {params.axis} of size {size} "
                f"(input {format_shape(shape)})",
                expected=f"{-size}..{size - 1}", got=str(params.index),
                hint="index 0 is the first position, -1 the last",
            )
        return shape[:index] + shape[index + 1:]

    keras_classes = ("Take",)

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"axis": config["axis"], "index": config["index"]}

    def layer(self, params: TakeParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Take", {"axis": params.axis, "index": params.index}, module="archspec.keras.layers")


class SliceParams(OpParams):
    axis: int = 1
    start: int | None = Field(default=None, description="first position; null: the first (last if step < 0)")
    stop: int | None = Field(default=None, description="end (exclusive); null: to the end")
    step: int = Field(default=1, description="every step-th position; negative walks backwards (-1: reversed)")

    @field_validator("step")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("step must not be 0 (1: every position, -1: reversed)")
        return value


class Slice(Op):
    name = "slice"
    output_dtype = None
    family = "dense"
    Params = SliceParams
    doc = ("Keeps positions start..stop-1 along an axis (Python's x[start:stop:step]; negative counts from the "
           "end): the first half of the channels, all tokens but the first, the steps reversed (step: -1).")

    def infer_shape(self, params: SliceParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        index = axis_index(params.axis, shape, "slice")
        size = shape[index]
        if size is None:
            raise ShapeProblem(f"slice along axis {params.axis} needs a known size",
                               got=format_shape(shape), hint="slice an axis whose size is fixed")
        start, stop = params.start, params.stop
        for key, value in (("start", start), ("stop", stop)):
            if value is not None and not -size <= value <= size:
                raise ShapeProblem(
                    f"slice {key} {value} is out of range for axis {params.axis} of size {size} "
                    f"(input {format_shape(shape)})",
                    expected=f"{-size}..{size}", got=str(value),
                )
        length = len(range(size)[start:stop:params.step])
        if length == 0:
            raise ShapeProblem(f"slice {start}:{stop} of axis {params.axis} (size {size}) is empty",
                               got=f"start {start}, stop {stop}, step {params.step}",
                               hint="start must come before stop (after it for a negative step)")
        return shape[:index] + (length,) + shape[index + 1:]

    keras_classes = ("SliceAxis",)
    """A split's parts compile to SliceAxis too: they import as slices (the same layers)."""

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        start, stop, step = config["start"], config["stop"], config.get("step", 1)
        if step > 0:  # the layer's bounds are slice.indices(size): 0 is the first position, -1 before it
            return {"axis": config["axis"], **({"start": start} if start else {}), "stop": stop,
                    **({"step": step} if step != 1 else {})}
        return {"axis": config["axis"], "start": start, **({"stop": stop} if stop >= 0 else {}), "step": step}

    def layer(self, params: SliceParams, inputs: list[Shape]) -> LayerCall:
        size = inputs[0][axis_index(params.axis, inputs[0], "slice")]
        assert size is not None
        start, stop, step = slice(params.start, params.stop, params.step).indices(size)
        steps = {"step": step} if step != 1 else {}  # a plain slice keeps the layer config it always had
        return LayerCall("SliceAxis", {"axis": params.axis, "start": start, "stop": stop, **steps},
                         module="archspec.keras.layers")


class PermuteParams(OpParams):
    axes: list[PositiveInt] = Field(min_length=2, description="the new order of axes 1..rank (batch stays first)")

    @field_validator("axes", mode="before")
    @classmethod
    def _count_from_one(cls, axes: Any) -> Any:
        """numpy's transpose counts from 0; Keras's Permute, and so permute, from 1 (0 is the batch)."""
        if isinstance(axes, list) and all(isinstance(axis, int) for axis in axes) and axes and min(axes) == 0:
            raise ValueError(f"permute's axes count from 1 (axis 0 is the batch, which stays first): "
                             f"write {[axis + 1 for axis in axes]}")
        return axes


class Permute(Op):
    name = "permute"
    output_dtype = None
    family = "dense"
    positional = ("axes",)
    Params = PermuteParams
    doc = "Reorders the axes (batch excluded, numbered from 1): [2, 1] transposes a (steps, features) sequence."
    keras_classes = ("Permute",)
    min_rank = 2

    def infer_shape(self, params: PermuteParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if sorted(params.axes) != list(range(1, len(shape) + 1)):
            raise ShapeProblem(
                f"permute axes {params.axes} are not an order of the axes 1..{len(shape)} of "
                f"{format_shape(shape)}",
                expected=f"each of 1..{len(shape)} once", got=str(params.axes),
            )
        return tuple(shape[axis - 1] for axis in params.axes)

    def layer(self, params: PermuteParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Permute", {"dims": tuple(params.axes)})

    def from_keras(self, config: dict) -> dict:
        return {"axes": list(config["dims"])}


class ClassTokenParams(OpParams):
    tokens: PositiveInt = Field(default=1, description="learned tokens to prepend (1: a class token; more: registers)")
    init: Initializer = "zeros"


class ClassToken(Op):
    name = "class_token"
    output_dtype = None
    family = "dense"
    Params = ClassTokenParams
    doc = ("Prepends `tokens` learned vectors to a (steps, features) sequence, the same for every example: "
           "a ViT's class token (read it out with take index: 0), register tokens.")
    min_rank = 2

    def infer_shape(self, params: ClassTokenParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if len(shape) != 2:
            raise ShapeProblem("class_token needs a (steps, features) sequence",
                               expected="rank 2 (steps, features)", got=f"{format_shape(shape)} (rank {len(shape)})",
                               hint="add a reshape node before it, e.g. reshape: [-1, features]")
        if shape[1] is None:
            raise ShapeProblem("class_token needs a known number of features", got=format_shape(shape))
        steps = None if shape[0] is None else shape[0] + params.tokens
        return (steps, shape[1])

    keras_classes = ("ClassToken",)

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"tokens": config["tokens"],
                **weight_params(config, {"initializer": "init"}, {"initializer": "zeros"})}

    def layer(self, params: ClassTokenParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {"tokens": params.tokens, **weight_kwargs(params, {"initializer": "init"})}
        return LayerCall("ClassToken", kwargs, module="archspec.keras.layers")

    def count_params(self, params: ClassTokenParams, inputs: list[Shape], output: Shape) -> int:
        return params.tokens * int(inputs[0][-1] or 0)


class PartParams(OpParams):
    axis: int = -1
    index: int = Field(ge=0, description="which part, from 0")
    parts: PositiveInt = Field(default=2, description="equal parts the axis is cut into")
    sizes: list[PositiveInt] | None = Field(default=None, description="unequal parts: their sizes, in order")


class Part(Op):
    name = "part"
    output_dtype = None
    family = "dense"
    Params = PartParams
    doc = ("Part `index` of an axis cut into `parts` equal parts (or parts of the given `sizes`); what each "
           "named output of a `split` node is.")

    def bounds(self, params: PartParams, shape: Shape) -> tuple[int, int]:
        """Where the part starts and stops on its axis."""
        index = axis_index(params.axis, shape, "split")
        size = shape[index]
        sizes = params.sizes
        if sizes is None:
            if size is None or size % params.parts:
                raise ShapeProblem(
                    f"{params.parts} equal parts do not divide axis {params.axis} of {format_shape(shape)}",
                    expected=f"a size divisible by {params.parts}", got=str(size),
                    hint="give the parts' sizes: sizes: [...]")
            sizes = [size // params.parts] * params.parts
        elif size != sum(sizes):
            raise ShapeProblem(f"split sizes {sizes} add up to {sum(sizes)}, not the {size} of axis {params.axis} "
                               f"of {format_shape(shape)}", expected=str(size), got=str(sum(sizes)))
        if params.index >= len(sizes):
            raise ShapeProblem(f"part {params.index} of {len(sizes)} does not exist", got=str(params.index))
        start = sum(sizes[:params.index])
        return start, start + sizes[params.index]

    def infer_shape(self, params: PartParams, inputs: list[Shape]) -> Shape:
        start, stop = self.bounds(params, inputs[0])
        index = axis_index(params.axis, inputs[0], "split")
        return inputs[0][:index] + (stop - start,) + inputs[0][index + 1:]

    def layer(self, params: PartParams, inputs: list[Shape]) -> LayerCall:
        start, stop = self.bounds(params, inputs[0])
        return LayerCall("SliceAxis", {"axis": params.axis, "start": start, "stop": stop},
                         module="archspec.keras.layers")


class SplitParams(OpParams):
    axis: int = -1
    into: list[str] = Field(min_length=2, description="the names of the outputs, addressed as NODE.NAME")
    sizes: list[PositiveInt] | None = Field(default=None, description="their sizes (default: equal)")

    @field_validator("into")
    @classmethod
    def _distinct_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not is_name(name):
                raise ValueError(f"{name!r} is not a name ({NAME_RULE})")
        if len(set(value)) != len(value):
            raise ValueError("each output needs its own name")
        return value

    @model_validator(mode="after")
    def _a_size_each(self) -> SplitParams:
        if self.sizes is not None and len(self.sizes) != len(self.into):
            raise ValueError(f"{len(self.sizes)} sizes for {len(self.into)} outputs")
        return self


class Split(Op):
    name = "split"
    family = "dense"
    Params = SplitParams
    doc = ("Cuts an axis into named outputs that edges address as NODE.NAME (`halves.a`): equal parts, or "
           "`sizes`. Every output must be used.")

    def outputs(self, params: SplitParams) -> list[tuple[str, str, PartParams]]:
        """Each output's name, and the `part` op and params that make it (archspec.graph.build adds them)."""
        return [(name, "part", PartParams(axis=params.axis, index=index, parts=len(params.into), sizes=params.sizes))
                for index, name in enumerate(params.into)]

    def infer_shape(self, params: SplitParams, inputs: list[Shape]) -> Shape:
        Part().bounds(self.outputs(params)[0][2], inputs[0])  # the cut must fit the axis
        return inputs[0]

    def layer(self, params: SplitParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Identity")

    def summary(self, params: SplitParams) -> str:
        return f"axis={params.axis} into {', '.join(params.into)}"
