"""TensorBoard tags, descriptions and overlay layout of `GradientNormMonitor`.

Two groups with two x axes: ``gradient_norm_step/`` at the training step
(1-based, counted across fits) and ``gradient_norm_epoch/`` at the epoch
(0-based, like Keras's ``epoch_*`` scalars). Per-step tags carry a
zero-padded depth index so TensorBoard, which sorts tags by name, lists the
global norm first and then the layers input side first. The custom-scalars
layout puts every per-step series on one chart (with a log y axis,
vanishing or exploding layers show at a glance); the per-tag charts stay in the
Scalars dashboard.
"""

from tensorboard.plugins.custom_scalar import layout_pb2

STEP_GROUP = "gradient_norm_step/"
EPOCH_GROUP = "gradient_norm_epoch/"
_CATEGORY = "Gradient norms"


def step_tags(layer_names, label=None):
    """``{tag: description}`` of the per-step series: global norm, then
    one per layer in depth order (input side first). With several
    optimizers, each has its own series under ``<group><label>/``.

    Example:

    >>> for tag in step_tags(["conv2d", "dense"]):
    ...     print(tag)
    gradient_norm_step/00_global
    gradient_norm_step/01_conv2d
    gradient_norm_step/02_dense
    """
    width = max(2, len(str(len(layer_names))))
    group = STEP_GROUP + (f"{label}/" if label else "")
    tags = {
        f"{group}{0:0{width}d}_global": (
            "Global L2 norm of all the gradients of each training step (x: "
            "training step, 1-based), before clipping. Layers follow, "
            "numbered by depth (01 = input side)."
        )
    }
    for depth, name in enumerate(layer_names, start=1):
        tags[f"{group}{depth:0{width}d}_{name}"] = (
            f"L2 norm of the gradients of layer `{name}`'s trainable "
            f"variables at each training step (x: training step, 1-based); "
            f"layer {depth} of {len(layer_names)} counting from the input."
        )
    return tags


def epoch_tags(label=None):
    """``{tag: description}`` of the per-epoch series (logs keys
    ``grad_norm`` and ``grad_norm_max``, in that order; with several
    optimizers ``grad_norm/<label>`` and tags under ``<group><label>/``)."""
    group = EPOCH_GROUP + (f"{label}/" if label else "")
    suffix = f"/{label}" if label else ""
    whose = f" of optimizer `{label}`" if label else ""
    return {
        group + "global_mean": (
            "Mean over the epoch's training steps (those with finite "
            f"gradients) of the global gradient L2 norm{whose} (x: epoch, "
            f"0-based). Logs key `grad_norm{suffix}`."
        ),
        group + "global_max": (
            f"Largest global gradient L2 norm{whose} of the epoch's training "
            f"steps (x: epoch, 0-based). Logs key `grad_norm_max{suffix}`."
        ),
    }


def layout():
    """The custom-scalars ``Layout``: every per-step series on one chart,
    the per-epoch ones on another."""
    return layout_pb2.Layout(category=[layout_pb2.Category(
        title=_CATEGORY,
        chart=[
            layout_pb2.Chart(
                title="Per training step: global and every layer (00 = "
                      "global, then input side first)",
                multiline=layout_pb2.MultilineChartContent(
                    tag=[STEP_GROUP + ".*"]),
            ),
            layout_pb2.Chart(
                title="Per epoch: mean and max of the global norm",
                multiline=layout_pb2.MultilineChartContent(
                    tag=[EPOCH_GROUP + ".*"]),
            ),
        ],
    )])


def layout_summary():
    """`layout()` as a ``Summary`` to write once into a run."""
    from tensorboard.plugins.custom_scalar import summary

    return summary.pb(layout())
