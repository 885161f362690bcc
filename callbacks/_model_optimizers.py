"""The optimizers a model trains with, and the log keys they go under.

A model compiled the usual way trains with ``model.optimizer``. A custom
``train_step`` may update the weights with optimizers of its own, kept as
attributes of the model (keras.io's DCGAN: ``self.d_optimizer`` and
``self.g_optimizer``, after a ``compile()`` that leaves ``model.optimizer``
the unused default). `model_optimizers` finds them all; `keyed` says which
to log and how: plain keys when the one optimizer in use is
``model.optimizer`` (or the only one), else one key per optimizer in use,
``<key>/<attribute>``.
"""

import keras


def model_optimizers(model):
    """``{attribute: optimizer}`` of the optimizers ``model`` holds:
    ``"optimizer"`` first (``model.optimizer``, if compiled), then any other
    attribute of the model that is an optimizer, in definition order.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> model.g_optimizer = keras.optimizers.Adam(1e-4)
    >>> list(model_optimizers(model))
    ['optimizer', 'g_optimizer']
    """
    found = {}
    if getattr(model, "optimizer", None) is not None:
        found["optimizer"] = model.optimizer
    for name, value in vars(model).items():
        if isinstance(value, keras.optimizers.Optimizer) and not any(
            value is seen for seen in found.values()
        ):
            found[name.lstrip("_")] = value
    return found


def keyed(labels, used):
    """``{suffix: label}`` for the log keys of the optimizers in ``used``
    (labels of `model_optimizers`): ``{None: label}`` (plain keys) when the
    only one in use is ``model.optimizer`` or the only one there is, else
    ``{"/<label>": label}`` each.

    Example:

    >>> keyed(["optimizer", "d_optimizer", "g_optimizer"], ["d_optimizer", "g_optimizer"])
    {'/d_optimizer': 'd_optimizer', '/g_optimizer': 'g_optimizer'}
    >>> keyed(["optimizer"], ["optimizer"])
    {None: 'optimizer'}
    """
    used = [label for label in labels if label in used]
    if len(used) == 1 and (used[0] == "optimizer" or len(labels) == 1):
        return {None: used[0]}
    return {f"/{label}": label for label in used}
