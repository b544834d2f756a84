"""The shape rules that merges share: concatenation, element-wise merges and gates.

An edge kind (archspec.catalogue.connections) and the explicit merge op of the
same name (archspec.catalogue.ops.merge) call the same rule here, so they accept
and reject the same shapes, with the same hints.
"""

from __future__ import annotations

from archspec.catalogue.primitives import Operand, Shape, ShapeProblem, format_shape


def concat_shapes(operands: list[Operand], axis: int, *, what: str) -> Shape:
    """Shape of concatenating `operands` on `axis` (batch excluded); all other axes must match."""
    first = operands[0]
    rank = len(first.shape)
    if not (-rank <= axis < 0 or 1 <= axis <= rank):
        raise ShapeProblem(
            f"{what} axis {axis} does not exist for rank-{rank} inputs",
            expected=f"-1..-{rank} or 1..{rank}",
            got=str(axis),
        )
    index = (axis if axis < 0 else axis - 1) % rank
    total: int | None = 0
    for operand in operands:
        if len(operand.shape) != rank:
            raise ShapeProblem(
                f"{what} inputs differ in rank",
                expected=str(first),
                got=str(operand),
                hint="flatten or reshape one side so both have the same number of axes",
            )
        others_first = first.shape[:index] + first.shape[index + 1:]
        others = operand.shape[:index] + operand.shape[index + 1:]
        if not compatible(others_first, others):
            axis_names = axis_names_of(rank)
            mismatch = [axis_names[i] for i in range(rank) if i != index
                        and not compatible((first.shape[i],), (operand.shape[i],))]
            raise ShapeProblem(
                f"{' and '.join(mismatch)} must match for concatenation on the "
                f"{axis_names[index]} axis",
                expected=str(first),
                got=str(operand),
                hint=resize_hint(first.shape, operand.shape),
            )
        size = operand.shape[index]
        total = None if total is None or size is None else total + size
    return first.shape[:index] + (total,) + first.shape[index + 1:]


def concat_intended(main: Shape, source: Shape, axis: int) -> Shape | None:
    """What a failed concatenation was meant to give (main with the axis sizes summed), to check on past it."""
    if len(main) != len(source) or not (-len(main) <= axis < 0 or 1 <= axis <= len(main)):
        return None
    index = (axis if axis < 0 else axis - 1) % len(main)
    size = None if main[index] is None or source[index] is None else main[index] + source[index]
    return main[:index] + (size,) + main[index + 1:]


def broadcast_shapes(operands: list[Operand], *, what: str, hint: str | None = None,
                     stretch_both: bool = False) -> Shape:
    """Shape of an element-wise merge (add, multiply, a gate, ...) under numpy's broadcasting rules.

    Shapes are aligned at their last axis (batch excluded); on each axis the
    sizes must be equal or one of them 1, which stretches: 28x28x32 * 1x1x32
    and 28x28x32 * 28x28x1 are 28x28x32, 28x28x32 + 32 too. One input must
    already have the result's shape: when every input would be stretched
    (784 + 28x28x1 -> 28x28x784) it is a wiring mistake far more often than
    an outer product, so it is refused, unless `stretch_both` (an `expr`, where
    `col + row` is written on purpose, as in numpy).
    """
    first = operands[0]
    result = first.shape
    for operand in operands[1:]:
        result = _broadcast_two(Operand(first.name, result), operand, what=what,
                                hint=hint or element_wise_hint(result, operand.shape))
    if not stretch_both and not any(compatible(operand.shape, result) for operand in operands):
        raise ShapeProblem(
            f"{what} inputs would broadcast to {format_shape(result)}, larger than each of them",
            expected="one input of the result's shape, the others broadcasting to it",
            got=", ".join(str(operand) for operand in operands),
            hint=hint or element_wise_hint(first.shape, operands[1].shape),
        )
    return result


def _broadcast_two(main: Operand, other: Operand, *, what: str, hint: str) -> Shape:
    rank = max(len(main.shape), len(other.shape))
    left, right = _aligned(main.shape, rank), _aligned(other.shape, rank)
    result: list[int | None] = []
    for axis, (a, b) in enumerate(zip(left, right)):
        if a == b or b == 1 or (b is None and a != 1):
            result.append(a)
        elif a == 1 or a is None:
            result.append(b)
        else:
            raise ShapeProblem(
                f"{what} inputs do not broadcast: the {axis_names_of(rank)[axis]} axis is {a} in "
                f"'{main.name}' but {b} in '{other.name}' (sizes must be equal, or one of them 1)",
                expected=str(main),
                got=str(other),
                hint=hint,
            )
    return tuple(result)


def _aligned(shape: Shape, rank: int) -> Shape:
    """`shape` with leading axes of size 1 up to `rank`: numpy aligns shapes at their last axis."""
    return (1,) * (rank - len(shape)) + tuple(shape)


def equal_shapes(operands: list[Operand], *, what: str) -> Shape:
    """Shape of inputs that must match exactly (the tensors a softmax gate mixes)."""
    first = operands[0]
    for operand in operands[1:]:
        if not compatible(first.shape, operand.shape):
            raise ShapeProblem(
                f"{what} inputs differ in shape",
                expected=str(first),
                got=str(operand),
                hint=element_wise_hint(first.shape, operand.shape),
            )
    return tuple(
        next((size for size in sizes if size is not None), None)
        for sizes in zip(*(operand.shape for operand in operands))
    )


def element_wise_hint(main: Shape, other: Shape) -> str:
    """The fix for an element-wise merge of `other` into `main`, for the architecture in front of us.

    A shortcut larger than the branch by a whole factor is a strided residual
    (ResNet): it needs a strided 1x1 projection. Equal sizes with other
    channels need a 1x1 projection; everything else needs a resize.
    """
    if len(main) == len(other) == 3 and main[:2] == other[:2]:
        return "add a 1x1 conv2d projection on the shortcut so the channels match, or use concat-skip"
    stride = _stride(main, other)
    if stride:
        return (f"the branch is strided ({format_shape(other[:2])} -> {format_shape(main[:2])}): "
                f"add a strided 1x1 projection on the shortcut, a conv2d with kernel: 1, "
                f"strides: {stride}, filters: {main[2]}, as ResNet does")
    if len(main) == len(other) == 1:
        return "add a dense projection on the shortcut so the sizes match, or use concat-skip"
    return resize_hint(main, other)


def _stride(main: Shape, other: Shape) -> int | None:
    """The stride s > 1 that takes other's height and width to main's ('same' padding), or None."""
    if len(main) != 3 or len(other) != 3 or None in main[:2] or None in other[:2]:
        return None
    (height, width), (big_height, big_width) = main[:2], other[:2]
    for stride in range(2, big_height + 1):  # type: ignore[operator]
        if -(-big_height // stride) == height and -(-big_width // stride) == width:  # type: ignore[operator]
            return stride
    return None


def gate_shape(main: Operand, gate: Operand, activation: str) -> Shape:
    """x * f(g): g broadcasts to x (x's shape; 1x1xC, one gate per channel; HxWx1, one per position)."""
    what = "gate" if activation == "none" else f"{activation} gate"
    return broadcast_shapes([main, gate], what=what, hint=_gate_hint(main, gate))


def _gate_hint(main: Operand, gate: Operand) -> str:
    """The fix for the axes that fail: the features (last axis) or the positions before them."""
    wanted = main.shape[-1] if main.shape else 1
    leading = len(gate.shape) <= len(main.shape) and all(  # aligned at the last axis, as broadcasting is
        size in (1, None) or want in (size, None)
        for size, want in zip(reversed(gate.shape[:-1]), reversed(main.shape[:-1])))
    if not leading and len(main.shape) > 1:
        return (f"make '{gate.name}' {format_shape(main.shape[:-1])} before its features, as '{main.name}' is, "
                f"or 1 there (one gate for every position, e.g. after a global pooling)")
    if wanted == 1:
        return f"make '{gate.name}' produce 1 feature (one gate for all), e.g. a dense layer with units: 1"
    return (f"make '{gate.name}' produce {wanted} features (one gate each) or 1 (one for all), "
            f"e.g. a dense layer with units: {wanted}")


def sigmoid_gate_shape(main: Operand, gate: Operand) -> Shape:
    """x * sigmoid(g) (kept for callers of the one-activation gate)."""
    return gate_shape(main, gate, "sigmoid")


def softmax_gate_shape(mains: list[Operand], gate: Operand) -> Shape:
    """sum_i softmax(g)_i * x_i: the x_i share a shape S, and g is S[:-1] + (k,), or 1 on axes it shares."""
    shape = equal_shapes(mains, what="softmax-gated")
    expected = shape[:-1] + (len(mains),)
    leading_broadcast = len(gate.shape) == len(expected) and all(
        size in (1, None) or want is None or size == want for size, want in zip(gate.shape[:-1], expected[:-1]))
    if not leading_broadcast or not compatible(gate.shape[-1:], expected[-1:]):
        raise ShapeProblem(
            f"a softmax gate over {len(mains)} inputs needs one logit per input",
            expected=f"{format_shape(expected)} (one weight for each of "
            + ", ".join(f"'{m.name}'" for m in mains) + ")",
            got=str(gate),
            hint=f"make '{gate.name}' a dense layer with units: {len(mains)}",
        )
    return shape


def compatible(left: Shape, right: Shape) -> bool:
    """Same rank and every axis equal where both sizes are known."""
    return len(left) == len(right) and all(
        a is None or b is None or a == b for a, b in zip(left, right)
    )


def axis_names_of(rank: int) -> list[str]:
    """What people call each axis of a rank-`rank` shape (batch excluded)."""
    if rank == 3:
        return ["height", "width", "channels"]
    if rank == 2:
        return ["steps", "features"]
    if rank == 1:
        return ["features"]
    return [f"axis {i + 1}" for i in range(rank)]


def resize_hint(expected: Shape, got: Shape) -> str:
    """A skip between levels of different spatial size: a U-Net's fix."""
    if (len(expected) == 3 and len(got) == 3 and expected[:2] != got[:2]
            and None not in expected[:2] and None not in got[:2]):
        if got[0] > expected[0]:  # type: ignore[operator]
            return (
                "spatial sizes must match: connect the source from the encoder level of the same "
                "size, or add a max_pool2d on the skip"
            )
        return (
            "spatial sizes must match: connect the skip to a decoder node after the upsample2d that "
            "reaches the same size"
        )
    return "make both inputs the same shape (reshape, pooling, or a projection layer)"
