"""DenseNet-BC (Huang et al., "Densely Connected Convolutional Networks", 2017): growth 12, compression 0.5."""

import keras
from keras import layers

GROWTH, LAYERS, COMPRESSION = 12, 4, 0.5


def bn_relu_conv(x, filters, kernel, name, suffix=""):
    x = layers.BatchNormalization(name=f"{name}_bn{suffix}")(x)
    x = layers.Activation("relu", name=f"{name}_relu{suffix}")(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv{suffix}")(x)


def dense_layer(x, name):
    """Bottleneck to 4k maps, then k new maps concatenated to everything before."""
    y = bn_relu_conv(x, 4 * GROWTH, 1, name, "1")
    y = bn_relu_conv(y, GROWTH, 3, name, "2")
    return layers.Concatenate(name=f"{name}_cat")([x, y])


def transition(x, name):
    x = bn_relu_conv(x, int(x.shape[-1] * COMPRESSION), 1, name)
    return layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(2 * GROWTH, 3, padding="same", use_bias=False, name="stem")(inputs)
    for block in (1, 2, 3):
        for index in range(1, LAYERS + 1):
            x = dense_layer(x, f"dense{block}_layer{index}")
        if block < 3:
            x = transition(x, f"trans{block}")
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="densenet_bc")
