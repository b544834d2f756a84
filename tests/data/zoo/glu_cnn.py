"""A gated convolutional network (Dauphin et al., "Language Modeling with Gated Convolutional Networks", 2017)
on images: each conv makes 2k channels, split into A and B, and outputs A * sigmoid(B)."""

import keras
from keras import layers


def glu_block(x, filters, name):
    y = layers.Conv2D(2 * filters, 3, padding="same", name=f"{name}_conv")(x)
    a, b = y[..., :filters], y[..., filters:]
    gate = layers.Activation("sigmoid", name=f"{name}_gate")(b)
    return layers.Multiply(name=f"{name}_glu")([a, gate])


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for index, filters in enumerate([32, 64, 64], start=1):
        x = glu_block(x, filters, f"block{index}")
        if index < 3:
            x = layers.MaxPooling2D(name=f"pool{index}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="glu_cnn")
