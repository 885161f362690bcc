"""The `augment=` option: random transformations right after a model's input.

Augmentation makes a small training set larger and more varied (each epoch
sees every sample slightly changed), which narrows the gap between training
and validation scores. Here it is part of the model, as Keras recommends for
GPU training: the layers are active in `fit` only, the identity in `predict`
and `evaluate`, and saved with the model (a `.keras` file reloads in safe
mode).

| input    | name        | strength (default)                  | layer                    |
|----------|-------------|-------------------------------------|--------------------------|
| image    | `flip`      | 'horizontal' (or 'vertical',        | `keras.layers.RandomFlip`|
|          |             | 'horizontal_and_vertical')          |                          |
| image    | `rotate`    | fraction of a full turn, 0.1        | `RandomRotation`         |
| image    | `zoom`      | fraction of the size, 0.1           | `RandomZoom`             |
| image    | `translate` | fraction of the size, 0.1           | `RandomTranslation`      |
| image    | `contrast`  | relative change, 0.2 (no clipping)  | `RandomContrast`         |
| sequence | `shift`     | fraction of the length, 0.1         | `zoo...RandomShift`      |
| sequence | `scale`     | relative change, 0.1                | `zoo...RandomScaling`    |
| sequence | `jitter`    | noise standard deviation, 0.03      | `zoo...RandomJitter`     |

`augment` is None (none), names separated by commas (`"flip,rotate"`,
`"rotate=0.2,zoom"`), a list of names, or a dict of strengths
(`{"rotate": 0.2, "flip": "vertical"}`; None or True take the default).
The layers are applied in the order of the table. Calling a model directly
as `model(x)` leaves Keras's image layers on (their `training` defaults to
True, unlike `Dropout`'s): pass `training=False`, or use `predict`.

Example:

>>> from zoo.models.augment import check_augment
>>> check_augment("augment", "zoom, rotate=0.2")
{'rotate': 0.2, 'zoom': 0.1}
"""

import math
import numbers

from zoo.core.checks import check_choice, suggest

_FLIPS = ("horizontal", "vertical", "horizontal_and_vertical")
# name: (default strength, highest strength or the allowed strings)
IMAGE = {"flip": ("horizontal", _FLIPS), "rotate": (0.1, 1.0), "zoom": (0.1, 1.0),
         "translate": (0.1, 1.0), "contrast": (0.2, 1.0)}
SEQUENCE = {"shift": (0.1, 1.0), "scale": (0.1, 1.0), "jitter": (0.03, math.inf)}
KINDS = {"image": IMAGE, "sequence": SEQUENCE}
_ALL = {**IMAGE, **SEQUENCE}
_FORMS = ("None, names separated by commas ('flip,rotate=0.2'), a list of names or a "
          "dict of strengths ({'rotate': 0.2})")


def check_augment(argument, value):
    """`value` as a dict `{name: strength}` in table order (`{}` for none).

    Args:
        argument: the option's name, for messages.
        value: what the user passed (see the module docstring).
    """
    if value is None:
        return {}
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        given = {}
        for item in value:
            if not isinstance(item, str):
                raise TypeError(f"`{argument}` must be {_FORMS}; got {item!r} in a list.")
            name, _, strength = item.partition("=")
            given[name] = _number(strength) if strength else None
        value = given
    if not isinstance(value, dict):
        raise TypeError(f"`{argument}` must be {_FORMS}; got {value!r}.")
    found = {}
    for name, strength in value.items():
        if not isinstance(name, str) or _key(name) not in _ALL:
            raise ValueError(
                f"`{argument}`: unknown augmentation {name!r}; image models take "
                f"{list(IMAGE)}, sequence models {list(SEQUENCE)}."
                + suggest(_key(name) if isinstance(name, str) else name, _ALL))
        name = _key(name)
        found[name] = _strength(argument, name, strength)
    return {name: found[name] for name in _ALL if name in found}


def _key(name):
    return name.strip().lower()


def _number(text):
    try:
        return float(text)
    except ValueError:
        return text.strip()  # a flip mode, checked with the others


def _strength(argument, name, strength):
    default, allowed = _ALL[name]
    if strength is None or strength is True:
        return default
    if isinstance(allowed, tuple):
        return check_choice(f"{argument}['{name}']", strength, allowed)
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not (
            0 < strength <= allowed):
        bound = "" if allowed == math.inf else f" and <= {allowed:g}"
        raise ValueError(f"`{argument}['{name}']` must be a number > 0{bound} (default "
                         f"{default}), None or True; got {strength!r}.")
    return float(strength)


def add_augmentation(x, augment, input_kind, mask_value=None):
    """`x` through the layers of `augment` (checked), for an `input_kind` model.

    Args:
        x: the adapted input tensor (images `(H, W, C)`, sequences `(T, F)`).
        augment: what `check_augment` returned.
        input_kind: `"image"` or `"sequence"`.
        mask_value: the sequence model's padding value, kept as it is.
    """
    table = KINDS[input_kind]
    other = sorted(set(augment) - set(table))
    if other:
        raise ValueError(f"`augment`: {other} are not for {input_kind} models; they take "
                         f"{list(table)}.")
    from keras import layers

    from zoo.models.layers import augmentation

    image_layers = {"flip": layers.RandomFlip, "rotate": layers.RandomRotation,
                    "zoom": layers.RandomZoom}
    sequence_layers = {"shift": augmentation.RandomShift, "scale": augmentation.RandomScaling,
                       "jitter": augmentation.RandomJitter}

    def layer(name, strength):
        name_ = f"augment_{name}"
        if name == "translate":
            return layers.RandomTranslation(strength, strength, name=name_)
        if name == "contrast":  # Keras clips to 0..255 by default: not standardized data
            return layers.RandomContrast(strength, value_range=(-1e30, 1e30), name=name_)
        if name in SEQUENCE:
            return sequence_layers[name](strength, mask_value=mask_value, name=name_)
        return image_layers[name](strength, name=name_)

    for name, strength in augment.items():
        x = layer(name, strength)(x)
    return x
