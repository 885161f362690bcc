"""The output head shared by every family.

Reading the task back from a built model is `zoo.core.heads.task_of`.
"""

from zoo.core.heads import HEAD_PREFIX
from zoo.core.tasks import OUTPUT_ACTIVATIONS, check_task
from zoo.models.options import kernel_kwargs


def add_head(features, task, units, *, l1=0.0, l2=0.0):
    """Apply the output `Dense` for `task` to a rank-2 `features` tensor.

    The layer is named `head_<task>` so that `zoo.core.heads.task_of` can
    recover the task from a built (or reloaded) model. It computes in float32 so that the
    probabilities stay accurate under a mixed-precision policy.
    """
    from keras import layers

    task = check_task(task)
    return layers.Dense(
        units,
        activation=OUTPUT_ACTIVATIONS[task],
        dtype="float32",
        name=HEAD_PREFIX + task,
        **kernel_kwargs("glorot_uniform", l1, l2),
    )(features)

