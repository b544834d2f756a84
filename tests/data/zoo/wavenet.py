"""WaveNet (van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016) over MNIST rows: gated
dilated causal convolutions, each layer's residual feeding the next and its skip summed into the head."""

import keras
from keras import layers

LAYERS, CHANNELS = 4, 32


def reference() -> keras.Model:
    rows = keras.Input((28, 28), name="rows")
    x = layers.Conv1D(CHANNELS, 2, padding="causal", name="causal")(rows)
    skips = []
    for index in range(1, LAYERS + 1):  # dilations 1, 2, 4, 8
        dilated = {"padding": "causal", "dilation_rate": 2 ** (index - 1)}
        tanh = layers.Conv1D(CHANNELS, 2, activation="tanh", name=f"layer{index}_filter", **dilated)(x)
        gate = layers.Conv1D(CHANNELS, 2, activation="sigmoid", name=f"layer{index}_gate", **dilated)(x)
        z = layers.Multiply(name=f"layer{index}_z")([tanh, gate])
        skips.append(layers.Conv1D(CHANNELS, 1, name=f"layer{index}_skip")(z))
        if index < LAYERS:  # the last layer's residual would feed nothing
            residual = layers.Conv1D(CHANNELS, 1, name=f"layer{index}_res")(z)
            x = layers.Add(name=f"layer{index}_out")([residual, x])
    y = layers.Activation("relu", name="skips_relu")(layers.Add(name="skips")(skips))
    y = layers.Conv1D(CHANNELS, 1, activation="relu", name="post")(y)
    probs = layers.Dense(10, activation="softmax", name="probs")(y[:, -1])  # the last step sees all 28 rows
    return keras.Model(rows, probs, name="wavenet")
