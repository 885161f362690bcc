"""Input kinds: which `input_shape` each accepts and how it reaches a builder.

| kind       | `input_shape` (batch axis excluded) | notes                          |
|------------|-------------------------------------|--------------------------------|
| `image`    | `(H, W)` or `(H, W, C)`             | `(H, W)` gets a channel axis   |
| `sequence` | `(T,)` or `(T, F)`, `T` may be None | `(T,)` gets a feature axis     |
| `tokens`   | `(T,)`, `T` may be None             | integer ids, 0 is padding      |
| `features` | `(F,)` or any higher rank           | higher ranks are flattened     |

A `None` time axis lets one model take batches padded to different lengths.
"""

from zoo.core.checks import check_choice

INPUT_KINDS = ("features", "image", "sequence", "tokens")

# A small shape of each kind: what tests and tools build every model with.
EXAMPLE_SHAPES = {
    "features": (10,),
    "image": (8, 8, 1),
    "sequence": (12, 3),
    "tokens": (12,),
}
_RANKS = {"image": (2, 3), "sequence": (1, 2), "tokens": (1,), "features": None}
_FORMS = {
    "image": "(H, W) or (H, W, C)",
    "sequence": "(T,) or (T, F)",
    "tokens": "(T,)",
    "features": "(F,) or any higher rank",
}


def check_input_kind(input_kind):
    return check_choice("input_kind", input_kind, INPUT_KINDS)


def check_input_shape(input_shape, input_kind, model):
    """Return `input_shape` as a tuple after checking it suits `input_kind`."""
    form = _FORMS[input_kind]
    if input_shape is None:
        raise ValueError(
            f"`input_shape` is required for {model!r} ({input_kind} input): "
            f"{form} without the batch axis, e.g. {EXAMPLE_SHAPES[input_kind]}."
        )
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    try:
        if isinstance(input_shape, str):
            raise TypeError
        shape = tuple(input_shape)
    except TypeError:
        raise TypeError(
            f"`input_shape` must be a tuple of ints, {form}; got {input_shape!r}."
        ) from None
    ranks = _RANKS[input_kind]
    if not shape or (ranks is not None and len(shape) not in ranks):
        raise ValueError(
            f"`input_shape`={shape} does not fit {model!r}: {input_kind} input "
            f"must be {form} (batch axis excluded)."
        )
    # Only the time axis of sequences and tokens may be unknown.
    may_be_none = {0} if input_kind in ("sequence", "tokens") else set()
    for axis, size in enumerate(shape):
        if size is None and axis in may_be_none:
            continue
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"`input_shape`={shape} must hold positive ints"
                + (" (None allowed for the time axis)" if may_be_none else "")
                + f"; axis {axis} is {size!r}."
            )
    return shape


def adapt(inputs, input_kind):
    """Bring a `keras.Input` of `input_kind` to the rank its builders expect."""
    from keras import layers

    shape = tuple(inputs.shape[1:])
    if input_kind == "image" and len(shape) == 2:
        return layers.Reshape(shape + (1,), name="add_channel")(inputs)
    if input_kind == "sequence" and len(shape) == 1:
        return layers.Reshape((-1, 1), name="add_feature")(inputs)
    if input_kind == "features" and len(shape) > 1:
        return layers.Flatten(name="flatten_input")(inputs)
    return inputs
