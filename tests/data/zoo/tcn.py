"""A temporal convolutional network (Bai, Kolter and Koltun, "An Empirical Evaluation of Generic Convolutional
and Recurrent Networks for Sequence Modeling", 2018) over MNIST rows: dilations 1, 2, 4, 8."""

import keras
from keras import layers

FILTERS, KERNEL, DROPOUT = 32, 3, 0.05


def temporal_block(x, dilation, name):
    """Two dilated causal convolutions with ReLU and spatial dropout; relu(branch + input)."""
    y = x
    for index in (1, 2):
        y = layers.Conv1D(FILTERS, KERNEL, padding="causal", dilation_rate=dilation, name=f"{name}_conv{index}")(y)
        y = layers.Activation("relu", name=f"{name}_relu{index}")(y)
        y = layers.SpatialDropout1D(DROPOUT, name=f"{name}_drop{index}")(y)
    shortcut = x if x.shape[-1] == FILTERS else layers.Conv1D(FILTERS, 1, name=f"{name}_proj")(x)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def reference() -> keras.Model:
    rows = keras.Input((28, 28), name="rows")
    x = rows
    for level, dilation in enumerate([1, 2, 4, 8], start=1):
        x = temporal_block(x, dilation, f"level{level}")
    outputs = layers.Dense(10, activation="softmax", name="probs")(x[:, -1])  # the last step sees all 28 rows
    return keras.Model(rows, outputs, name="tcn")
