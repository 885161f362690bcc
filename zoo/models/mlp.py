"""`mlp.baseline`: the multilayer perceptron every other model should beat."""

from zoo.models._blocks import dense_block
from zoo.models.registry import register


@register(
    "mlp.baseline",
    input_kind="features",
    description="`depth` dense layers of `width` units (optional BN, dropout); "
    "images and other higher-rank inputs are flattened.",
)
def baseline(x, *, depth=2, width=64, activation="relu", kernel_initializer="he_uniform",
             l1=0.0, l2=0.0, dropout=0.0, batch_norm=False):
    """A multilayer perceptron: `depth` dense layers of `width` units, each
    optionally followed by batch normalization and dropout.

    The baseline every other model should beat. Images and other inputs of
    higher rank are flattened first.

    Args:
        depth: hidden dense layers.
        width: units of every hidden layer.
        dropout: rate after each hidden layer.

    Example:

    >>> import zoo
    >>> model = zoo.build("mlp.baseline", input_shape=(10,), num_classes=3)
    >>> model.output_shape
    (None, 3)
    """
    for _ in range(depth):
        x = dense_block(x, width, activation=activation, kernel_initializer=kernel_initializer,
                        l1=l1, l2=l2, batch_norm=batch_norm, dropout=dropout)
    return x
