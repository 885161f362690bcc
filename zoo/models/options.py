"""The options every zoo builder understands, checked in one place.

A builder declares its options as keyword-only arguments with defaults; the
registry passes the user's options through `resolve()` before calling it, so
builders receive canonical, validated values and never check them again.

One naming scheme holds across all families:

| option              | meaning                                                   |
|---------------------|-----------------------------------------------------------|
| `depth`             | how many repeated blocks/layers (conv blocks, stages,     |
|                     | stacked RNN layers, transformer blocks, hidden layers)    |
| `width`             | size of the first block: filters, units, embedding size   |
| `activation`        | hidden activation (RNN: the cell's activation)            |
| `kernel_initializer`| `glorot_*`/`xavier_*`, `he_*`/`kaiming_*`, `lecun_*`, ... |
| `l1`, `l2`          | weight penalties on every kernel (head included)          |
| `dropout`           | rate in [0, 1)                                            |
| `batch_norm`        | only where it fits (CNNs, MLP)                            |

Family options (`kernel_size`, `bidirectional`, `mask_value`, `vocab_size`,
`max_len`, `num_heads`, `ffn_width`, `patch_size`, ...) are listed by
`zoo.describe(name).options`.
"""

import functools

from zoo.core.checks import check_bool, check_choice, check_float, check_int, suggest

ACTIVATIONS = (
    "elu", "gelu", "hard_sigmoid", "leaky_relu", "linear", "mish", "relu",
    "selu", "sigmoid", "silu", "softplus", "softsign", "tanh",
)
ACTIVATION_ALIASES = {"swish": "silu"}
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform", "orthogonal",
)
INITIALIZER_ALIASES = {
    "xavier_normal": "glorot_normal",
    "xavier_uniform": "glorot_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
}
# Names users bring from other libraries, mapped to ours for the error message.
SYNONYMS = {
    "num_layers": "depth", "layers": "depth", "n_layers": "depth", "num_blocks": "depth",
    "units": "width", "filters": "width", "hidden_units": "width", "hidden_size": "width",
    "embed_dim": "width", "d_model": "width", "init": "kernel_initializer",
    "initializer": "kernel_initializer", "dropout_rate": "dropout", "rate": "dropout",
    "batchnorm": "batch_norm", "use_batch_norm": "batch_norm", "heads": "num_heads",
    "maxlen": "max_len", "sequence_length": "max_len", "input_dim": "vocab_size",
}


class _Required:
    def __repr__(self):
        return "REQUIRED"


# Default of a builder option the user must always give (e.g. `vocab_size`).
REQUIRED = _Required()


def _optional(check):
    """Let `None` through (meaning "derive it"), otherwise apply `check`."""

    @functools.wraps(check)
    def wrapped(argument, value):
        return None if value is None else check(argument, value)

    return wrapped


_positive = functools.partial(check_int, minimum=1)
VALIDATORS = {
    "activation": lambda a, v: check_choice(a, v, ACTIVATIONS, ACTIVATION_ALIASES),
    "kernel_initializer": lambda a, v: check_choice(a, v, INITIALIZERS, INITIALIZER_ALIASES),
    "l1": check_float,
    "l2": check_float,
    "dropout": lambda a, v: check_float(a, v, 0.0, 1.0),
    "batch_norm": check_bool,
    "depth": _positive,
    "width": _positive,
    "kernel_size": _positive,
    "convs_per_block": _positive,
    "blocks_per_stage": _positive,
    "bidirectional": check_bool,
    "mask_value": _optional(lambda a, v: check_float(a, v, low=float("-inf"))),
    "mask_zero": check_bool,
    "vocab_size": functools.partial(check_int, minimum=2),
    "embedding_dim": _optional(_positive),
    "max_len": _optional(_positive),
    "num_heads": _positive,
    "ffn_width": _optional(_positive),
    "patch_size": _optional(_positive),
}


def resolve(model, given, defaults):
    """Validate `given` options of `model` against its `defaults`.

    Args:
        model: registered model name, for messages.
        given: the options the user passed to `zoo.build`.
        defaults: the builder's keyword-only defaults (`REQUIRED` marks
            options without a default).

    Returns:
        A dict with every option of the builder, canonical and validated.
    """
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        hints = []
        for name in unknown:
            hint = SYNONYMS.get(name)
            hints.append(
                f" `{name}`: did you mean {hint!r}?" if hint in defaults
                else suggest(name, defaults)
            )
        raise TypeError(
            f"Unknown option(s) {unknown} for model {model!r}.{''.join(hints)} "
            f"Allowed options: {sorted(defaults)}."
        )
    resolved = {}
    for name, default in defaults.items():
        value = given.get(name, default)
        if value is REQUIRED:
            raise ValueError(f"Model {model!r} needs the option `{name}`.")
        resolved[name] = VALIDATORS[name](name, value)
    return resolved


def kernel_kwargs(kernel_initializer, l1, l2):
    """`kernel_initializer`/`kernel_regularizer` keyword arguments for a layer."""
    import keras

    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    return {"kernel_initializer": kernel_initializer, "kernel_regularizer": regularizer}
