"""One rule per ONNX operator: the Keras layers that compute it, in the layout convert.Value tracks.

ONNX convolution weights (O, I, kh, kw) become Keras's (kh, kw, I, O); explicit pads become
`padding="same"` where Keras pads identically (stride 1, odd windows) and a ZeroPadding2D before
a `valid` window otherwise. A rule that meets a form it cannot reproduce exactly refuses it
by name (the node and the attribute), never approximates it.
"""

from __future__ import annotations

from typing import Any

from archspec.keras.importer.onnx.attention import WEIGHTS
from archspec.keras.importer.onnx.convert import Converter, Value

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus", "Elu": "elu"}
NON_NEGATIVE = {"Relu", "Sigmoid", "Softplus"}


def single(value: float) -> float:
    """A float32 attribute as the shortest decimal that is the same float32 (1e-05, not 9.99999974e-06)."""
    return float(f"{value:.7g}")


def _window(c: Converter, value: Value, attrs: dict, kernel: tuple[int, ...], zero_pads_exact: bool) -> tuple[Any, str]:
    """The input after any explicit padding, and the Keras padding word for the window."""
    pads = list(attrs.get("pads", [0] * 2 * len(kernel)))
    strides, dilations = attrs.get("strides", [1] * len(kernel)), attrs.get("dilations", [1] * len(kernel))
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise c.fail(f"auto_pad={attrs['auto_pad']} is not read; export with explicit pads")
    if not any(pads):
        return value.tensor, "valid"
    half = [(k - 1) * d // 2 for k, d in zip(kernel, dilations)]
    if all(s == 1 for s in strides) and all(k % 2 for k in kernel) and pads == half + half:
        return value.tensor, "same"
    if not zero_pads_exact:
        raise c.fail(f"pads {pads} with strides {list(strides)} pad with other values than zero "
                     "(max-pooling a possibly negative input, or averaging without the padding)")
    begin, end = pads[:len(kernel)], pads[len(kernel):]
    padding = tuple(zip(begin, end))
    layer = c.layer("ZeroPadding1D", "_pad", padding=padding[0]) if len(kernel) == 1 else \
        c.layer("ZeroPadding2D", "_pad", padding=padding)
    return c.apply(layer, value.tensor), "valid"


def conv(c: Converter, node: Any, attrs: dict) -> None:
    x, weight = c.value(node.input[0]), c.required_constant(node.input[1], "weight")
    bias = c.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if weight.ndim == 3 and x.rank == 3:
        return _conv1d(c, x, weight, bias, attrs)
    if weight.ndim != 4 or not x.channels_last:
        raise c.fail(f"only 1-D convolutions of sequences and 2-D ones of images are read (weight of rank "
                     f"{weight.ndim})")
    kernel, groups = tuple(weight.shape[2:]), attrs.get("group", 1)
    tensor, padding = _window(c, x, attrs, kernel, zero_pads_exact=True)
    common = {"kernel_size": kernel, "strides": tuple(attrs.get("strides", (1, 1))), "padding": padding,
              "dilation_rate": tuple(attrs.get("dilations", (1, 1))), "use_bias": bias is not None}
    channels = x.tensor.shape[-1]
    if groups > 1 and groups == channels == weight.shape[0]:
        layer = c.layer("DepthwiseConv2D", **common)
        kernel_weights = weight.transpose(2, 3, 0, 1)
    else:
        layer = c.layer("Conv2D", filters=weight.shape[0], groups=groups, **common)
        kernel_weights = weight.transpose(2, 3, 1, 0)
    c.emit(Value(c.apply(layer, tensor, [kernel_weights] + ([bias] if bias is not None else [])), True))


def _conv1d(c: Converter, x: Value, weight: Any, bias: Any, attrs: dict) -> None:
    """Conv over (N, C, L): a channels-last Conv1D (weights (O, I, k) -> (k, I, O)), grouped as ONNX groups."""
    if not x.channels_last:
        x = Value(c.apply(c.layer("Permute", "_to_channels_last", dims=(2, 1)), x.tensor), True, x.non_negative)
    kernel = tuple(weight.shape[2:])
    tensor, padding = _window(c, x, attrs, kernel, zero_pads_exact=True)
    layer = c.layer("Conv1D", filters=weight.shape[0], kernel_size=kernel, strides=tuple(attrs.get("strides", (1,))),
                    padding=padding, dilation_rate=tuple(attrs.get("dilations", (1,))), groups=attrs.get("group", 1),
                    use_bias=bias is not None)
    c.emit(Value(c.apply(layer, tensor, [weight.transpose(2, 1, 0)] + ([bias] if bias is not None else [])), True))


def conv_transpose(c: Converter, node: Any, attrs: dict) -> None:
    x, weight = c.value(node.input[0]), c.required_constant(node.input[1], "weight")
    bias = c.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if weight.ndim != 4 or attrs.get("group", 1) != 1 or any(attrs.get("output_padding", [0])):
        raise c.fail("only 2-D, ungrouped transposed convolutions without output_padding are read")
    if any(d != 1 for d in attrs.get("dilations", [1])):
        raise c.fail("dilated transposed convolutions are not read")
    kernel, strides = tuple(weight.shape[2:]), tuple(attrs.get("strides", (1, 1)))
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if not any(pads) and all(k >= s for k, s in zip(kernel, strides)):
        padding = "valid"
    elif pads[:2] == pads[2:] and all(k - 2 * p == s for k, p, s in zip(kernel, pads, strides)):
        padding = "same"  # both grow the size by exactly the strides, cropping the same rows
    else:
        raise c.fail(f"pads {pads} with kernel {list(kernel)} and strides {list(strides)} have no Keras padding")
    layer = c.layer("Conv2DTranspose", filters=weight.shape[1], kernel_size=kernel, strides=strides,
                    padding=padding, use_bias=bias is not None)
    weights = [weight.transpose(2, 3, 1, 0)] + ([bias] if bias is not None else [])
    c.emit(Value(c.apply(layer, x.tensor, weights), True))


def batch_norm(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    gamma, beta, mean, var = (c.required_constant(name, "statistic") for name in node.input[1:5])
    layer = c.layer("BatchNormalization", axis=c.axis(x, 1), epsilon=single(attrs.get("epsilon", 1e-5)))
    c.emit(Value(c.apply(layer, x.tensor, [gamma, beta, mean, var]), x.channels_last))


def layer_norm(c: Converter, node: Any, attrs: dict) -> None:
    """LayerNormalization over the last axis (the features of a token)."""
    x = c.value(node.input[0])
    scale = c.required_constant(node.input[1], "scale")
    bias = c.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if c.axis(x, attrs.get("axis", -1)) != x.rank - 1:
        raise c.fail("only normalisation over the last axis is read")
    layer = c.layer("LayerNormalization", epsilon=single(attrs.get("epsilon", 1e-5)), center=bias is not None)
    c.emit(Value(c.apply(layer, x.tensor, [scale] + ([bias] if bias is not None else [])), x.channels_last))


def activation(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    if node.op_type == "Elu" and attrs.get("alpha", 1.0) != 1.0:
        raise c.fail(f"alpha={attrs['alpha']} (Keras's elu has alpha 1)")
    layer = c.layer("Activation", activation=ACTIVATIONS[node.op_type])
    c.emit(Value(c.apply(layer, x.tensor), x.channels_last, node.op_type in NON_NEGATIVE))


def leaky_relu(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    layer = c.layer("LeakyReLU", negative_slope=single(attrs.get("alpha", 0.01)))
    c.emit(Value(c.apply(layer, x.tensor), x.channels_last))


def clip(c: Converter, node: Any, attrs: dict) -> None:
    """Clip(0, max): ReLU with a ceiling (torch's ReLU6)."""
    x = c.value(node.input[0])
    low, high = (c.constant(name) if name else None for name in [*node.input[1:3], "", ""][:2])
    if low is None or float(low) != 0.0:
        raise c.fail("only Clip from 0 (a ReLU with a ceiling) is read")
    layer = c.layer("ReLU", max_value=None if high is None else float(high))
    c.emit(Value(c.apply(layer, x.tensor), x.channels_last, True))


def gelu(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    if attrs.get("approximate", "none") != "none":
        raise c.fail("the tanh approximation is not read")
    c.emit(Value(c.apply(c.layer("Activation", activation="gelu"), x.tensor), x.channels_last))


def softmax(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    c.emit(Value(c.apply(c.layer("Softmax", axis=c.axis(x, attrs.get("axis", -1))), x.tensor), x.channels_last))


def pool(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    kernel = tuple(attrs["kernel_shape"])
    dilated = any(d != 1 for d in attrs.get("dilations", [1]))
    if len(kernel) != 2 or not x.channels_last or attrs.get("ceil_mode", 0) or dilated:
        raise c.fail("only 2-D pooling of images without ceil_mode or dilations is read")
    average = node.op_type == "AveragePool"
    exact = bool(attrs.get("count_include_pad", 0)) if average else x.non_negative
    tensor, padding = _window(c, x, attrs, kernel, zero_pads_exact=exact)
    if padding == "same" and average:
        raise c.fail("averaging without the padding at the borders has no Keras layer")
    cls = "AveragePooling2D" if average else "MaxPooling2D"
    layer = c.layer(cls, pool_size=kernel, strides=tuple(attrs.get("strides", (1, 1))), padding=padding)
    c.emit(Value(c.apply(layer, tensor), True, x.non_negative))


def global_pool(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    if x.rank != 4 or not x.channels_last:
        raise c.fail("only images are pooled globally")
    cls = "GlobalAveragePooling2D" if node.op_type == "GlobalAveragePool" else "GlobalMaxPooling2D"
    c.emit(Value(c.apply(c.layer(cls, keepdims=True), x.tensor), True, x.non_negative))


def dense(c: Converter, node: Any, attrs: dict) -> None:
    """Gemm, or MatMul by a constant matrix (its bias Add folded in when that is its one consumer)."""
    x = c.same_order(c.value(node.input[0]))
    weight = c.required_constant(node.input[1], "weight matrix")
    if attrs.get("transA", 0) or weight.ndim != 2:
        raise c.fail("only x @ W with a constant 2-D W is read")
    weight = (weight.T if attrs.get("transB", 0) else weight) * attrs.get("alpha", 1.0)
    bias = c.constant(node.input[2]) * attrs.get("beta", 1.0) if len(node.input) > 2 else None
    output = node.output[0]
    if node.op_type == "MatMul":
        after = c.graph.consumers(output)
        if len(after) == 1 and after[0].op_type == "Add" and output not in c.graph.outputs:
            other = [name for name in after[0].input if name != output]
            constant = c.constant(other[0]) if other else None
            if constant is not None and constant.shape == (weight.shape[1],):
                bias, output = constant, after[0].output[0]
                c.skip.add(after[0].name)
    if bias is not None and bias.shape != (weight.shape[1],):
        raise c.fail(f"a bias of shape {bias.shape} is not one value per unit")
    layer = c.layer("Dense", units=weight.shape[1], use_bias=bias is not None)
    c.values[output] = Value(c.apply(layer, x.tensor, [weight] + ([bias] if bias is not None else [])))


def flatten(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0])
    if attrs.get("axis", 1) != 1:
        raise c.fail("only Flatten(axis=1) keeps the batch axis")
    if x.channels_last and any(size != 1 for size in x.tensor.shape[1:-1]):
        x = c.same_order(x)  # channel-major order, as ONNX flattens
    c.emit(Value(c.apply(c.layer("Flatten"), x.tensor), non_negative=x.non_negative))


def reshape(c: Converter, node: Any, attrs: dict) -> None:
    source = c.values.get(node.input[0])
    shape = c.graph.shapes.get(node.output[0])
    if source is not None and source.form == "pairs" and shape and len(shape) == 3:
        c.emit(Value(source.tensor, form="time_major"))  # (T, N, 2, H) -> (T, N, 2H): Bidirectional's concat
        return
    x = c.value(node.input[0])
    c.required_constant(node.input[1], "target shape")
    if not shape or any(size is None for size in shape[1:]):
        raise c.fail("the target shape is not known from shape inference")
    flat = len(shape) == 2 and x.channels_last and all(size == 1 for size in x.tensor.shape[1:-1])
    channels = x.tensor.shape[-1]
    if x.channels_last and x.rank == 4 and tuple(shape[1:2]) == (channels,) and len(shape) == 3:
        # (N, C, H, W) -> (N, C, H * W), a ViT's patches: the channels-last (N, H * W, C), still channels-last
        layer = c.layer("Reshape", target_shape=(shape[2], channels))
        c.emit(Value(c.apply(layer, x.tensor), True, x.non_negative))
        return
    x = x if flat else c.same_order(x)
    c.emit(Value(c.apply(c.layer("Reshape", target_shape=tuple(shape[1:])), x.tensor), non_negative=x.non_negative))


def transpose(c: Converter, node: Any, attrs: dict) -> None:
    source = c.values.get(node.input[0])
    perm = list(attrs.get("perm", range(len(c.graph.shapes.get(node.input[0], ())))[::-1]))
    if source is not None and source.form == "steps2" and perm == [0, 2, 1, 3]:
        c.emit(Value(source.tensor, form="pairs"))  # a bidirectional Y (T, 2, N, H) -> (T, N, 2, H): no layer
        return
    if source is not None and perm == [1, 0, 2] and source.form in ("", "time_major") and not source.channels_last:
        c.emit(Value(source.tensor, form="" if source.form else "time_major"))  # batch <-> time: no layer
        return
    x = c.value(node.input[0])
    if perm[0] != 0:
        raise c.fail(f"perm {perm} moves the batch axis")
    if x.channels_last and perm == [0, *range(2, x.rank), 1]:
        c.emit(Value(x.tensor, non_negative=x.non_negative))  # NCHW -> NHWC: the Keras tensor already is
        return
    x = c.same_order(x)
    c.emit(Value(c.apply(c.layer("Permute", dims=tuple(perm[1:])), x.tensor), non_negative=x.non_negative))


def attention(c: Converter, node: Any, attrs: dict) -> None:
    """The node fold_attention wrote: MultiHeadAttention of its query (and key/value) source."""
    sources = [name for name in node.input if name not in c.graph.constants]
    form = c.values[sources[0]].form if sources[0] in c.values else ""
    values = [c.value(name, form) for name in sources]
    weights = [c.required_constant(f"{node.name}/{key}", "weight") for key in WEIGHTS]
    heads, width = weights[0].shape[1:]
    layer = c.layer("MultiHeadAttention", num_heads=heads, key_dim=width, value_dim=weights[4].shape[2])
    tensors = [item.tensor for item in (values if len(values) > 1 else values * 2)]
    output = layer(tensors[0], tensors[1], **({"use_causal_mask": True} if attrs.get("causal") else {}))
    layer.set_weights(weights)
    c.emit(Value(output, form=form))
