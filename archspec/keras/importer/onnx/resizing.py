"""The ONNX operators that move or copy pixels rather than compute: Resize, Pad, Identity, Dropout."""

from __future__ import annotations

from typing import Any

from archspec.keras.importer.onnx.convert import Converter, Value


def resize(c: Converter, node: Any, attrs: dict) -> None:
    """Resize by whole factors: UpSampling2D, nearest or bilinear (half pixel); the check against
    onnxruntime refuses a rounding mode that picks other pixels."""
    x = c.value(node.input[0])
    if x.rank != 4 or not x.channels_last:
        raise c.fail("only images are resized")
    scales = c.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if scales is None or scales.size == 0:
        sizes = c.required_constant(node.input[3], "sizes") if len(node.input) > 3 else None
        if sizes is None:
            raise c.fail("neither scales nor sizes is given")
        scales = sizes / [1, 1, *x.tensor.shape[1:3]]
    factors = [float(item) for item in scales]
    if factors[:2] != [1.0, 1.0] or any(item != int(item) or item < 1 for item in factors[2:]):
        raise c.fail(f"scales {factors}: only whole factors of height and width have a Keras layer")
    mode, transform = attrs.get("mode", "nearest"), attrs.get("coordinate_transformation_mode", "half_pixel")
    if mode == "linear" and transform not in ("half_pixel", "pytorch_half_pixel"):
        raise c.fail(f"linear with coordinate_transformation_mode={transform} (align_corners) has no Keras layer")
    if mode not in ("nearest", "linear"):
        raise c.fail(f"mode={mode} has no Keras layer")
    layer = c.layer("UpSampling2D", size=(int(factors[2]), int(factors[3])),
                    interpolation="nearest" if mode == "nearest" else "bilinear")
    c.emit(Value(c.apply(layer, x.tensor), True, x.non_negative))


def pad(c: Converter, node: Any, attrs: dict) -> None:
    """Zero padding of the height and width of an image: ZeroPadding2D."""
    x = c.value(node.input[0])
    pads = [int(item) for item in c.required_constant(node.input[1], "pads")]
    value = c.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    rank = x.rank
    begin, end = pads[:rank], pads[rank:]
    if attrs.get("mode", "constant") != "constant" or (value is not None and float(value) != 0.0):
        raise c.fail("only zero padding is read (mode constant, value 0)")
    if rank != 4 or not x.channels_last or any(begin[:2]) or any(end[:2]) or min(pads) < 0:
        raise c.fail(f"pads {pads}: only padding of an image's height and width is read")
    layer = c.layer("ZeroPadding2D", padding=((begin[2], end[2]), (begin[3], end[3])))
    c.emit(Value(c.apply(layer, x.tensor), True, x.non_negative))


def identity(c: Converter, node: Any, attrs: dict) -> None:
    """Identity, and Dropout at inference: the same tensor."""
    c.emit(c.value(node.input[0]))
