"""EfficientNet-B0's MBConv network (Tan and Le, "EfficientNet", 2019), MNIST-sized: SE and stochastic depth."""

import keras
from keras import layers

DROP_CONNECT = 0.2
STAGES = [(6, 3, 2, 16, 2), (6, 5, 2, 24, 2), (6, 3, 1, 32, 2)]  # expansion, kernel, strides, filters, blocks
BLOCKS = 1 + sum(stage[-1] for stage in STAGES)


def conv_bn(x, filters, name, kernel=1, strides=1, activation="swish"):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation(activation, name=f"{name}_act")(x) if activation else x


def mbconv(x, filters, name, expansion, kernel, strides, drop_rate):
    """Expand, depthwise conv, squeeze-and-excite, project; drop the whole branch at random when residual."""
    channels = x.shape[-1]
    y = conv_bn(x, channels * expansion, f"{name}_expand") if expansion != 1 else x
    y = layers.DepthwiseConv2D(kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_dwconv")(y)
    y = layers.BatchNormalization(name=f"{name}_dwconv_bn")(y)
    y = layers.Activation("swish", name=f"{name}_dwconv_act")(y)
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(y)
    s = layers.Conv2D(max(1, channels // 4), 1, activation="swish", name=f"{name}_se_reduce")(s)
    s = layers.Conv2D(y.shape[-1], 1, activation="sigmoid", name=f"{name}_se_expand")(s)
    y = layers.Multiply(name=f"{name}_se_excite")([y, s])
    y = conv_bn(y, filters, f"{name}_project", activation=None)
    if strides == 1 and channels == filters:
        y = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(y)
        y = layers.Add(name=f"{name}_add")([y, x])
    return y


def reference() -> keras.Model:
    inputs = keras.Input((28, 28, 1), name="image")
    x = conv_bn(inputs, 16, "stem", kernel=3, strides=2)
    x = mbconv(x, 8, "block1", 1, 3, 1, 0.0)
    done = 1
    for stage, (expansion, kernel, strides, filters, blocks) in enumerate(STAGES, start=2):
        for block in range(1, blocks + 1):
            rate = DROP_CONNECT * done / BLOCKS
            x = mbconv(x, filters, f"stage{stage}_block{block}", expansion, kernel,
                       strides if block == 1 else 1, rate)
            done += 1
    x = conv_bn(x, 128, "head")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.2, name="head_drop")(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="efficientnet_b0")
