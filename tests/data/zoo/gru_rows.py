"""Two stacked GRUs (Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder", 2014) over rows."""

import keras
from keras import layers


def reference() -> keras.Model:
    rows = keras.Input((28, 28), name="rows")
    x = layers.GRU(64, return_sequences=True, name="gru1")(rows)
    x = layers.GRU(64, name="gru2")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(rows, outputs, name="gru_rows")
