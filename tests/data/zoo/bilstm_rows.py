"""A bidirectional LSTM (Graves and Schmidhuber, "Framewise phoneme classification...", 2005) over MNIST rows."""

import keras
from keras import layers


def reference() -> keras.Model:
    rows = keras.Input((28, 28), name="rows")
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True), name="bilstm1")(rows)
    x = layers.Bidirectional(layers.LSTM(64), name="bilstm2")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(rows, outputs, name="bilstm_rows")
