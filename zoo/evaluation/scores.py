"""Scikit-learn scores of a model's outputs, per task, as plain dicts.

The one place where the package turns predictions into scores:
``zoo.evaluation.evaluate`` (the test-set report) and
``callbacks.SklearnMetrics`` (validation scores at each epoch) both call
these functions, so the same model and data give the same numbers; each
caller picks the keys it shows.

The numbers follow scikit-learn's definitions. ``sklearn.metrics`` gives
the confusion matrices, the multilabel accuracy and Hamming loss, and the
regression scores. Computed here: precision, recall and F1 with their
averages, from the confusion matrix with the arithmetic of
``precision_recall_fscore_support(zero_division=0)``; the single-label
accuracy, the diagonal's share; ROC AUC and average precision for all
classes at once (``_ranking``), as ``roc_auc_score`` and
``average_precision_score`` define them. ``tests/test_evaluation.py`` holds
them equal to scikit-learn's functions. Why: each of those checks its
inputs again, about 1 ms a call (and a class, for the ranking scores),
which made the scores of a small validation set cost ten times their
arithmetic, at every epoch of ``SklearnMetrics``. What this module adds:
the metrics that fit each task
under fixed keys (``f1_macro``, ``per_class``, ...), raw outputs turned into
probabilities and predicted labels, and one-vs-rest ranking scores averaged
over the classes where they are defined instead of failing on the others.
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
    """``(ROC AUC, average precision)`` arrays, one value per 0/1 column of
    ``truth`` ranked by the same column of ``score`` (1-D: one column); NaN
    where a column has a single outcome.

    The values of ``roc_auc_score`` and ``average_precision_score`` with
    ``average=None``, from one sort of each column: the thresholds are the
    distinct scores, from the highest; ROC AUC is the trapezoidal area under
    the ROC curve through them (from (0, 0)), average precision
    ``sum_n (R_n - R_(n-1)) P_n`` over them, as in ``precision_recall_curve``.

    >>> auc, ap = _ranking(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    >>> float(auc[0]), round(float(ap[0]), 4)
    (0.75, 0.8333)
    """
    truth = np.asarray(truth).reshape(len(truth), -1).astype(np.float64)
    score = np.asarray(score, dtype=np.float64).reshape(truth.shape)
    count = np.arange(1, len(truth) + 1, dtype=np.float64)[:, None]
    positives = truth.sum(axis=0)
    negatives = len(truth) - positives
    order = np.argsort(-score, axis=0, kind="stable")
    ranked = np.take_along_axis(score, order, axis=0)
    hits = np.cumsum(np.take_along_axis(truth, order, axis=0), axis=0)
    misses = count - hits
    # The last row of each run of equal scores is a threshold.
    cut = np.ones(ranked.shape, dtype=bool)
    cut[:-1] = ranked[:-1] != ranked[1:]

    def at_previous_cut(values):  # non-decreasing down each column
        out = np.zeros_like(values)
        out[1:] = np.maximum.accumulate(np.where(cut, values, 0.0), axis=0)[:-1]
        return out

    hits_before, misses_before = at_previous_cut(hits), at_previous_cut(misses)
    with np.errstate(divide="ignore", invalid="ignore"):
        area = np.where(cut, (misses - misses_before) * (hits + hits_before), 0.0)
        auc = area.sum(axis=0) / (2 * positives * negatives)
        gain = np.where(cut, (hits - hits_before) * hits / count, 0.0)
        ap = gain.sum(axis=0) / positives
    single = (positives == 0) | (negatives == 0)
    return np.where(single, np.nan, auc), np.where(single, np.nan, ap)


def _one_vs_rest(truth, probs, names, per_class):
    """Per-class ranking scores, and their macro means over the defined classes."""
    aucs, aps = _ranking(truth, probs)
    for name, auc, ap in zip(names, aucs, aps):
        per_class[name].update(roc_auc=None if np.isnan(auc) else float(auc),
                               average_precision=None if np.isnan(ap) else float(ap))
    defined = ~np.isnan(aucs)
    out = {"roc_auc": float(np.mean(aucs[defined])) if defined.any() else None,
           "average_precision": float(np.mean(aps[defined])) if defined.any() else None}
    missing = [n for n, ok in zip(names, defined) if not ok]
    if missing:
        out["roc_auc_note"] = (f"{missing} have a single outcome in the labels; ROC AUC "
                               "and average precision are means over the other classes.")
    return out


def _divide(part, whole):
    """``part / whole``, 0 where ``whole`` is 0 (``zero_division=0``)."""
    part, whole = np.asarray(part, dtype=np.float64), np.asarray(whole, dtype=np.float64)
    return np.divide(part, whole, out=np.zeros_like(part), where=whole != 0)


def _per_class(matrix):
    """Per-class precision, recall, F1 and support of a confusion matrix
    ``(k, k)`` or a multilabel stack ``(k, 2, 2)``, and ``precision_<avg>``,
    ``recall_<avg>``, ``f1_<avg>`` for each of AVERAGES: the arithmetic of
    ``precision_recall_fscore_support(zero_division=0)`` on the same counts."""
    if matrix.ndim == 3:
        hits = matrix[:, 1, 1]
        predicted, true = hits + matrix[:, 0, 1], hits + matrix[:, 1, 0]
    else:
        hits, predicted, true = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)

    def scores(hits, predicted, true):
        return _divide(hits, predicted), _divide(hits, true), _divide(2 * hits, true + predicted)

    found = (*scores(hits, predicted, true), true)
    out = {}
    for avg in AVERAGES:
        if avg == "micro":  # from the counts summed over classes
            means = scores(hits.sum(), predicted.sum(), true.sum())
        else:  # the mean of the per-class values (all-zero weights: plain)
            weights = true if avg == "weighted" and true.sum() else None
            means = [np.average(v, weights=weights) for v in found[:3]]
        out.update(zip((f"precision_{avg}", f"recall_{avg}", f"f1_{avg}"), map(float, means)))
    return found, out


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
    if task == "multilabel":
        matrix = metrics.multilabel_confusion_matrix(y, pred)
        accuracy = metrics.accuracy_score(y, pred)  # every label right
    else:
        matrix = metrics.confusion_matrix(y, pred, labels=labels)
        accuracy = np.trace(matrix) / len(y)  # accuracy_score's, from the counts
    found, averaged = _per_class(matrix)
    out = {"accuracy": float(accuracy), **averaged}
    average = average or ("binary" if task == "binary" else "macro")
    if average in AVERAGES:
        headline = [out[f"{key}_{average}"] for key in ("precision", "recall", "f1")]
    elif average == "binary":  # scikit-learn's: class 1's own scores
        headline = [float(values[1]) for values in found[:3]]
    else:
        headline = metrics.precision_recall_fscore_support(
            y, pred, average=average, zero_division=0)[:3]
    out.update(zip(("precision", "recall", "f1"), headline))
    out["per_class"] = {
        n: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for n, p, r, f, s in zip(names, *found)
    }
    if task == "binary":
        auc, ap = _ranking(y, probs)
        out["roc_auc"], out["average_precision"] = (
            (None, None) if np.isnan(auc[0]) else (float(auc[0]), float(ap[0])))
        if out["roc_auc"] is None:
            out["roc_auc_note"] = "ROC AUC is undefined: the labels hold only one class."
    else:
        out.update(_one_vs_rest(_indicator(y, task, k), probs, names, out["per_class"]))
    if task == "multilabel":
        out["hamming_loss"] = metrics.hamming_loss(y, pred)
        micro = _ranking(y.ravel(), probs.ravel())[0][0]
        out["roc_auc_micro"] = None if np.isnan(micro) else float(micro)
        for name, table in zip(names, matrix):
            out["per_class"][name]["confusion_matrix"] = table
    out["confusion_matrix"] = matrix
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
