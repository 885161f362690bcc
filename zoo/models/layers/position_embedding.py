import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each position to a sequence.

    Keras has `Embedding` for token ids but no layer for positions. This one
    holds a `(max_len, dim)` table and adds its first `T` rows to inputs of
    shape `(batch, T, dim)`, so a model built with an unknown `T` accepts
    any length up to `max_len`. It passes the incoming padding mask on.

    Args:
        max_len: the longest sequence the table covers.
        initializer: initializer of the table.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> import keras
    >>> from zoo.models.layers import PositionEmbedding
    >>> x = keras.ops.zeros((2, 5, 8))
    >>> tuple(PositionEmbedding(max_len=10)(x).shape)
    (2, 5, 8)
    """

    def __init__(self, max_len, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_len = int(max_len)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_len": self.max_len,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config

    def build(self, input_shape):
        length = input_shape[1]
        if length is not None and length > self.max_len:
            raise ValueError(
                f"Sequence length {length} exceeds `max_len`={self.max_len} of {self.name!r}."
            )
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_len, input_shape[-1]),
            initializer=self.initializer,
        )

    def call(self, inputs):
        length = ops.shape(inputs)[1]
        # A tensor, not the variable itself: JAX cannot slice a Variable
        # inside a traced function.
        table = ops.convert_to_tensor(self.embeddings)
        positions = ops.slice(table, (0, 0), (length, ops.shape(inputs)[-1]))
        return inputs + ops.cast(positions, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
