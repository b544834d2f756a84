"""Residual U-Net (Zhang, Liu and Wang, "Road Extraction by Deep Residual U-Net", 2018), an MNIST denoiser."""

import keras
from keras import layers


def residual_unit(x, filters, name, strides=1):
    """Pre-activation unit: BN-ReLU-conv twice, plus a 1x1 conv + BN projection of the input."""
    y = layers.BatchNormalization(name=f"{name}_bn1")(x)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", name=f"{name}_conv1")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Activation("relu", name=f"{name}_relu2")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    shortcut = layers.Conv2D(filters, 1, strides=strides, name=f"{name}_proj")(x)
    shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    return layers.Add(name=f"{name}_out")([y, shortcut])


def reference() -> keras.Model:
    noisy = keras.Input((28, 28, 1), name="noisy")
    enc1 = residual_unit(noisy, 16, "enc1")
    enc2 = residual_unit(enc1, 32, "enc2", strides=2)
    x = residual_unit(enc2, 64, "bridge", strides=2)
    for level, skip in ((2, enc2), (1, enc1)):
        x = layers.UpSampling2D(name=f"up{level}")(x)
        x = layers.Concatenate(name=f"cat{level}")([x, skip])
        x = residual_unit(x, skip.shape[-1], f"dec{level}")
    clean = layers.Conv2D(1, 1, activation="sigmoid", name="clean")(x)
    return keras.Model(noisy, clean, name="unet_residual")
