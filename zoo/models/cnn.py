"""Convolutional networks: `cnn.simple`, `cnn.vgg`, `cnn.resnet` (images) and
`cnn.fcn1d` (sequences)."""

from keras import layers

from zoo.models._blocks import conv_block, dense_block, downsample
from zoo.models.registry import register


@register(
    "cnn.simple",
    input_kind="image",
    description="Conv -> pool blocks, then one dense layer: the CNN people write "
    "by hand; good on small images such as 8x8 digits.",
)
def simple(x, *, depth=2, width=32, kernel_size=3, activation="relu",
           kernel_initializer="he_uniform", l1=0.0, l2=0.0, dropout=0.5, batch_norm=True):
    weights = dict(activation=activation, kernel_initializer=kernel_initializer, l1=l1, l2=l2,
                   batch_norm=batch_norm)
    for i in range(depth):
        x = conv_block(x, width * 2**i, kernel_size, **weights)
        x = downsample(x)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return dense_block(x, 4 * width, dropout=dropout, **weights)


@register(
    "cnn.vgg",
    input_kind="image",
    description="VGG-style: blocks of `convs_per_block` 3x3 convs and a max pool, "
    "filters doubling per block, then two dense layers.",
)
def vgg(x, *, depth=3, width=32, convs_per_block=2, kernel_size=3, activation="relu",
        kernel_initializer="he_uniform", l1=0.0, l2=0.0, dropout=0.3, batch_norm=False):
    weights = dict(activation=activation, kernel_initializer=kernel_initializer, l1=l1, l2=l2,
                   batch_norm=batch_norm)
    for i in range(depth):
        for _ in range(convs_per_block):
            x = conv_block(x, width * 2**i, kernel_size, **weights)
        x = downsample(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = dense_block(x, width * 2**depth, dropout=dropout, **weights)
    return x


@register(
    "cnn.resnet",
    input_kind="image",
    description="ResNet-style: a conv stem, then `depth` stages of `blocks_per_stage` "
    "residual blocks (conv-BN-act-conv-BN + shortcut), global average pooling.",
)
def resnet(x, *, depth=3, width=16, blocks_per_stage=2, kernel_size=3, activation="relu",
           kernel_initializer="he_normal", l1=0.0, l2=0.0, dropout=0.0, batch_norm=True):
    weights = dict(kernel_initializer=kernel_initializer, l1=l1, l2=l2, batch_norm=batch_norm)
    x = conv_block(x, width, kernel_size, activation=activation, **weights)
    for stage in range(depth):
        filters = width * 2**stage
        for block in range(blocks_per_stage):
            shrink = stage > 0 and block == 0 and min(x.shape[1:3]) > 1
            x = _residual(x, filters, kernel_size, 2 if shrink else 1, activation, weights)
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Dropout(dropout)(x) if dropout else x


def _residual(x, filters, kernel_size, strides, activation, weights):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        # Projection shortcut: a 1x1 conv matches the new shape.
        shortcut = conv_block(x, filters, 1, strides=strides, activation=None, **weights)
    y = conv_block(x, filters, kernel_size, strides=strides, activation=activation, **weights)
    y = conv_block(y, filters, kernel_size, activation=None, **weights)
    return layers.Activation(activation)(layers.Add()([shortcut, y]))


@register(
    "cnn.fcn1d",
    input_kind="sequence",
    description="Fully convolutional 1D net for time series (Wang et al. 2017): conv "
    "blocks with kernels 8, 5, 3, BN, global average pooling over time.",
)
def fcn1d(x, *, depth=3, width=64, activation="relu", kernel_initializer="he_uniform",
          l1=0.0, l2=0.0, dropout=0.0, batch_norm=True):
    for i in range(depth):
        filters = width * (2 if 0 < i < depth - 1 else 1)
        x = conv_block(x, filters, (8, 5, 3)[i % 3], activation=activation,
                       kernel_initializer=kernel_initializer, l1=l1, l2=l2,
                       batch_norm=batch_norm)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return layers.GlobalAveragePooling1D()(x)

