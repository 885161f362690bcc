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
    for _ in range(depth):
        x = dense_block(x, width, activation=activation, kernel_initializer=kernel_initializer,
                        l1=l1, l2=l2, batch_norm=batch_norm, dropout=dropout)
    return x
