"""ConvNeXt (Liu et al., "A ConvNet for the 2020s", 2022), a tiny MNIST-sized one: depths 2-2-2, widths 24-96."""

import keras
from keras import layers

DEPTHS, DIMS = (2, 2, 2), (24, 48, 96)
DROP_PATH = 0.1


class LayerScale(layers.Layer):
    """Multiplies each channel by a learned gamma, initialised small so a block starts near the identity."""

    def __init__(self, init, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma",
                                     initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        return x * self.gamma


def convnext_block(x, name, drop_rate):
    """Depthwise 7x7, LayerNorm, inverted bottleneck with GELU, LayerScale, drop path, residual."""
    dim = x.shape[-1]
    y = layers.DepthwiseConv2D(7, padding="same", name=f"{name}_dwconv")(x)
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")(y)
    y = layers.Dense(4 * dim, activation="gelu", name=f"{name}_pwconv1")(y)
    y = layers.Dense(dim, name=f"{name}_pwconv2")(y)
    y = LayerScale(1e-6, name=f"{name}_gamma")(y)
    y = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(DIMS[0], 2, strides=2, name="stem")(inputs)  # patchify: 14x14
    x = layers.LayerNormalization(epsilon=1e-6, name="stem_norm")(x)
    done, total = 0, sum(DEPTHS)
    for stage, (depth, dim) in enumerate(zip(DEPTHS, DIMS), start=1):
        if stage > 1:
            x = layers.LayerNormalization(epsilon=1e-6, name=f"down{stage}_norm")(x)
            x = layers.Conv2D(dim, 2, strides=2, name=f"down{stage}_conv")(x)
        for block in range(1, depth + 1):
            x = convnext_block(x, f"stage{stage}_block{block}", DROP_PATH * done / (total - 1))
            done += 1
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name="head_norm")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="convnext_tiny")
