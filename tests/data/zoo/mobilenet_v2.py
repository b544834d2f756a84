"""MobileNetV2 (Sandler et al., "Inverted Residuals and Linear Bottlenecks", 2018), MNIST-sized."""

import keras
from keras import layers


def conv_bn(x, filters, name, kernel=1, strides=1, relu=True):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x) if relu else x


def depthwise_bn(x, name, strides=1):
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def inverted_residual(x, filters, name, strides=1, expansion=6):
    """1x1 expansion, 3x3 depthwise, linear 1x1 projection; the input is added when shapes allow."""
    channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = conv_bn(y, channels * expansion, f"{name}_expand")
    y = depthwise_bn(y, f"{name}_depthwise", strides)
    y = conv_bn(y, filters, f"{name}_project", relu=False)
    if strides == 1 and channels == filters:
        y = layers.Add(name=f"{name}_add")([y, x])
    return y


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = conv_bn(inputs, 16, "stem", kernel=3, strides=2)
    x = inverted_residual(x, 8, "block1", expansion=1)
    for stage, (filters, blocks, strides) in enumerate([(16, 2, 2), (24, 3, 2), (32, 2, 1)], start=2):
        for block in range(1, blocks + 1):
            x = inverted_residual(x, filters, f"stage{stage}_block{block}", strides if block == 1 else 1)
    x = conv_bn(x, 128, "head")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")
