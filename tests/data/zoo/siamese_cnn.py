"""Siamese CNN (Bromley et al. 1993; Koch et al. 2015): one encoder called on both images, so both
branches use one set of weights; the L1 distance of the codes feeds a sigmoid "same class?" unit."""

import keras
from keras import layers


def reference() -> keras.Model:
    left = keras.Input((28, 28, 1), name="left")
    right = keras.Input((28, 28, 1), name="right")
    encoder = [
        layers.Conv2D(32, 5, padding="same", activation="relu", name="a_c1"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu", name="a_c2"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="sigmoid", name="a_code"),
    ]

    def encode(x):
        for layer in encoder:
            x = layer(x)
        return x

    l1 = keras.ops.abs(layers.Subtract()([encode(left), encode(right)]))
    same = layers.Dense(1, activation="sigmoid", name="same")(l1)
    return keras.Model([left, right], same, name="siamese_cnn")
