"""SE-ResNet-18 (Hu, Shen and Sun, "Squeeze-and-Excitation Networks", 2018), CIFAR-style stem, MNIST-sized."""

import keras
from keras import layers

REDUCTION = 4


def se_unit(x, filters, name, strides=1):
    """A basic residual unit whose branch is rescaled per channel by squeeze-and-excitation."""
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(y)
    s = layers.Dense(filters // REDUCTION, activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Dense(filters, activation="sigmoid", name=f"{name}_se_expand")(s)
    y = layers.Multiply(name=f"{name}_se_scale")([y, s])
    shortcut = x
    if strides != 1:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate([16, 32, 64, 128], start=1):
        for unit in (1, 2):
            strides = 2 if stage > 1 and unit == 1 else 1
            x = se_unit(x, filters, f"stage{stage}_block{unit}", strides)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="se_resnet18")
