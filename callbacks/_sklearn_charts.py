"""TensorBoard tags and descriptions of `SklearnMetrics`' scores.

The logs keep scikit-learn's short names (``val_f1``, averaged with the
callback's ``average``); the charts are named by what they hold, so the
averaging shows in the tag (``sklearn/f1_macro``), and each carries a
TensorBoard description. A score is charted once: ``f1`` under its
average's name (for multiclass ``val_f1`` and ``val_f1_macro`` are one
chart), and micro-averaged precision, recall and F1 of a single-label task,
which equal the accuracy, are not charted beside it.
"""

GROUP = "sklearn/"
_SINGLE_LABEL = ("binary", "multiclass")

_AVERAGED = {
    "binary": "of the positive class (label 1; scikit-learn average='binary')",
    "macro": "per class, then the unweighted mean over classes "
             "(scikit-learn average='macro')",
    "micro": "from the true and false positives summed over all labels "
             "(scikit-learn average='micro')",
    "weighted": "per class, then the mean weighted by each class's support "
                "(scikit-learn average='weighted')",
    "samples": "per sample over its labels, then the mean over samples "
               "(scikit-learn average='samples')",
}
_RANKED = {
    "binary": "of the positive-class probability",
    "multiclass": "one class against the rest, then the unweighted mean over "
                  "classes (macro)",
    "multilabel": "per label, then the unweighted mean over labels (macro)",
}
_PLAIN = {
    "accuracy": "Share of validation samples predicted right (scikit-learn "
                "accuracy_score; for multilabel, every label right); for "
                "binary and multiclass tasks also the micro-averaged "
                "precision, recall and F1",
    "hamming_loss": "Share of wrong labels over all samples and labels",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error (for several targets the mean of the "
            "per-target values)",
    "r2": "Coefficient of determination R2 (for several targets the mean of "
          "the per-target values)",
}
_LONG = {"f1": "F1 score", "precision": "Precision", "recall": "Recall"}


def charts(names, task, average, prefix="val_"):
    """``{log name: (tag, description)}`` of the ``names`` to chart.

    Args:
        names: score names as logged, without prefix (``"f1"``,
            ``"f1_macro"``, ...).
        task: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or
            ``"regression"``.
        average: the callback's ``average`` (``None``: binary for binary,
            macro otherwise).
        prefix: the callback's ``prefix`` of log keys.

    Example:

    >>> sorted(tag for tag, _ in charts(
    ...     ["accuracy", "f1", "f1_macro", "f1_micro"], "multiclass", None).values())
    ['sklearn/accuracy', 'sklearn/f1_macro']
    """
    average = average or ("binary" if task == "binary" else "macro")
    out = {}
    for name in names:
        base, _, own = name.partition("_")
        if base in _LONG and (own in _AVERAGED or not own):
            how = own or average
            if how == "micro" and task in _SINGLE_LABEL:
                continue  # = accuracy
            keys = [f"`{prefix}{n}`" for n in names
                    if n == f"{base}_{how}" or (n == base and how == average)]
            text = (f"{_LONG[base]} {_AVERAGED[how]}, on the validation data "
                    f"(x: epoch, 0-based). Logs key{'s' * (len(keys) > 1)} "
                    f"{' and '.join(keys)}.")
            out.setdefault(name, (f"{GROUP}{base}_{how}", text))
        elif name in ("roc_auc", "average_precision"):
            label = "ROC AUC" if name == "roc_auc" else "Average precision"
            out[name] = (GROUP + name, f"{label} {_RANKED[task]} (x: epoch, "
                                       "0-based).")
        else:
            out[name] = (GROUP + name, f"{_PLAIN.get(name, name)} (x: epoch, 0-based).")
    # `f1` and `f1_<average>` are one chart: keep the first of each tag.
    seen, unique = set(), {}
    for name, (tag, text) in out.items():
        if tag not in seen:
            seen.add(tag)
            unique[name] = (tag, text)
    return unique


def image_title(what, epoch):
    """A figure's title naming its TensorBoard step (the 0-based epoch, as
    on the scalar charts' x axis) and the epoch as Keras counts it.

    >>> image_title("ROC", 48)
    'ROC, step 48 (epoch 49 of fit)'
    """
    return f"{what}, step {epoch} (epoch {epoch + 1} of fit)"


def log_names(task, with_ranking):
    """What the logs show of `zoo.evaluation.scores`' results (no prefix)."""
    if task == "regression":
        return ("mse", "mae", "rmse", "r2")
    return (("accuracy", "precision", "recall", "f1", "f1_macro", "f1_micro",
             "f1_weighted") + (("hamming_loss",) if task == "multilabel" else ())
            + (("roc_auc", "average_precision") if with_ranking else ()))


def check_average(average, task):
    """Refuse an `average` of `SklearnMetrics` that its `task` has not."""
    if average is None or task == "auto":
        return
    if task == "regression" or (
        average == "binary" and task != "binary"
    ) or (average == "samples" and task != "multilabel"):
        raise ValueError(
            f"SklearnMetrics: average={average!r} does not apply to "
            f"task={task!r} ('binary' is for binary, 'samples' for "
            "multilabel, none for regression)."
        )
