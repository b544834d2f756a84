"""FiLM (Perez et al., "FiLM: Visual Reasoning with a General Conditioning Layer", 2018): a second input sets
each residual block's per-channel scale gamma and shift beta, applied after a BN without its own affine."""

import keras
from keras import layers

FILTERS, BLOCKS = 32, 2


def film_block(x, condition, name):
    """x' = relu(1x1 conv(x)); x' + relu(gamma * BN(3x3 conv(x')) + beta)."""
    x = layers.Conv2D(FILTERS, 1, activation="relu", name=f"{name}_in")(x)
    y = layers.Conv2D(FILTERS, 3, padding="same", name=f"{name}_conv")(x)
    y = layers.BatchNormalization(center=False, scale=False, name=f"{name}_bn")(y)
    gamma = layers.Dense(FILTERS, name=f"{name}_gamma")(condition)
    beta = layers.Dense(FILTERS, name=f"{name}_beta")(condition)
    y = layers.Multiply(name=f"{name}_scale")([y, layers.Reshape((1, 1, FILTERS))(gamma)])
    y = layers.Add(name=f"{name}_shift")([y, layers.Reshape((1, 1, FILTERS))(beta)])
    y = layers.Activation("relu", name=f"{name}_relu")(y)
    return layers.Add(name=f"{name}_out")([x, y])


def reference() -> keras.Model:
    image = keras.Input((28, 28, 1), name="image")
    condition = keras.Input((10,), name="condition")  # e.g. a one-hot question
    x = layers.Conv2D(FILTERS, 3, strides=2, padding="same", activation="relu", name="stem1")(image)
    x = layers.Conv2D(FILTERS, 3, strides=2, padding="same", activation="relu", name="stem2")(x)  # 7x7
    for index in range(1, BLOCKS + 1):
        x = film_block(x, condition, f"block{index}")
    x = layers.Conv2D(64, 1, activation="relu", name="head")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model([image, condition], outputs, name="film_cnn")
