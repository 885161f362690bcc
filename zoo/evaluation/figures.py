"""Evaluation plots as matplotlib ``Figure`` objects, saved as PNG.

Figures are made with ``matplotlib.figure.Figure`` directly, never through
``pyplot`` state, so they work headless (no display, no ``plt.show``) and
leak no open figures; pass ``path=`` to save one as PNG. The confusion
matrix and ROC curves are drawn by scikit-learn's ``ConfusionMatrixDisplay``
and ``RocCurveDisplay``.
"""

import math
import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay


def _save(fig, path):
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100)
    return fig


def history_dict(history):
    """``{name: [value per epoch]}`` from a Keras ``History`` or a dict."""
    values = getattr(history, "history", history)
    if not isinstance(values, dict):
        raise TypeError(
            "history must be a keras.callbacks.History (what model.fit returns) "
            f"or a dict of per-epoch lists, got {type(history).__name__}."
        )
    out = {}
    for name, series in values.items():
        series = np.ravel(np.asarray(series, dtype=np.float64))
        if series.size:
            out[str(name)] = series.tolist()
    if not out:
        raise ValueError("history holds no per-epoch values to plot.")
    return out


def plot_history(history, path=None):
    """Training curves: one panel per metric, train and validation together.

    Args:
        history: a Keras ``History`` or a dict like ``{"loss": [...],
            "val_loss": [...]}``. Each ``val_<name>`` is drawn on the panel
            of ``<name>``; other series (e.g. ``learning_rate``) get their own.
        path: optional PNG path to save to.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    values = history_dict(history)
    names = [n for n in values if not (n.startswith("val_") and n[4:] in values)]
    names.sort(key=lambda n: (n != "loss", n))
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        series = {"train": values[name]}
        if f"val_{name}" in values:
            series["validation"] = values[f"val_{name}"]
        for label, ys in series.items():
            epochs = np.arange(1, len(ys) + 1)
            ax.plot(epochs, ys, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    for ax in axes[len(names):]:
        ax.set_visible(False)
    return _save(fig, path)


def plot_confusion_matrix(confusion, class_names=None, path=None):
    """An annotated confusion matrix (rows: true class, columns: predicted).

    Args:
        confusion: square array of counts, e.g. from
            ``sklearn.metrics.confusion_matrix``.
        class_names: optional labels for the rows/columns.
        path: optional PNG path to save to.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    confusion = np.asarray(confusion)
    size = max(4.0, 0.55 * len(confusion) + 2.5)
    fig = Figure(figsize=(size, size * 0.85), layout="constrained")
    ax = fig.subplots()
    display = ConfusionMatrixDisplay(confusion, display_labels=class_names)
    display.plot(ax=ax, values_format="d", cmap="Blues", colorbar=True,
                 xticks_rotation=45 if len(confusion) > 6 else "horizontal")
    ax.set_title("Confusion matrix")
    return _save(fig, path)


def plot_roc_curves(y_true, y_score, class_names=None, path=None):
    """ROC curves: one for binary, one per class (one-vs-rest) otherwise.

    Args:
        y_true: binary or integer class labels ``(n,)``, or 0/1 indicator
            rows ``(n, k)`` for multilabel.
        y_score: positive-class scores ``(n,)`` for binary, or per-class
            scores ``(n, k)``.
        class_names: optional class names for the legend.
        path: optional PNG path to save to.

    Returns:
        The ``matplotlib.figure.Figure``. Classes with only one outcome in
        ``y_true`` have no ROC curve and are left out.
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    fig = Figure(figsize=(5.5, 4.8), layout="constrained")
    ax = fig.subplots()
    if y_score.ndim == 1:
        positive = class_names[-1] if class_names else "positive class"
        columns = [(y_true, y_score, f"{positive} (class 1)")]
    else:
        k = y_score.shape[1]
        names = class_names or [str(i) for i in range(k)]
        truth = y_true if y_true.ndim == 2 else (y_true[:, None] == np.arange(k))
        columns = [(truth[:, i], y_score[:, i], names[i]) for i in range(k)]
    for truth, score, name in columns:
        if len(np.unique(truth)) == 2:
            RocCurveDisplay.from_predictions(truth, score, ax=ax, name=str(name))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve" + ("s (one-vs-rest)" if y_score.ndim == 2 else ""))
    ax.legend(fontsize="small", loc="lower right")
    return _save(fig, path)


def plot_predictions(y_true, y_pred, path=None):
    """Predicted against true values for regression, with the ideal line.

    Args:
        y_true: true targets, any shape (flattened).
        y_pred: predictions, same number of values.
        path: optional PNG path to save to.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    fig = Figure(figsize=(5, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low = float(min(y_true.min(), y_pred.min()))
    high = float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", label="ideal")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title("Predictions")
    ax.legend()
    return _save(fig, path)
