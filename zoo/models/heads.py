"""The output head shared by every family, and reading it back from a model."""

from zoo.models.options import kernel_kwargs
from zoo.core.tasks import OUTPUT_ACTIVATIONS, TASKS, check_task

_PREFIX = "head_"


def add_head(features, task, units, *, l1=0.0, l2=0.0):
    """Apply the output `Dense` for `task` to a rank-2 `features` tensor.

    The layer is named `head_<task>` so that `task_of` can recover the task
    from a built (or reloaded) model. It computes in float32 so that the
    probabilities stay accurate under a mixed-precision policy.
    """
    from keras import layers

    task = check_task(task)
    return layers.Dense(
        units,
        activation=OUTPUT_ACTIVATIONS[task],
        dtype="float32",
        name=_PREFIX + task,
        **kernel_kwargs("glorot_uniform", l1, l2),
    )(features)


def task_of(model):
    """The task of a model built by `zoo.build`, read from its head's name."""
    name = model.layers[-1].name if model.layers else ""
    task = name[len(_PREFIX):] if name.startswith(_PREFIX) else None
    if task not in TASKS:
        raise ValueError(
            f"Cannot tell the task of model {model.name!r} (it was not built by "
            f"zoo.build); pass `task`, one of {list(TASKS)}."
        )
    return task
