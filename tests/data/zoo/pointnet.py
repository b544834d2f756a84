"""PointNet (Qi, Su, Mo and Guibas, "PointNet: Deep Learning on Point Sets for 3D Classification and
Segmentation", CVPR 2017): a shared per-point MLP (1x1 convolutions), a max pool over the points, and
T-Nets that predict a k x k transform started at the identity, applied as x @ (T + I)."""

import keras
from keras import layers, ops


def unit(x, filters, name):
    x = layers.Conv1D(filters, 1, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def fc(x, units, name):
    x = layers.Dense(units, name=f"{name}_dense")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def tnet(x, k, name):
    t = unit(x, 32, f"{name}_1")
    t = unit(t, 64, f"{name}_2")
    t = unit(t, 128, f"{name}_3")
    t = layers.GlobalMaxPooling1D(name=f"{name}_pool")(t)
    t = fc(t, 64, f"{name}_4")
    t = fc(t, 32, f"{name}_5")
    t = layers.Dense(k * k, kernel_initializer="zeros", name=f"{name}_matrix")(t)
    t = layers.Reshape((k, k), name=f"{name}_reshape")(t)
    return ops.matmul(x, t + ops.eye(k))  # (B, N, k) @ (B, k, k)


def reference() -> keras.Model:
    points = keras.Input((64, 3), name="points")
    x = tnet(points, 3, "tnet1")
    x = unit(x, 32, "mlp1")
    x = unit(x, 32, "mlp2")
    x = tnet(x, 32, "tnet2")
    x = unit(x, 32, "mlp3")
    x = unit(x, 64, "mlp4")
    x = unit(x, 256, "mlp5")
    x = layers.GlobalMaxPooling1D(name="pool")(x)
    x = fc(x, 128, "head1")
    x = layers.Dropout(0.3, name="drop1")(x)
    x = fc(x, 64, "head2")
    x = layers.Dropout(0.3, name="drop2")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(points, outputs, name="pointnet")
