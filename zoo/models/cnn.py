"""Convolutional networks: `cnn.simple`, `cnn.vgg`, `cnn.resnet` (images) and
`cnn.fcn1d` (sequences).

`print(zoo.describe(name))` shows each one's documentation and options.
"""

from keras import layers

from zoo.models._blocks import conv_block, dense_block, downsample
from zoo.models.augment import add_augmentation
from zoo.models.feature_maps import check_stack
from zoo.models.registry import register


@register(
    "cnn.simple",
    input_kind="image",
    description="Conv -> pool blocks, then one dense layer: the CNN people write "
    "by hand; good on small images such as 8x8 digits.",
)
def simple(x, *, depth=2, width=32, kernel_size=3, strides=1, padding="same", pooling="max",
           pool_size=2, activation="relu", kernel_initializer="he_uniform", l1=0.0, l2=0.0,
           dropout=0.5, batch_norm=True, augment=None):
    """A plain CNN: `depth` blocks of conv (+ BN) and pooling (2x2 max by
    default), filters doubling per block, then dropout and one dense layer of `4 * width` units.

    The CNN people write by hand for small images such as 8x8 digits or
    28x28 MNIST; a good first baseline.

    Args:
        depth: conv -> pool blocks (each halves the image, by default).
        width: filters of the first block; block `i` has `width * 2**i`.
        dropout: rate before and after the dense layer.

    Example:

    >>> import zoo
    >>> model = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    """
    check_stack(x.shape[1:-1], [[kernel_size]] * depth, strides=strides, padding=padding,
                pool_size=pool_size)
    x = add_augmentation(x, augment, "image")
    weights = dict(activation=activation, kernel_initializer=kernel_initializer, l1=l1, l2=l2,
                   batch_norm=batch_norm)
    for i in range(depth):
        x = conv_block(x, width * 2**i, kernel_size, strides=strides, padding=padding, **weights)
        x = downsample(x, pooling, pool_size, padding)
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
def vgg(x, *, depth=3, width=32, convs_per_block=2, kernel_size=3, strides=1, padding="same",
        pooling="max", pool_size=2, activation="relu", kernel_initializer="he_uniform", l1=0.0,
        l2=0.0, dropout=0.3, batch_norm=False, augment=None):
    """VGG-style CNN (Simonyan & Zisserman, 2015), scaled down.

    `depth` blocks of `convs_per_block` convolutions and a pooling (2x2 max
    by default), filters doubling per block, then two dense layers of
    `width * 2**depth` units with dropout.

    Args:
        depth: conv blocks, each ending in a pooling.
        width: filters of the first block; block `i` has `width * 2**i`.
        dropout: rate after each of the two dense layers.

    Example:

    >>> import zoo
    >>> model = zoo.build("cnn.vgg", input_shape=(8, 8), num_classes=3, depth=2)
    >>> model.output_shape
    (None, 3)
    """
    check_stack(x.shape[1:-1], [[kernel_size] * convs_per_block] * depth, strides=strides,
                padding=padding, pool_size=pool_size)
    x = add_augmentation(x, augment, "image")
    weights = dict(activation=activation, kernel_initializer=kernel_initializer, l1=l1, l2=l2,
                   batch_norm=batch_norm)
    for i in range(depth):
        for _ in range(convs_per_block):
            x = conv_block(x, width * 2**i, kernel_size, strides=strides, padding=padding,
                           **weights)
        x = downsample(x, pooling, pool_size, padding)
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
           kernel_initializer="he_normal", l1=0.0, l2=0.0, dropout=0.0, batch_norm=True,
           augment=None):
    """ResNet-style CNN (He et al., 2016) with basic residual blocks.

    A conv stem, then `depth` stages of `blocks_per_stage` residual blocks
    (conv-BN-act-conv-BN plus a shortcut, 1x1-projected where the shape
    changes), each stage after the first halving the image and doubling
    the filters; global average pooling at the end.

    Args:
        depth: stages of residual blocks.
        width: filters of the stem and the first stage.
        dropout: rate after the global pooling.

    Example:

    >>> import zoo
    >>> model = zoo.build("cnn.resnet", input_shape=(8, 8, 1), num_classes=2,
    ...                   task="binary", depth=2, blocks_per_stage=1)
    >>> model.output_shape
    (None, 1)
    """
    x = add_augmentation(x, augment, "image")
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
def fcn1d(x, *, depth=3, width=64, strides=1, padding="same", pooling="average",
          activation="relu", kernel_initializer="he_uniform", l1=0.0, l2=0.0, dropout=0.0,
          batch_norm=True, augment=None):
    """Fully convolutional network for time series (Wang et al., 2017).

    `depth` 1D conv blocks with kernel sizes 8, 5, 3 (repeating), batch
    normalization and global average pooling over time: a strong baseline
    for time-series classification.

    Args:
        depth: conv blocks.
        width: filters of the first and last blocks; the middle ones have
            `2 * width`.
        dropout: rate after each conv block.
        pooling: the global pooling over time, 'average' or 'max'.

    Example:

    >>> import zoo
    >>> model = zoo.build("cnn.fcn1d", input_shape=(40, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    """
    kernels = [(8, 5, 3)[i % 3] for i in range(depth)]
    check_stack(x.shape[1:-1], [[k] for k in kernels], strides=strides, padding=padding,
                kernel_option=False)
    x = add_augmentation(x, augment, "sequence")
    for i, kernel_size in enumerate(kernels):
        filters = width * (2 if 0 < i < depth - 1 else 1)
        x = conv_block(x, filters, kernel_size, strides=strides, padding=padding,
                       activation=activation, kernel_initializer=kernel_initializer, l1=l1,
                       l2=l2, batch_norm=batch_norm)
        if dropout:
            x = layers.Dropout(dropout)(x)
    pool = layers.GlobalAveragePooling1D if pooling == "average" else layers.GlobalMaxPooling1D
    return pool()(x)

