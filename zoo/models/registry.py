"""The model registry: `register`, `list_models`, `describe` and `build`.

A builder is a function `builder(x, *, option=default, ...)` that takes the
adapted `keras.Input` tensor (see `zoo.models.inputs`) and returns a rank-2 feature
tensor; `build` adds the task's head (`zoo.models.heads`) and wraps it in a
`keras.Model`. Its keyword-only arguments are the model's options: `build`
checks the user's options against them (`zoo.models.options.resolve`) before any
layer is created. Its docstring says what the model is and shows an example;
`register` completes its `Args:` with every option and its default
(`zoo.models.options.add_option_docs`), and `describe` shows it.
"""

import dataclasses
import inspect

from zoo.core import tasks
from zoo.models import heads, inputs, options, size
from zoo.core.checks import check_choice, check_int

_REGISTRY = {}
# Options that make a model large, named when it is too large.
_SIZE_OPTIONS = ("num_classes", "depth", "width", "convs_per_block", "blocks_per_stage",
                 "kernel_size", "vocab_size", "embedding_dim", "ffn_width", "num_heads",
                 "max_len", "patch_size")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What `describe` returns; also readable as a mapping (`info["name"]`).

    `str(info)` (or `print(info)`) is the model's documentation: its input
    kind, an example input shape and the builder's docstring (`info.doc`),
    which lists every option with its default.
    """

    name: str
    family: str
    input_kind: str
    description: str
    options: dict  # option -> default (`zoo.models.options.REQUIRED` if none)
    example_input_shape: tuple
    builder: object = dataclasses.field(repr=False, compare=False)
    doc: str = dataclasses.field(default="", repr=False, compare=False)

    @property
    def required(self):
        """Options without a default, which `build` must be given."""
        return tuple(k for k, v in self.options.items() if v is options.REQUIRED)

    def __getitem__(self, key):
        return self.to_dict()[key]

    def __str__(self):
        return (
            f"{self.name}: {self.input_kind} input, e.g. "
            f"input_shape={self.example_input_shape}.\n\n{self.doc}"
        )

    def to_dict(self):
        return {
            "name": self.name,
            "family": self.family,
            "input_kind": self.input_kind,
            "description": self.description,
            "options": dict(self.options),
            "required": self.required,
            "example_input_shape": self.example_input_shape,
            "doc": self.doc,
        }


def register(name, *, input_kind, description):
    """Decorator adding a builder to the registry under `family.variant`.

    The builder's docstring gets an `Args:` entry for each of its options,
    with its default: its own entries are kept, the others come from
    `zoo.models.options.DOCS`.

    Args:
        name: `"family.variant"`, e.g. `"cnn.resnet"`.
        input_kind: one of `"image"`, `"sequence"`, `"tokens"`, `"features"`.
        description: one line for `list_models`/`describe`.

    Example:

    >>> import keras, zoo
    >>> @zoo.register("mlp.tiny", input_kind="features", description="One layer.")
    ... def tiny(x, *, width=8, activation="relu"):
    ...     "One dense layer."
    ...     return keras.layers.Dense(width, activation=activation)(x)
    >>> zoo.build("mlp.tiny", input_shape=(4,), num_classes=3).output_shape
    (None, 3)
    >>> print(tiny.__doc__)
    One dense layer.
    <BLANKLINE>
    Args:
        width: size of the first block: filters, units or embedding size. Defaults to `8`.
        activation: hidden activation, one of ... Defaults to `'relu'`.
    """
    family, _, variant = name.partition(".")
    if not family or not variant:
        raise ValueError(f"Model name {name!r} must look like 'family.variant'.")
    input_kind = inputs.check_input_kind(input_kind)

    def decorator(builder):
        if name in _REGISTRY:
            raise ValueError(f"Model {name!r} is already registered.")
        params = inspect.signature(builder).parameters.values()
        defaults = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
        unchecked = sorted(set(defaults) - set(options.VALIDATORS))
        if unchecked:
            raise ValueError(
                f"Options {unchecked} of {name!r} have no validator in zoo.models.options.VALIDATORS."
            )
        builder.__doc__ = options.add_option_docs(builder.__doc__, defaults)
        _REGISTRY[name] = ModelInfo(
            name=name,
            family=family,
            input_kind=input_kind,
            description=description,
            options=defaults,
            example_input_shape=inputs.EXAMPLE_SHAPES[input_kind],
            builder=builder,
            doc=builder.__doc__,
        )
        return builder

    return decorator


def list_models(input_kind=None, family=None):
    """Sorted registered names, optionally only one input kind or family."""
    if input_kind is not None:
        input_kind = inputs.check_input_kind(input_kind)
    families = {info.family for info in _REGISTRY.values()}
    if family is not None:
        check_choice("family", family, families, exact=True)
    return sorted(
        name
        for name, info in _REGISTRY.items()
        if input_kind in (None, info.input_kind) and family in (None, info.family)
    )


def describe(name):
    """The `ModelInfo` of a registered model: name, input kind, options, docs.

    `print(zoo.describe(name))` shows the model's documentation: what it
    is, every option with its default, and an example.

    Example:

    >>> import zoo
    >>> info = zoo.describe("cnn.simple")
    >>> info.input_kind, info.options["depth"]
    ('image', 2)
    >>> print(info)
    cnn.simple: image input, e.g. input_shape=(8, 8, 1).
    <BLANKLINE>
    A plain CNN: ...
    Args:
        depth: ... Defaults to `2`.
        width: ... Defaults to `32`.
        ...
    Example:
    ...
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a model name string; got {type(name).__name__}.")
    return _REGISTRY[check_choice("name", name, _REGISTRY, exact=True)]


def build(name, input_shape=None, num_classes=None, task="multiclass", *,
          max_params=size.MAX_PARAMS, **model_options):
    """Build a registered model with the head for `task`.

    Args:
        name: a name from `list_models()`.
        input_shape: shape of one sample, by the model's input kind:
            image `(H, W[, C])`, sequence `(T[, F])`, tokens `(T,)`,
            features `(F, ...)`; a sequence/token `T` may be `None`.
        num_classes: classes (binary: 2 or 1; multiclass: >= 2), labels
            (multilabel) or targets (regression, default 1).
        task: `"binary"`, `"multiclass"`, `"multilabel"` or `"regression"`.
            Defaults to `"multiclass"`: unlike `compile_model` and
            `evaluate`, `build` has no model or labels to infer it from
            (`"auto"` is not accepted), so pass it for any other task.
        max_params: the most parameters the model may have (default 10**8,
            400 MB of float32 weights); counted before any weight is
            allocated, so a model too large for memory fails with the options
            that made it large, not with an out-of-memory error.
        **model_options: the model's options, see `print(describe(name))`.

    Returns:
        An uncompiled `keras.Model`; see `zoo.compile_model`.

    Example:

    >>> import zoo
    >>> model = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    >>> zoo.build("mlp.baseline", input_shape=(5,), task="regression").output_shape
    (None, 1)
    """
    info = describe(name)
    shape = inputs.check_input_shape(input_shape, info.input_kind, name)
    units = tasks.output_units(task, num_classes)  # checks `task` too
    resolved = options.resolve(name, model_options, info.options)
    max_params = check_int("max_params", max_params, 1)

    def assemble():
        import keras

        dtype = "int32" if info.input_kind == "tokens" else None
        model_input = keras.Input(shape=shape, dtype=dtype, name="inputs")
        features = info.builder(inputs.adapt(model_input, info.input_kind), **resolved)
        outputs = heads.add_head(
            features, task, units, l1=resolved.get("l1", 0.0), l2=resolved.get("l2", 0.0)
        )
        return keras.Model(model_input, outputs, name=name.replace(".", "_"))

    count = size.count_before_building(assemble)
    if count > max_params:
        given = {"num_classes": num_classes, **model_options}
        sizes = ", ".join(f"`{k}`={v!r}" for k, v in given.items()
                          if k in _SIZE_OPTIONS and v is not None)
        raise ValueError(
            f"zoo.build({name!r}): the model would have {count:,} parameters "
            f"({count * 4 / 1e9:.1f} GB of float32 weights) for input_shape={shape}"
            f"{' with ' + sizes if sizes else ''}; allowed: up to `max_params`="
            f"{max_params:,}. Use a smaller depth, width or num_classes (a deep "
            "stack on a small input keeps doubling its filters), or raise `max_params`.")
    return assemble()
