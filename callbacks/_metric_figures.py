"""Matplotlib figures of classification results, for TensorBoard images.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state, no GUI
backend needed) and handed to ``SummaryWriter.figure``.
"""

import numpy as np
from sklearn import metrics

# Above these sizes a figure stays readable only without per-cell numbers
# and with a subset of curves.
_MAX_ANNOTATED_CLASSES = 20
_MAX_CURVES = 10


def _new_figure(size=(5, 4.5)):
    from matplotlib.figure import Figure

    # Fixed margins: a layout engine triples the rendering time, and these
    # figures are drawn at every scored epoch.
    figure = Figure(figsize=size)
    figure.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.92)
    return figure


def _heatmap(ax, matrix, xticks, yticks):
    image = ax.imshow(matrix, cmap="Blues", aspect="auto")
    if max(matrix.shape) > _MAX_ANNOTATED_CLASSES:
        # Too many cells for numbers and tick labels: a colour scale.
        ax.figure.colorbar(image, ax=ax)
        return
    ax.set_xticks(range(len(xticks)), xticks)
    ax.set_yticks(range(len(yticks)), yticks)
    # imshow spans min..max, so the text turns white past its midpoint.
    middle = (matrix.min() + matrix.max()) / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j, i, f"{count:g}", ha="center", va="center", fontsize=8,
            color="white" if count > middle else "black",
        )


def confusion_matrix_figure(matrix, title="Confusion matrix"):
    """Heatmap of a ``(k, k)`` confusion matrix (rows: true, cols: predicted).

    A multilabel ``(k, 2, 2)`` stack is drawn as one row per label with
    columns TN, FP, FN, TP.
    """
    matrix = np.asarray(matrix)
    figure = _new_figure()
    ax = figure.add_subplot()
    if matrix.ndim == 3:
        table = matrix.reshape(len(matrix), 4)
        _heatmap(ax, table, ["TN", "FP", "FN", "TP"], range(len(table)))
        ax.set_ylabel("label")
    else:
        ticks = range(len(matrix))
        _heatmap(ax, matrix, ticks, ticks)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
    ax.set_title(title)
    return figure


def roc_figure(labels, scores, title="ROC curve"):
    """ROC curves: one for binary ``(n,)`` scores, one-vs-rest per class for
    ``(n, k)`` scores (at most the first ten classes that have both
    positives and negatives)."""
    figure = _new_figure()
    ax = figure.add_subplot()
    if np.ndim(scores) == 1:
        curves = [("positive", labels, scores)]
    else:
        k = scores.shape[1]
        onehot = labels if labels.ndim == 2 else np.eye(k)[labels]
        curves = [
            (f"class {c}", onehot[:, c], scores[:, c])
            for c in range(k)
            if 0 < onehot[:, c].sum() < len(onehot)
        ]
        if len(curves) > _MAX_CURVES:
            title += f" (first {_MAX_CURVES} of {len(curves)} classes)"
            curves = curves[:_MAX_CURVES]
    for name, truth, score in curves:
        fpr, tpr, _ = metrics.roc_curve(truth, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC {metrics.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    if curves:
        ax.legend(loc="lower right", fontsize=7)
    return figure
