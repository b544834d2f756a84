"""UNet++ (Zhou, Rahman Siddiquee, Tajbakhsh and Liang, "UNet++: A Nested U-Net Architecture for Medical Image
Segmentation", 2018), MNIST-sized: a grid of nodes x[i][j], depth 3."""

import keras
from keras import layers

DEPTH, WIDTH = 3, 8


def conv_node(x, filters, name):
    """Two 3x3 convolutions with ReLU: every node of the grid."""
    for index in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{index}")(x)
    return x


def reference() -> keras.Model:
    image = keras.Input((28, 28, 1), name="image")
    x = {(0, 0): conv_node(image, WIDTH, "x0_0")}
    for i in range(1, DEPTH):  # the encoder, x[i][0]: 28 -> 14 -> 7
        pooled = layers.MaxPooling2D(name=f"pool{i}")(x[i - 1, 0])
        x[i, 0] = conv_node(pooled, WIDTH * 2**i, f"x{i}_0")
    for j in range(1, DEPTH):  # the nested skip paths: x[i][j] sees x[i][0..j-1] and x[i+1][j-1] upsampled
        for i in range(DEPTH - j):
            up = layers.UpSampling2D(name=f"up{i}_{j}")(x[i + 1, j - 1])
            merged = layers.Concatenate(name=f"cat{i}_{j}")([*(x[i, k] for k in range(j)), up])
            x[i, j] = conv_node(merged, WIDTH * 2**i, f"x{i}_{j}")
    mask = layers.Conv2D(1, 1, activation="sigmoid", name="mask")(x[0, DEPTH - 1])
    return keras.Model(image, mask, name="unetpp")
