"""Transformer encoders: `transformer.text` (token ids), `transformer.timeseries`
(continuous sequences) and `transformer.vit` (images cut into patches).

All three: embed, add learned position embeddings, `depth` pre-norm encoder
blocks (`zoo.models.layers.TransformerEncoder`), a final layer norm and average
pooling over the positions that are not padding. `print(zoo.describe(name))`
shows each one's documentation and options.
"""

from keras import layers

from zoo.models.augment import add_augmentation
from zoo.models.layers import PositionEmbedding, TransformerEncoder
from zoo.models.options import REQUIRED, kernel_kwargs
from zoo.models.registry import register


@register(
    "transformer.text",
    input_kind="tokens",
    description="Token + position embedding, `depth` self-attention blocks, masked "
    "average pooling; id 0 is padding. Needs `vocab_size` (and `max_len` if T is None).",
)
def text(x, *, vocab_size=REQUIRED, max_len=None, mask_zero=True, depth=2, width=32,
         num_heads=4, ffn_width=None, activation="gelu", kernel_initializer="glorot_uniform",
         l1=0.0, l2=0.0, dropout=0.1):
    """Transformer encoder for text (Vaswani et al., 2017; pre-norm blocks).

    Token and learned position embeddings, `depth` self-attention blocks,
    a final layer norm and average pooling over the tokens that are not
    padding (id 0).

    Args:
        depth: encoder blocks.
        width: embedding size (the model dimension).
        dropout: rate on the embeddings and inside each block.

    Example:

    >>> import zoo
    >>> zoo.build("transformer.text", input_shape=(12,), num_classes=2,
    ...                   task="binary", vocab_size=100).output_shape
    (None, 1)
    """
    max_len = _max_len(x.shape[1], max_len)
    _check_heads(width, num_heads)
    x = layers.Embedding(vocab_size, width, mask_zero=mask_zero)(x)
    return _encode(x, max_len, depth, num_heads, ffn_width or 2 * width, activation,
                   kernel_initializer, l1, l2, dropout)


@register(
    "transformer.timeseries",
    input_kind="sequence",
    description="Dense projection of each time step + position embedding, `depth` "
    "self-attention blocks, average pooling; `mask_value` skips padded steps.",
)
def timeseries(x, *, max_len=None, mask_value=None, depth=2, width=32, num_heads=4,
               ffn_width=None, activation="gelu", kernel_initializer="glorot_uniform",
               l1=0.0, l2=0.0, dropout=0.1, augment=None):
    """Transformer encoder for continuous sequences (time series).

    A dense projection of each time step to `width`, learned position
    embeddings, `depth` self-attention blocks, a final layer norm and
    average pooling over the steps that are not masked.

    Args:
        depth: encoder blocks.
        width: size each time step is projected to (the model dimension).
        dropout: rate on the embeddings and inside each block.

    Example:

    >>> import zoo
    >>> zoo.build("transformer.timeseries", input_shape=(12, 3), num_classes=4).output_shape
    (None, 4)
    """
    max_len = _max_len(x.shape[1], max_len)
    _check_heads(width, num_heads)
    x = add_augmentation(x, augment, "sequence", mask_value)
    if mask_value is not None:
        x = layers.Masking(mask_value=mask_value)(x)
    x = layers.Dense(width, **kernel_kwargs(kernel_initializer, l1, l2))(x)
    return _encode(x, max_len, depth, num_heads, ffn_width or 2 * width, activation,
                   kernel_initializer, l1, l2, dropout)


@register(
    "transformer.vit",
    input_kind="image",
    description="Vision Transformer: non-overlapping patches linearly embedded (a "
    "strided conv), position embedding, `depth` self-attention blocks, average pooling.",
)
def vit(x, *, patch_size=None, depth=2, width=32, num_heads=4, ffn_width=None,
        activation="gelu", kernel_initializer="glorot_uniform", l1=0.0, l2=0.0, dropout=0.1,
        augment=None):
    """Vision Transformer (Dosovitskiy et al., 2021), small.

    The image is cut into non-overlapping `patch_size` squares, each
    linearly embedded (a strided conv), plus learned position embeddings;
    then `depth` self-attention blocks, a final layer norm and average
    pooling over the patches.

    Args:
        depth: encoder blocks.
        width: patch embedding size (the model dimension).
        dropout: rate on the embeddings and inside each block.

    Example:

    >>> import zoo
    >>> zoo.build("transformer.vit", input_shape=(8, 8, 1), num_classes=10,
    ...                   patch_size=4).output_shape
    (None, 10)
    """
    height, width_px = x.shape[1:3]
    patch_size = patch_size or _auto_patch(height, width_px)
    if height % patch_size or width_px % patch_size:
        allowed = [p for p in range(1, min(height, width_px) + 1)
                   if not height % p and not width_px % p]
        raise ValueError(
            f"`patch_size`={patch_size} must divide the image size {height}x{width_px}; "
            f"allowed: {allowed}."
        )
    _check_heads(width, num_heads)
    x = add_augmentation(x, augment, "image")
    # A conv with stride = kernel = patch is exactly a linear map of each patch.
    x = layers.Conv2D(width, patch_size, strides=patch_size,
                      **kernel_kwargs(kernel_initializer, l1, l2))(x)
    num_patches = (height // patch_size) * (width_px // patch_size)
    x = layers.Reshape((num_patches, width))(x)
    return _encode(x, num_patches, depth, num_heads, ffn_width or 2 * width, activation,
                   kernel_initializer, l1, l2, dropout)


def _encode(x, max_len, depth, num_heads, ffn_width, activation, kernel_initializer, l1, l2,
            dropout):
    x = PositionEmbedding(max_len)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    for _ in range(depth):
        x = TransformerEncoder(
            num_heads, ffn_width, dropout=dropout, activation=activation,
            **kernel_kwargs(kernel_initializer, l1, l2),
        )(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return layers.GlobalAveragePooling1D()(x)


def _max_len(length, max_len):
    if max_len is None:
        if length is None:
            raise ValueError(
                "`max_len` is required when the time axis of `input_shape` is None "
                "(the position table needs a size)."
            )
        return length
    if length is not None and length > max_len:
        raise ValueError(f"`max_len`={max_len} is shorter than the input length {length}.")
    return max_len


def _check_heads(width, num_heads):
    if width % num_heads:
        raise ValueError(
            f"`width`={width} must be divisible by `num_heads`={num_heads} "
            "(each head gets width // num_heads dimensions)."
        )


def _auto_patch(height, width):
    """Smallest power-of-two patch dividing both sides with at most 64 patches."""
    patch = 1
    while (height // patch) * (width // patch) > 64:
        if height % (2 * patch) or width % (2 * patch):
            break
        patch *= 2
    return patch
