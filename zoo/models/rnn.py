"""Recurrent networks: `rnn.simple_rnn`, `rnn.lstm`, `rnn.gru` read continuous
sequences; their `*_tokens` twins read integer token ids through an
`Embedding`.

Padding: token models treat id 0 as padding (`mask_zero=True`); sequence
models skip the time steps whose features all equal `mask_value` (default
`None`: no masking). Masked steps change neither the state nor the output,
so a sample predicts the same however much padding follows it.

`print(zoo.describe(name))` shows each one's documentation and options.

Example:

>>> import zoo
>>> zoo.build("rnn.gru", input_shape=(None, 3), num_classes=4).output_shape
(None, 4)
"""

import functools

from keras import layers

from zoo.models.augment import add_augmentation
from zoo.models.options import REQUIRED, kernel_kwargs
from zoo.models.registry import register


def _sequence_rnn(cell, x, *, depth=1, width=32, bidirectional=False, mask_value=None,
                  activation="tanh", kernel_initializer="glorot_uniform", l1=0.0, l2=0.0,
                  dropout=0.0, augment=None):
    x = add_augmentation(x, augment, "sequence", mask_value)
    if mask_value is not None:
        x = layers.Masking(mask_value=mask_value)(x)
    return _stack(cell, x, depth, width, bidirectional, activation, kernel_initializer,
                  l1, l2, dropout)


def _token_rnn(cell, x, *, vocab_size=REQUIRED, embedding_dim=None, mask_zero=True, depth=1,
               width=32, bidirectional=False, activation="tanh",
               kernel_initializer="glorot_uniform", l1=0.0, l2=0.0, dropout=0.0):
    x = layers.Embedding(vocab_size, embedding_dim or width, mask_zero=mask_zero)(x)
    return _stack(cell, x, depth, width, bidirectional, activation, kernel_initializer,
                  l1, l2, dropout)


def _stack(cell, x, depth, width, bidirectional, activation, kernel_initializer, l1, l2,
           dropout):
    for i in range(depth):
        layer = getattr(layers, cell)(
            width, activation=activation, return_sequences=i < depth - 1,
            **kernel_kwargs(kernel_initializer, l1, l2),
        )
        x = layers.Bidirectional(layer)(x) if bidirectional else layer(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


_DOC = """{head}

{reads} The last layer's final state is the feature vector.

Args:
    depth: stacked recurrent layers.
    width: units of every recurrent layer.
    activation: the cell's activation.
    dropout: rate after each recurrent layer.

Example:

>>> import zoo
>>> model = zoo.build({build})
>>> model.output_shape
{shape}
"""
_SEQUENCE_DOC = dict(
    head="`depth` stacked `keras.layers.{cell}` layers over continuous sequences.",
    reads="Reads `(T,)` or `(T, F)` inputs; time steps whose features all equal "
          "`mask_value` are skipped.",
    build='"rnn.{variant}", input_shape=(12, 3), num_classes=4',
    shape="(None, 4)",
)
_TOKEN_DOC = dict(
    head="`keras.layers.Embedding`, then `depth` stacked `keras.layers.{cell}` layers.",
    reads="Reads integer token ids of shape `(T,)`; id 0 is padding and masked "
          "(`mask_zero=True`).",
    build='"rnn.{variant}_tokens", input_shape=(12,), num_classes=2,\n'
          '...                   task="binary", vocab_size=100',
    shape="(None, 1)",
)


def _builder(template, cell, variant):
    builder = functools.partial(template, cell)
    parts = _SEQUENCE_DOC if template is _sequence_rnn else _TOKEN_DOC
    builder.__doc__ = _DOC.format(**{key: text.format(cell=cell, variant=variant)
                                     for key, text in parts.items()})
    return builder


_NAMES = {"simple_rnn": ("SimpleRNN", "Elman RNN"), "lstm": ("LSTM", "LSTM"),
          "gru": ("GRU", "GRU")}
_KINDS = (  # (name suffix, input kind, builder template, description)
    ("", "sequence", _sequence_rnn, "Stacked {title} layers over continuous sequences (T,) "
     "or (T, F); optional bidirectional, `mask_value` skips padded steps."),
    ("_tokens", "tokens", _token_rnn, "Embedding + stacked {title} layers over integer token "
     "ids; id 0 is padding and masked. Needs `vocab_size`."),
)
for _variant, (_cell, _title) in _NAMES.items():
    for _suffix, _kind, _template, _description in _KINDS:
        register(f"rnn.{_variant}{_suffix}", input_kind=_kind,
                 description=_description.format(title=_title),
                 )(_builder(_template, _cell, _variant))
