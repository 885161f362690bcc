import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoder(keras.layers.Layer):
    """One pre-norm transformer encoder block.

    `x + MHA(LN(x))`, then `x + FFN(LN(x))`, with dropout on both branches.
    Keras provides the parts (`MultiHeadAttention`, `LayerNormalization`,
    `Dense`) but no block; this one also turns the incoming padding mask
    into an attention mask, so padded positions are never attended to, and
    passes the mask on to the next layer.

    Args:
        num_heads: attention heads; the input size must be divisible by it.
        ffn_width: hidden size of the feed-forward network.
        dropout: rate for attention weights and both residual branches.
        activation: activation of the feed-forward network.
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: regularizer of every kernel, or `None`.
        epsilon: `LayerNormalization` epsilon.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> import keras
    >>> from zoo.models.layers import TransformerEncoder
    >>> x = keras.ops.ones((2, 5, 8))
    >>> tuple(TransformerEncoder(num_heads=2, ffn_width=16)(x).shape)
    (2, 5, 8)
    """

    def __init__(
        self,
        num_heads,
        ffn_width,
        dropout=0.0,
        activation="gelu",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.ffn_width = int(ffn_width)
        self.dropout = float(dropout)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "ffn_width": self.ffn_width,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "epsilon": self.epsilon,
            }
        )
        return config

    def build(self, input_shape):
        width = input_shape[-1]
        if width % self.num_heads:
            raise ValueError(
                f"Input size {width} of {self.name!r} must be divisible by "
                f"`num_heads`={self.num_heads}."
            )
        weights = {
            "kernel_initializer": self.kernel_initializer,
            "kernel_regularizer": self.kernel_regularizer,
        }
        self.attention_norm = layers.LayerNormalization(epsilon=self.epsilon, name="attention_norm")
        self.attention = layers.MultiHeadAttention(
            self.num_heads, width // self.num_heads, dropout=self.dropout,
            name="attention", **weights,
        )
        self.ffn_norm = layers.LayerNormalization(epsilon=self.epsilon, name="ffn_norm")
        self.ffn_hidden = layers.Dense(
            self.ffn_width, activation=self.activation, name="ffn_hidden", **weights
        )
        self.ffn_output = layers.Dense(width, name="ffn_output", **weights)
        self.dropout_layer = layers.Dropout(self.dropout)
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ffn_norm.build(input_shape)
        self.ffn_hidden.build(input_shape)
        self.ffn_output.build(tuple(input_shape[:-1]) + (self.ffn_width,))

    def call(self, inputs, mask=None, training=None):
        attention_mask = None
        if mask is not None:
            # (batch, 1, T): every query sees the real keys only.
            attention_mask = ops.expand_dims(ops.cast(mask, "bool"), axis=1)
        x = self.attention_norm(inputs)
        x = self.attention(x, x, attention_mask=attention_mask, training=training)
        x = inputs + self.dropout_layer(x, training=training)
        y = self.ffn_output(self.ffn_hidden(self.ffn_norm(x)))
        return x + self.dropout_layer(y, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape
