"""Layer stacks several families share: one definition, used everywhere."""

from keras import layers

from zoo.models.options import kernel_kwargs


def norm_act(x, activation, batch_norm):
    """Optional `BatchNormalization`, then the activation (`None`: none)."""
    if batch_norm:
        x = layers.BatchNormalization()(x)
    return layers.Activation(activation)(x) if activation else x


def dense_block(x, width, *, activation, kernel_initializer, l1, l2, batch_norm, dropout):
    """`Dense` -> [`BatchNormalization`] -> activation -> [`Dropout`]."""
    x = layers.Dense(
        width, use_bias=not batch_norm, **kernel_kwargs(kernel_initializer, l1, l2)
    )(x)
    x = norm_act(x, activation, batch_norm)
    return layers.Dropout(dropout)(x) if dropout else x


def conv_block(x, filters, kernel_size, *, strides=1, padding="same", activation,
               kernel_initializer, l1, l2, batch_norm):
    """`Conv1D`/`Conv2D` (chosen by rank) -> [BN] -> activation."""
    conv = layers.Conv2D if len(x.shape) == 4 else layers.Conv1D
    x = conv(
        filters, kernel_size, strides=strides, padding=padding, use_bias=not batch_norm,
        **kernel_kwargs(kernel_initializer, l1, l2),
    )(x)
    return norm_act(x, activation, batch_norm)


_POOLS = {("max", 1): layers.MaxPooling1D, ("max", 2): layers.MaxPooling2D,
          ("average", 1): layers.AveragePooling1D, ("average", 2): layers.AveragePooling2D}


def downsample(x, pooling="max", pool_size=2, padding="same"):
    """Pooling by `pool_size` over the spatial axes that are still longer than 1.

    `zoo.models.feature_maps.check_stack` computes the same sizes beforehand.
    """
    spatial = x.shape[1:-1]
    size = tuple(pool_size if s is None or s > 1 else 1 for s in spatial)
    if all(s == 1 for s in size):
        return x
    pool = _POOLS[pooling, len(spatial)]
    return pool(size if len(size) == 2 else size[0], padding=padding)(x)
