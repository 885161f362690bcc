"""Scikit-learn scores of a model's outputs, per task, as plain dicts.

The one place where the package turns predictions into scores:
``zoo.evaluation.evaluate`` (the test-set report) and
``callbacks.SklearnMetrics`` (validation scores at each epoch) both call
these functions, so the same model and data give the same numbers; each
caller picks the keys it shows.

Every number comes from ``sklearn.metrics``. What this module adds: the
metrics that fit each task under fixed keys (``f1_macro``, ``per_class``,
...), raw outputs turned into probabilities and predicted labels, and
one-vs-rest ranking scores (ROC AUC, average precision) averaged over the
classes where they are defined instead of failing on the others.
"""

import numpy as np
from scipy import special
from sklearn import metrics

AVERAGES = ("macro", "micro", "weighted")


def probabilities(outputs, task, from_logits=False):
    """Class probabilities, shaped as ``classification_scores`` takes them.

    Args:
        outputs: model outputs, ``(n,)`` or ``(n, k)`` (further axes are
            flattened).
        task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
        from_logits: whether ``outputs`` are logits: a sigmoid is applied
            to one unit and to multilabel outputs, a softmax otherwise.

    Returns:
        Positive-class probabilities ``(n,)`` for binary (the last column
        of a 2-unit softmax), ``(n, k)`` otherwise, as float64.

    Example:

    >>> probabilities(np.array([[0.0], [2.0]]), "binary", from_logits=True)
    array([0.5       , 0.88079708])
    """
    out = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if from_logits:
        sigmoid = task == "multilabel" or out.shape[1] == 1
        out = special.expit(out) if sigmoid else special.softmax(out, axis=1)
    return out[:, -1] if task == "binary" else out


def predicted_labels(probs, task, threshold=0.5):
    """Predicted classes: ``probs >= threshold`` for binary and multilabel
    (0/1), the most probable class for multiclass.

    Example:

    >>> predicted_labels(np.array([[0.2, 0.8], [0.6, 0.4]]), "multiclass")
    array([1, 0])
    """
    if task == "multiclass":
        return np.asarray(probs).argmax(axis=1)
    return (np.asarray(probs) >= threshold).astype(np.int64)


def _indicator(y, task, num_classes):
    """0/1 truth columns, one per class; binary has only class 1's."""
    y = np.asarray(y)
    if task == "binary":
        return y.reshape(-1, 1)
    if task == "multiclass":
        return y[:, None] == np.arange(num_classes)
    return y


def single_outcome_classes(y, task, num_classes):
    """Classes whose ROC AUC and average precision are undefined: every
    sample, or none, is of that class (for binary, of class 1).

    Example:

    >>> single_outcome_classes(np.array([0, 1, 0, 1]), "multiclass", 3)
    [2]
    """
    truth = _indicator(y, task, num_classes)
    positives = truth.sum(axis=0)
    single = np.flatnonzero((positives == 0) | (positives == len(truth)))
    offset = 1 if task == "binary" else 0
    return [int(c) + offset for c in single]


def _ranking(truth, score):
    """ROC AUC and average precision of one 0/1 column; None if it has one outcome."""
    if len(np.unique(truth)) < 2:
        return None, None
    return metrics.roc_auc_score(truth, score), metrics.average_precision_score(truth, score)


def _one_vs_rest(truth, probs, names, per_class):
    """Per-class ranking scores, and their macro means over the defined classes."""
    # One call per score over the classes with both outcomes (`average=None`
    # scores each column as `_ranking` does): scikit-learn's input checks,
    # most of the time on small data, then run once, not once per class.
    both = [i for i in range(len(names)) if len(np.unique(truth[:, i])) == 2]
    found = dict.fromkeys(range(len(names)), (None, None))
    if both:
        aucs = np.atleast_1d(metrics.roc_auc_score(truth[:, both], probs[:, both], average=None))
        aps = np.atleast_1d(metrics.average_precision_score(truth[:, both], probs[:, both],
                                                            average=None))
        found.update((i, (float(a), float(p))) for i, a, p in zip(both, aucs, aps))
    for i, name in enumerate(names):
        auc, ap = found[i]
        per_class[name].update(roc_auc=auc, average_precision=ap)
    defined = [per_class[n] for n in names if per_class[n]["roc_auc"] is not None]
    out = {key: float(np.mean([m[key] for m in defined])) if defined else None
           for key in ("roc_auc", "average_precision")}
    missing = [n for n in names if per_class[n]["roc_auc"] is None]
    if missing:
        out["roc_auc_note"] = (f"{missing} have a single outcome in the labels; ROC AUC "
                               "and average precision are means over the other classes.")
    return out


def _averaged(y, pred, labels, per_class_report):
    """``precision_<avg>``, ``recall_<avg>``, ``f1_<avg>`` for each of AVERAGES."""
    out = {}
    for avg in AVERAGES:
        if avg == "micro":  # the report shows micro averages only sometimes
            p, r, f, _ = metrics.precision_recall_fscore_support(
                y, pred, labels=labels, average="micro", zero_division=0)
        else:
            row = per_class_report[f"{avg} avg"]
            p, r, f = row["precision"], row["recall"], row["f1-score"]
        out.update({f"precision_{avg}": p, f"recall_{avg}": r, f"f1_{avg}": f})
    return out


def classification_scores(y, probs, task, names=None, threshold=0.5, average=None):
    """Scores of class probabilities against the true classes.

    Args:
        y: true classes: integers ``(n,)`` for binary and multiclass, 0/1
            rows ``(n, k)`` for multilabel.
        probs: probabilities as ``probabilities()`` returns them:
            ``(n,)`` for binary, ``(n, k)`` otherwise.
        task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
        names: class names for ``per_class``; defaults to ``"0"``, ``"1"``...
        threshold: probability at or above which a binary or multilabel
            output counts as positive.
        average: averaging of ``precision``, ``recall`` and ``f1``: one of
            ``"binary"`` (the default for binary: class 1), ``"macro"`` (the
            default otherwise), ``"micro"``, ``"weighted"``, ``"samples"``
            (multilabel).

    Returns:
        A dict: ``accuracy`` (exact match for multilabel); ``precision``,
        ``recall``, ``f1`` (with ``average``); ``precision_<avg>``,
        ``recall_<avg>``, ``f1_<avg>`` for ``avg`` in macro, micro,
        weighted; ``per_class`` (``{name: {precision, recall, f1,
        support}}``, plus ``roc_auc``, ``average_precision`` for
        multiclass and multilabel, plus a 2x2 ``confusion_matrix`` for
        multilabel); ``confusion_matrix`` (``(k, k)``, rows true classes;
        ``(k, 2, 2)`` for multilabel); ``roc_auc`` and
        ``average_precision`` (of class 1 for binary, else one-vs-rest
        means over the classes with both outcomes; None where no class
        has both, with a ``roc_auc_note``). Multilabel adds
        ``hamming_loss`` and ``roc_auc_micro``.

    Example:

    >>> s = classification_scores(np.array([0, 1, 1, 0]),
    ...                           np.array([0.1, 0.8, 0.4, 0.3]), "binary")
    >>> s["accuracy"], s["recall"], s["roc_auc"]
    (0.75, 0.5, 1.0)
    """
    y, probs = np.asarray(y), np.asarray(probs, dtype=np.float64)
    k = 2 if task == "binary" else probs.shape[1]
    names = [str(n) for n in (range(k) if names is None else names)]
    labels = list(range(k))
    pred = predicted_labels(probs, task, threshold)
    report = metrics.classification_report(y, pred, labels=labels, target_names=names,
                                           output_dict=True, zero_division=0)
    out = {"accuracy": metrics.accuracy_score(y, pred), **_averaged(y, pred, labels, report)}
    average = average or ("binary" if task == "binary" else "macro")
    if average in AVERAGES:
        headline = [out[f"{key}_{average}"] for key in ("precision", "recall", "f1")]
    else:
        headline = metrics.precision_recall_fscore_support(
            y, pred, average=average, zero_division=0)[:3]
    out.update(zip(("precision", "recall", "f1"), headline))
    out["per_class"] = {
        n: {"precision": report[n]["precision"], "recall": report[n]["recall"],
            "f1": report[n]["f1-score"], "support": int(report[n]["support"])}
        for n in names
    }
    if task == "binary":
        out["roc_auc"], out["average_precision"] = _ranking(y, probs)
        if out["roc_auc"] is None:
            out["roc_auc_note"] = "ROC AUC is undefined: the labels hold only one class."
    else:
        out.update(_one_vs_rest(_indicator(y, task, k), probs, names, out["per_class"]))
    if task == "multilabel":
        out["hamming_loss"] = metrics.hamming_loss(y, pred)
        out["roc_auc_micro"] = _ranking(y.ravel(), probs.ravel())[0]
        out["confusion_matrix"] = metrics.multilabel_confusion_matrix(y, pred)
        for name, matrix in zip(names, out["confusion_matrix"]):
            out["per_class"][name]["confusion_matrix"] = matrix
    else:
        out["confusion_matrix"] = metrics.confusion_matrix(y, pred, labels=labels)
    return out


def regression_scores(y, pred):
    """MSE, RMSE, MAE and R2 of predictions, with scikit-learn's definitions.

    Several targets (``(n, t)`` arrays) are averaged uniformly, as
    scikit-learn does: ``rmse`` is the mean of the per-target RMSEs (not
    the square root of ``mse``).

    Args:
        y: true targets, ``(n,)`` or ``(n, t)``.
        pred: predictions of the same shape.

    Returns:
        A dict: ``mse``, ``rmse``, ``mae``, ``r2`` (None for one sample),
        and for 2-D targets ``per_output`` (``mse``, ``mae``, ``r2`` per
        target).

    Example:

    >>> s = regression_scores(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    >>> round(s["mse"], 4), round(s["rmse"], 4), round(s["r2"], 4)
    (1.3333, 1.1547, -1.0)
    """
    out = {"mse": metrics.mean_squared_error(y, pred),
           "rmse": metrics.root_mean_squared_error(y, pred),
           "mae": metrics.mean_absolute_error(y, pred),
           "r2": metrics.r2_score(y, pred) if len(y) > 1 else None}
    if np.ndim(y) == 2:
        raw = {"mse": metrics.mean_squared_error, "mae": metrics.mean_absolute_error,
               "r2": metrics.r2_score}
        out["per_output"] = {k: f(y, pred, multioutput="raw_values") for k, f in raw.items()}
    return out
