"""A GPT-style decoder (Radford et al., "Language Models are Unsupervised Multitask Learners", 2019) over rows."""

import keras
from keras import layers

DIM, HEADS, DEPTH = 64, 4, 2


class AddPositions(layers.Layer):
    """Adds a learned vector per position."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=tuple(input_shape[1:]), name="positions",
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + self.positions


def decoder_block(x, name):
    """Pre-LN: x + causal MSA(LN(x)), then x + MLP(LN(x)); row t sees rows 0..t only."""
    y = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm1")(x)
    y = layers.MultiHeadAttention(HEADS, DIM // HEADS, name=f"{name}_attn")(y, y, use_causal_mask=True)
    x = layers.Add(name=f"{name}_res1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_norm2")(x)
    y = layers.Dense(4 * DIM, activation="gelu", name=f"{name}_mlp1")(y)
    y = layers.Dense(DIM, name=f"{name}_mlp2")(y)
    return layers.Add(name=f"{name}_res2")([x, y])


def reference() -> keras.Model:
    rows = keras.Input((28, 28), name="rows")  # 28 tokens of 28 pixels, top to bottom
    x = layers.Dense(DIM, name="embed")(rows)
    x = AddPositions(name="pos")(x)
    for index in range(1, DEPTH + 1):
        x = decoder_block(x, f"block{index}")
    x = layers.LayerNormalization(epsilon=1e-5, name="norm")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x[:, -1])  # the last row has seen all
    return keras.Model(rows, outputs, name="gpt_rows")
