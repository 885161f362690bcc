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
| `activation`        | hidden activation (RNN: the cell's activation);           |
|                     | `leaky_relu(negative_slope=0.01)` sets the slope          |
| `kernel_initializer`| `glorot_*`/`xavier_*`, `he_*`/`kaiming_*`, `lecun_*`, ...;|
|                     | a scale by parameters: `random_normal(stddev=0.5)`        |
| `l1`, `l2`          | weight penalties on every kernel (head included)          |
| `dropout`           | rate in [0, 1)                                            |
| `batch_norm`        | only where it fits (CNNs, MLP)                            |

Family options (`kernel_size`, `strides`, `padding`, `pooling`, `pool_size`,
`bidirectional`, `mask_value`, `vocab_size`, `max_len`, `num_heads`,
`ffn_width`, `patch_size`, ...) are listed by `zoo.describe(name).options`.

Each option is described once, in `DOCS`; `add_option_docs` writes the
`Args:` of every registered builder's docstring from it (a builder's own
`Args:` entry wins where an option means something more specific there).
"""

import functools
import inspect
import re
import textwrap

from zoo.core.checks import check_bool, check_choice, check_float, check_int, check_number, suggest
from zoo.models import augment, specs

ACTIVATIONS = (
    "elu", "gelu", "hard_sigmoid", "leaky_relu", "linear", "mish", "relu",
    "selu", "sigmoid", "silu", "softplus", "softsign", "tanh",
)
ACTIVATION_ALIASES = {"swish": "silu"}
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "lecun_normal", "lecun_uniform", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal",
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
    # "name" or "name(key=value, ...)": see zoo.models.specs.
    "activation": lambda a, v: specs.activation(a, v, ACTIVATIONS, ACTIVATION_ALIASES),
    "kernel_initializer": lambda a, v: specs.initializer(a, v, INITIALIZERS,
                                                         INITIALIZER_ALIASES),
    "l1": lambda a, v: check_number(a, v, 0),  # finite: Keras refuses inf at the layer
    "l2": lambda a, v: check_number(a, v, 0),
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
    "strides": _positive,
    "padding": lambda a, v: check_choice(a, v, ("same", "valid")),
    "pooling": lambda a, v: check_choice(a, v, ("average", "max"), {"avg": "average"}),
    "pool_size": _positive,
    "augment": augment.check_augment,
}


# One description per option; `add_option_docs` appends the default.
DOCS = {
    "depth": "how many repeated blocks or layers.",
    "width": "size of the first block: filters, units or embedding size.",
    "kernel_size": "size of the convolution kernels.",
    "convs_per_block": "convolutions in each block.",
    "blocks_per_stage": "residual blocks in each stage.",
    "activation": f"hidden activation, one of {list(ACTIVATIONS)} (or 'swish'); "
    "'leaky_relu(negative_slope=0.01)' sets the slope (Keras's default is 0.2).",
    "kernel_initializer": f"initializer of every kernel, one of {list(INITIALIZERS)} "
    "(or 'xavier_*', 'kaiming_*'); a scale by parameters: 'random_normal(stddev=0.5)', "
    "'truncated_normal(mean=..., stddev=...)', 'random_uniform(minval=..., maxval=...)'.",
    "l1": "L1 penalty on every kernel, the head's included.",
    "l2": "L2 penalty on every kernel, the head's included.",
    "dropout": "dropout rate in [0, 1); 0 adds no dropout layer.",
    "batch_norm": "batch normalization after each convolution or dense layer.",
    "bidirectional": "wrap each recurrent layer in `keras.layers.Bidirectional`.",
    "mask_value": "time steps whose features all equal it are skipped (padding); "
    "None masks nothing.",
    "mask_zero": "token id 0 is padding and masked.",
    "vocab_size": "number of token ids (ids are 0 .. vocab_size - 1).",
    "embedding_dim": "size of the token embedding; None uses `width`.",
    "max_len": "longest sequence the position table holds; None uses the input's "
    "length (required when that length is None).",
    "num_heads": "attention heads per block; must divide `width`.",
    "ffn_width": "hidden units of each block's feed-forward layer; None is 2 * `width`.",
    "patch_size": "side of the square patches; None picks the smallest power of two "
    "giving at most 64 patches.",
    "strides": "stride of every convolution.",
    "padding": "'same' keeps a convolution's (or pooling's) output as long as its input "
    "divided by the stride; 'valid' only slides over whole windows, so each one shrinks "
    "the feature map.",
    "pooling": "'max' or 'average' pooling.",
    "pool_size": "pooling window (and stride) along each spatial axis.",
    "augment": "random transformations right after the input, in training only (saved "
    "with the model): names separated by commas or a dict of strengths; images take "
    f"{list(augment.IMAGE)}, sequences {list(augment.SEQUENCE)}; e.g. 'flip,rotate=0.2' "
    "or {'zoom': 0.2}. None adds none. See zoo.models.augment.",
}
_ENTRY = re.compile(r"^    (\w+):")


def add_option_docs(doc, defaults):
    """`doc` with an `Args:` entry for every option in `defaults`, in order.

    An entry the builder's docstring already has is kept; the others come
    from `DOCS`. Each entry ends with the option's default.

    Args:
        doc: the builder's docstring (summary, optional `Args:`, `Example:`).
        defaults: the builder's keyword-only options and their defaults.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    start = lines.index("Args:") if "Args:" in lines else None
    own, end, name = {}, start, None
    if start is not None:
        end = start + 1
        while end < len(lines) and lines[end].strip():
            match = _ENTRY.match(lines[end])
            if match:
                name = match.group(1)
                own[name] = []
            elif name is None:
                raise ValueError(f"`Args:` entries must read '    option: text'; got "
                                 f"{lines[end]!r}.")
            own[name].append(lines[end])
            end += 1
    stray = sorted(set(own) - set(defaults))
    undocumented = sorted(set(defaults) - set(own) - set(DOCS))
    if stray or undocumented:
        raise ValueError(
            f"A builder's `Args:` must describe its options (keyword-only arguments): "
            f"it describes {stray}, which it does not take, and {undocumented} have no "
            "description here or in zoo.models.options.DOCS."
        )
    args = ["Args:"]
    for name, default in defaults.items():
        text = " ".join(line.strip() for line in own[name]) if name in own \
            else f"{name}: {DOCS[name]}"
        text += " Required." if default is REQUIRED else f" Defaults to `{default!r}`."
        args += ["    " + line for line in textwrap.wrap(text, 76, subsequent_indent="    ")]
    if start is None:  # no Args: section yet: put it before the example
        start = end = next((i for i, line in enumerate(lines) if line == "Example:"),
                           len(lines))
        while start and not lines[start - 1].strip():
            start -= 1
        args = ([""] if start else []) + args + ([""] if end < len(lines) else [])
    return "\n".join(lines[:start] + args + lines[end:]) + "\n"


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
