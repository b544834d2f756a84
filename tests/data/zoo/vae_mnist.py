"""Convolutional VAE (Kingma and Welling 2014), as in Keras's VAE example: the encoder's mean and
log-variance, a sampling layer that adds the KL term to the loss, and a transposed-conv decoder."""

import keras
from keras import layers, ops


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps while training, the mean at inference; adds weight * KL."""

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        kl = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=1)
        self.add_loss(self.weight * ops.mean(kl))
        if not training:
            return mean
        return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.seed_generator)


def reference() -> keras.Model:
    image = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="enc1")(image)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="enc2")(x)
    h = layers.Dense(16, activation="relu", name="h")(layers.Flatten()(x))
    mean = layers.Dense(2, name="mean")(h)
    log_var = layers.Dense(2, name="log_var")(h)
    z = Sampling(1 / 784, name="z")([mean, log_var])
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu", name="dec")(z))
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", name="up1")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu", name="up2")(x)
    out = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", name="out")(x)
    return keras.Model(image, out, name="vae_mnist")
