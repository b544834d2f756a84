"""ViT (Dosovitskiy et al., "An Image is Worth 16x16 Words", 2021), tiny: 7x7 patches, class token, pre-LN."""

import keras
from keras import layers, ops

PATCH, DIM, HEADS, MLP, DEPTH = 7, 64, 4, 128, 2


class ClassToken(layers.Layer):
    """Prepends one learned token to the sequence; its final state is the image's representation."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), name="token", initializer="zeros")

    def call(self, x):
        token = ops.broadcast_to(self.token, (ops.shape(x)[0], 1, x.shape[-1]))
        return ops.concatenate([token, x], axis=1)


class AddPositions(layers.Layer):
    """Adds a learned vector per position."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=tuple(input_shape[1:]), name="positions",
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + self.positions


def encoder_block(x, name):
    """Pre-LN: x + MSA(LN(x)), then x + MLP(LN(x))."""
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = layers.MultiHeadAttention(HEADS, DIM // HEADS, name=f"{name}_attn")(y, y)
    x = layers.Add(name=f"{name}_res1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = layers.Dense(MLP, activation="gelu", name=f"{name}_mlp1")(y)
    y = layers.Dense(DIM, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_res2")([x, y])


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(DIM, PATCH, strides=PATCH, name="patches")(inputs)  # 4x4 patches
    x = layers.Reshape((-1, DIM), name="tokens")(x)  # 16 tokens
    x = ClassToken(name="cls")(x)  # 17 tokens
    x = AddPositions(name="pos")(x)
    for index in range(1, DEPTH + 1):
        x = encoder_block(x, f"block{index}")
    x = layers.LayerNormalization(epsilon=1e-6, name="norm")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x[:, 0])
    return keras.Model(inputs, outputs, name="vit_tiny")
