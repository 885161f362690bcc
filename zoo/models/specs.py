"""Option values with parameters: `"name"` or `"name(key=value, ...)"`.

Keras takes an activation or an initializer by name with its default
parameters (`"leaky_relu"` has slope 0.2, `"random_normal"` a standard
deviation of 0.05); other parameters need an object, which a registry
option, a keras-tuner `Choice` or a command line cannot hold. This module
reads the parameters from the string itself, checks them, and returns what
Keras's `activations.get` / `initializers.get` accept:

| value                                  | becomes                              |
|----------------------------------------|--------------------------------------|
| `"he_uniform"`, `"relu"`               | the name (Keras's own defaults)       |
| `"random_normal(stddev=0.5)"`          | a `RandomNormal` config dict         |
| `"leaky_relu(negative_slope=0.01)"`    | a `zoo.models.activations.LeakyReLU` |
|                                        | config dict (saved with the model)   |

A config dict, not an object, so that each layer deserializes an
initializer of its own (one unseeded initializer object shared by several
layers would give them all the same weights).

Example:

>>> from zoo.models.specs import parse
>>> parse("kernel_initializer", "Random_Normal(stddev=0.5)")
('random_normal', {'stddev': 0.5})
"""

import ast
import functools
import numbers

from zoo.core.checks import check_choice, check_number

_real = functools.partial(check_number, finite=True)
_positive = functools.partial(check_number, low=0.0, low_open=True)
_slope = functools.partial(check_number, low=0.0, high=1.0, high_open=True)

# name: (Keras class name, {parameter: check})
INITIALIZER_PARAMETERS = {
    "random_normal": ("RandomNormal", {"mean": _real, "stddev": _positive}),
    "truncated_normal": ("TruncatedNormal", {"mean": _real, "stddev": _positive}),
    "random_uniform": ("RandomUniform", {"minval": _real, "maxval": _real}),
}
# name: (class in `zoo.models.activations`, {parameter: check})
ACTIVATION_PARAMETERS = {"leaky_relu": ("LeakyReLU", {"negative_slope": _slope})}


def _forms(parameters):
    """`'name(key=..., ...)'` for each entry of a parameter table."""
    return ", ".join(f"'{name}({'=..., '.join(keys)}=...)'"
                     for name, (_, keys) in parameters.items())


def _form_error(argument, value, parameters):
    return ValueError(
        f"`{argument}`={value!r} must be a name or `name(key=value, ...)` with "
        f"numbers as values, e.g. {_forms(parameters)}."
    )


def parse(argument, value, parameters=None):
    """`(name, {parameter: value})` of `"name"` or `"name(key=value, ...)"`.

    Only the syntax is checked here; `name` is lower-cased with `-` as `_`.
    `parameters` (as `INITIALIZER_PARAMETERS`) only shapes the error message.
    """
    parameters = parameters or {}
    if not isinstance(value, str):
        raise TypeError(f"`{argument}` must be a string; got {value!r} of type "
                        f"{type(value).__name__}.")
    if "(" not in value:
        return value.strip().lower().replace("-", "_"), {}
    try:
        call = ast.parse(value.strip(), mode="eval").body
    except SyntaxError:
        raise _form_error(argument, value, parameters) from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.args:
        raise _form_error(argument, value, parameters)
    params = {}
    for keyword in call.keywords:
        try:
            number = ast.literal_eval(keyword.value) if keyword.arg else None
        except ValueError:
            number = None
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            raise _form_error(argument, value, parameters)
        params[keyword.arg] = number
    return call.func.id.lower(), params


def _check(argument, value, names, aliases, parameters):
    """The canonical name and the checked parameters of `value`."""
    if not isinstance(value, str) or "(" not in value:
        return check_choice(argument, value, names, aliases), {}
    name, params = parse(argument, value, parameters)
    name = check_choice(argument, name, names, aliases)
    if not params:
        return name, params
    if name not in parameters:
        raise ValueError(
            f"`{argument}`={value!r}: {name!r} takes no parameters here; these do: "
            f"{_forms(parameters)}."
        )
    allowed = parameters[name][1]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"`{argument}`={value!r}: unknown parameter(s) {unknown} of "
                         f"{name!r}; allowed: {list(allowed)}.")
    owner = f"`{argument}`={value!r}"
    return name, {key: allowed[key](key, v, owner=owner) for key, v in params.items()}


def initializer(argument, value, names, aliases):
    """What `keras.initializers.get` takes for `value` (see the module docstring).

    Args:
        argument: the option's name, for messages.
        value: `"name"` or `"name(key=value, ...)"`.
        names: the allowed names.
        aliases: `{other spelling: allowed name}`.
    """
    name, params = _check(argument, value, names, aliases, INITIALIZER_PARAMETERS)
    if not params:
        return name
    if name == "random_uniform" and params.get("minval", -0.05) >= params.get("maxval", 0.05):
        raise ValueError(f"`{argument}`={value!r}: `minval` must be below `maxval` "
                         "(defaults -0.05 and 0.05).")
    return {"class_name": INITIALIZER_PARAMETERS[name][0], "config": params}


def activation(argument, value, names, aliases):
    """What `keras.activations.get` takes for `value` (see the module docstring).

    Args: as in `initializer`.
    """
    name, params = _check(argument, value, names, aliases, ACTIVATION_PARAMETERS)
    if not params:
        return name
    import keras

    from zoo.models import activations

    cls = getattr(activations, ACTIVATION_PARAMETERS[name][0])
    return keras.saving.serialize_keras_object(cls(**params))
