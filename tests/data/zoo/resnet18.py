"""Pre-activation ResNet-18 (He et al., "Identity Mappings in Deep Residual Networks", 2016), CIFAR-style stem."""

import keras
from keras import layers


def preact_unit(x, filters, name, strides=1):
    """BN-ReLU-conv twice; a strided unit projects its shortcut from the pre-activated input."""
    pre = layers.BatchNormalization(name=f"{name}_bn1")(x)
    pre = layers.Activation("relu", name=f"{name}_relu1")(pre)
    shortcut = x
    if strides != 1:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_proj")(pre)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(pre)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Activation("relu", name=f"{name}_relu2")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    return layers.Add(name=f"{name}_out")([shortcut, y])


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(inputs)
    for stage, filters in enumerate([16, 32, 64, 128], start=1):
        for unit in (1, 2):
            strides = 2 if stage > 1 and unit == 1 else 1
            x = preact_unit(x, filters, f"stage{stage}_block{unit}", strides)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="resnet18")
