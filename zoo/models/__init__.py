"""Models: the registry, the builders of each family, heads and options.

Importing this package registers every builder and the custom layers, so
`.keras` files load with `keras.saving.load_model(path)` and no
`custom_objects`.
"""

from zoo.models import activations, layers  # noqa: F401  (registers the custom objects)
from zoo.models.layers.center_loss import with_center_loss  # noqa: F401
from zoo.models import cnn, mlp, rnn, transformer  # noqa: F401
