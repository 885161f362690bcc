"""Evaluation plots as matplotlib ``Figure`` objects.

Figures are made with ``matplotlib.figure.Figure`` directly, never through
``pyplot`` state, so they work headless (no display, no ``plt.show``), leak
no open figures and can be built in any thread. ``zoo.evaluation.evaluate``
saves them as PNG files (``path=``); ``callbacks.SklearnMetrics`` renders
them for TensorBoard. The confusion matrix and ROC curves are drawn by
scikit-learn's ``ConfusionMatrixDisplay`` and ``RocCurveDisplay``; this
module adds what stays readable with many classes (no cell numbers past 20
classes, at most 10 ROC curves), a table for multilabel confusion matrices,
and training curves grouped by kind.

Text is most of a figure's cost (matplotlib lays out and renders every
label, about 0.3-0.5 ms each on a small CPU), so the figures carry no
redundant text: a confusion matrix with a number in every cell has no
colour bar (the numbers say more), and the ROC curves are one
``RocCurveDisplay`` with one legend, not one display per class.

``layout`` is matplotlib's layout engine: the defaults fit long class
names; ``None`` uses fixed margins and renders 2-3 times faster, which
suits images drawn at every epoch.
"""

import math
import re

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay, auc, roc_curve

from zoo.core.files import save_figure

# Above these sizes a figure stays readable only without per-cell numbers
# and with a subset of the curves.
MAX_ANNOTATED_CLASSES = 20
MAX_CURVES = 10


def _figure(size, layout):
    fig = Figure(figsize=size, layout=layout)
    if layout is None:
        fig.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.92)
    return fig


def _set_title(ax, title):
    # At a fixed height (y=1, the default's, with no ticks on top): left to
    # matplotlib, it measures every tick label to place the title, about a
    # fifth of a small figure's drawing time.
    ax.set_title(title, y=1.0)


def _save(fig, path):
    if path is not None:
        save_figure(fig, path, dpi=100)  # never half a PNG over a good one
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


# Panels of the training curves, in order: (title, un-prefixed names).
_PANELS = (
    ("scores", re.compile(r"(precision|recall|f1|roc_auc|auc|average_precision"
                          r"|hamming_loss|r2)(_.*)?$")),
    ("loss", re.compile(r".*loss$")),
    ("accuracy", re.compile(r".*accuracy$")),
    ("errors", re.compile(r"(mse|rmse|mae|mape|msle|.*_error)(_.*)?$")),
    ("learning rate", re.compile(r"(learning_rate|lr)(_.*)?$")),
    ("gradient norms", re.compile(r"grad(ient)?_norm.*")),
)
_ORDER = ("loss", "accuracy", "scores", "errors", "learning rate", "gradient norms")
# Keras logs these under their own name for the training batches.
_TRAIN_METRICS = ("loss", "accuracy", "scores", "errors")


def _panel(base):
    return next((title for title, pattern in _PANELS if pattern.match(base)), base)


def _series(values):
    """``[panel, name, split, values]`` per series, exact duplicates merged."""
    series = []
    for key, ys in values.items():
        name = key[4:] if key.startswith("val_") else key
        panel = _panel(name)
        if key.startswith("val_"):
            split = "validation"
        elif f"val_{key}" in values or panel in _TRAIN_METRICS:
            split = "train"
        else:
            split = None  # e.g. the learning rate: neither split
        twin = next((s for s in series if s[0] == panel and s[2] == split
                     and np.array_equal(s[3], ys, equal_nan=True)), None)
        if twin is None:
            series.append([panel, name, split, ys])
        else:
            twin[1] += f" = {name}"
    return series


def _panels(values):
    """``[(title, [(legend label, values), ...]), ...]`` in panel order."""
    series = _series(values)
    out = []
    for panel in dict.fromkeys(_ORDER + tuple(s[0] for s in series)):
        members = [s for s in series if s[0] == panel]
        if not members:
            continue
        names = list(dict.fromkeys(s[1] for s in members))
        members.sort(key=lambda s: (names.index(s[1]), s[2] != "train"))
        # A panel named after its one metric says only the split.
        short = names == [panel]
        labels = [(s[2] if short else f"{s[1]} ({s[2]})") if s[2] else s[1]
                  for s in members]
        if panel == "scores" and all(s[2] == "validation" for s in members):
            panel = "validation scores"
        out.append((panel, [(label, s[3]) for label, s in zip(labels, members)]))
    return out


def plot_history(history, path=None):
    """Training curves, grouped into panels by kind.

    Panels, in order: loss; accuracy; scores (F1, precision, recall, ROC
    AUC, ..., titled "validation scores" when all are validation scores);
    errors (MSE, MAE, ...); learning rate; gradient norms; then one panel
    per other series. A key starting with ``val_`` is labelled
    validation, its un-prefixed twin (and Keras's own training metrics)
    train. A series equal, value for value, to an earlier one of the same
    split (``val_f1`` and ``val_f1_macro`` with macro averaging) is drawn
    once, labelled with both names.

    Args:
        history: a Keras ``History`` or a dict like ``{"loss": [...],
            "val_loss": [...]}``.
        path: optional PNG path to save to.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_history({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7],
    ...                     "val_f1": [0.5, 0.6], "val_f1_macro": [0.5, 0.6]})
    >>> [(ax.get_title(), [line.get_label() for line in ax.lines]) for ax in fig.axes]
    [('loss', ['train', 'validation']), ('validation scores', ['f1 = f1_macro (validation)'])]
    """
    groups = _panels(history_dict(history))
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (title, series) in zip(axes, groups):
        for label, ys in series:
            ax.plot(np.arange(1, len(ys) + 1), ys, marker="o", markersize=3, label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes[len(groups):]:
        fig.delaxes(ax)
    return _save(fig, path)


def _thin_ticks(ax, n, names):
    """At most MAX_ANNOTATED_CLASSES tick labels per axis."""
    step = math.ceil(n / MAX_ANNOTATED_CLASSES)
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [names[i] for i in ticks])
    ax.set_yticks(ticks, [names[i] for i in ticks])


def _annotate(ax, image, table, fontsize=None):
    """Each non-zero cell's count, coloured as scikit-learn's display does
    (the colour map's light end on dark cells). Zeros stay blank: the
    errors stand out, and a figure's cost is mostly its texts."""
    dark, light = image.cmap(1.0), image.cmap(0.0)
    middle = (table.max() + table.min()) / 2
    integers = np.issubdtype(table.dtype, np.integer)
    for (i, j), count in np.ndenumerate(table):
        if count:
            ax.text(j, i, f"{count:d}" if integers else f"{count:.3g}", ha="center",
                    va="center", fontsize=fontsize, color=dark if count < middle else light)


def _label_table(ax, table, row_names, column_names):
    """Annotated heatmap of a table (sklearn's display is square only)."""
    image = ax.imshow(table, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(column_names)), column_names)
    if len(table) > MAX_ANNOTATED_CLASSES:
        ax.figure.colorbar(image, ax=ax)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        return
    ax.set_yticks(range(len(row_names)), row_names)
    _annotate(ax, image, table, fontsize=8)


def plot_confusion_matrix(confusion, class_names=None, path=None,
                          title="Confusion matrix", layout="compressed"):
    """An annotated confusion matrix (rows: true class, columns: predicted).

    Every non-zero cell carries its count (empty cells stay blank). Past 20
    classes the cells carry no numbers, a colour bar tells the counts, and
    every n-th class is named. A multilabel ``(k, 2, 2)`` stack (from
    ``sklearn.metrics.multilabel_confusion_matrix``) is drawn as a table:
    one row per label, columns TN, FP, FN, TP.

    Args:
        confusion: ``(k, k)`` counts, e.g. from
            ``sklearn.metrics.confusion_matrix``, or a ``(k, 2, 2)`` stack.
        class_names: optional names of the classes (labels).
        path: optional PNG path to save to.
        title: the figure's title.
        layout: matplotlib layout engine, or None for fixed margins.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_confusion_matrix([[5, 0], [2, 4]], ["cat", "dog"])
    >>> fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].texts]
    ('Confusion matrix', ['5', '2', '4'])
    """
    confusion = np.asarray(confusion)
    k = len(confusion)
    names = [str(n) for n in (range(k) if class_names is None else class_names)]
    size = min(max(4.5, 0.35 * k + 2.5), 9.5)  # room for numbered cells
    numbered = k <= MAX_ANNOTATED_CLASSES  # then no colour bar beside
    fig = _figure((size * (0.85 if numbered else 1.0), size * 0.85), layout)
    ax = fig.subplots()
    if confusion.ndim == 3:
        _label_table(ax, confusion.reshape(k, 4), names, ["TN", "FP", "FN", "TP"])
        ax.set_ylabel("label")
    else:
        display = ConfusionMatrixDisplay(confusion, display_labels=names)
        display.plot(ax=ax, cmap="Blues", colorbar=not numbered, include_values=False,
                     xticks_rotation=45 if k > 6 else "horizontal")
        if numbered:
            _annotate(ax, display.im_, confusion)
        else:
            _thin_ticks(ax, k, names)
    _set_title(ax, title)
    return _save(fig, path)


def plot_roc_curves(y_true, y_score, class_names=None, path=None, title=None,
                    layout="constrained"):
    """ROC curves: one for binary, one per class (one-vs-rest) otherwise.

    Classes with only one outcome in ``y_true`` have no ROC curve and are
    left out; past 10 classes only the first 10 are drawn (the title says
    so).

    Args:
        y_true: binary or integer class labels ``(n,)``, or 0/1 indicator
            rows ``(n, k)`` for multilabel.
        y_score: positive-class scores ``(n,)`` for binary, or per-class
            scores ``(n, k)``.
        class_names: optional class names for the legend.
        path: optional PNG path to save to.
        title: the figure's title; defaults to "ROC curve(s)".
        layout: matplotlib layout engine, or None for fixed margins.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_roc_curves(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]))
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['positive class (class 1) (AUC = 0.75)', 'chance']
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    fig = _figure((5.5, 4.8), layout)
    ax = fig.subplots()
    if y_score.ndim == 1:
        positive = class_names[-1] if class_names is not None else "positive class"
        columns = [(y_true, y_score, f"{positive} (class 1)")]
        title = title or "ROC curve"
    else:
        k = y_score.shape[1]
        names = class_names if class_names is not None else [str(i) for i in range(k)]
        truth = y_true if y_true.ndim == 2 else (y_true[:, None] == np.arange(k))
        columns = [(truth[:, i], y_score[:, i], names[i]) for i in range(k)
                   if len(np.unique(truth[:, i])) == 2]
        title = title or "ROC curves (one-vs-rest)"
        if len(columns) > MAX_CURVES:
            title += f", first {MAX_CURVES} of {len(columns)} classes"
            columns = columns[:MAX_CURVES]
    columns = [c for c in columns if len(np.unique(c[0])) == 2]
    chance = {"label": "chance", "linestyle": "--", "color": "grey"}
    if columns:  # one display, one legend, for every curve
        curves = [roc_curve(truth, score)[:2] for truth, score, _ in columns]
        with matplotlib.rc_context({"legend.fontsize": "small"}):
            RocCurveDisplay(
                fpr=[fpr for fpr, _ in curves], tpr=[tpr for _, tpr in curves],
                roc_auc=[auc(fpr, tpr) for fpr, tpr in curves],
                name=[str(name) for _, _, name in columns],
            ).plot(ax=ax, plot_chance_level=True, chance_level_kw=chance, curve_kwargs=[
                {"color": f"C{i}", "linestyle": "-", "alpha": 1} for i in range(len(curves))])
    else:
        ax.plot([0, 1], [0, 1], **chance)
        ax.legend(fontsize="small", loc="lower right")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    _set_title(ax, title)
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
