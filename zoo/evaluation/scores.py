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

import contextlib
import functools

import numpy as np
import sklearn
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


_PRF = ("precision", "recall", "f1")
_PRF_KEYS = [(f"{key}_{avg}", avg, i) for avg in AVERAGES for i, key in enumerate(_PRF)]
_KEYS = ("accuracy", *_PRF, *(name for name, _, _ in _PRF_KEYS), "per_class", "roc_auc",
         "average_precision", "roc_auc_note", "confusion_matrix")
_MULTILABEL_KEYS = ("hamming_loss", "roc_auc_micro")


def _wanted(keys, task):
    """The set of result keys to compute; refuses a key the task has not."""
    known = _KEYS + (_MULTILABEL_KEYS if task == "multilabel" else ())
    if keys is None:
        return set(known)
    keys = [keys] if isinstance(keys, str) else list(keys)
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise ValueError(f"classification_scores: keys {unknown} are not scores of a "
                         f"{task} task; the keys are {list(known)}.")
    return set(keys)


def _one_vs_rest(truth, probs, names):
    """``({name: (roc_auc, average_precision)}, means)``: per-class ranking
    scores (``(None, None)`` for a class with one outcome) and their macro
    means over the defined classes."""
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
    defined = [found[i] for i in both]
    means = {key: float(np.mean([pair[j] for pair in defined])) if defined else None
             for j, key in enumerate(("roc_auc", "average_precision"))}
    missing = [name for i, name in enumerate(names) if found[i][0] is None]
    if missing:
        means["roc_auc_note"] = (f"{missing} have a single outcome in the labels; ROC AUC "
                                 "and average precision are means over the other classes.")
    return {name: found[i] for i, name in enumerate(names)}, means


def _input_checks(checked):
    """scikit-learn's own input checks, off when the caller ran them.

    ``assume_finite`` and ``skip_parameter_validation`` are the options
    scikit-learn gives for this; they leave every score unchanged.
    """
    if not checked:
        return contextlib.nullcontext()
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


def classification_scores(y, probs, task, names=None, threshold=0.5, average=None,
                          keys=None, checked=False):
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
        keys: the keys of the result to compute, or ``None`` (default) for
            all of them. Each key asked for holds the same value as in the
            full result; the others are left out, and so is the work for
            them (``SklearnMetrics`` asks at each epoch for what it logs).
        checked: whether the caller has checked the inputs (finite values,
            labels in range, matching lengths): scikit-learn's own checks
            are then skipped. Defaults to ``False``.

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
    >>> sorted(classification_scores(np.array([0, 1, 1, 0]),
    ...        np.array([0.1, 0.8, 0.4, 0.3]), "binary", keys=["f1", "roc_auc"]))
    ['f1', 'roc_auc']
    """
    y, probs = np.asarray(y), np.asarray(probs, dtype=np.float64)
    k = 2 if task == "binary" else probs.shape[1]
    names = [str(n) for n in (range(k) if names is None else names)]
    labels = list(range(k))
    pred = predicted_labels(probs, task, threshold)
    average = average or ("binary" if task == "binary" else "macro")
    want = _wanted(keys, task)

    @functools.cache
    def prf(avg):  # precision, recall, f1, support
        return metrics.precision_recall_fscore_support(
            y, pred, labels=labels if avg in AVERAGES + (None,) else None,
            average=avg, zero_division=0)

    out = {}
    with _input_checks(checked):
        if "accuracy" in want:
            out["accuracy"] = metrics.accuracy_score(y, pred)
        for name, avg, i in _PRF_KEYS + [(key, average, i) for i, key in enumerate(_PRF)]:
            if name in want:
                out[name] = float(prf(avg)[i])
        if "per_class" in want:
            out["per_class"] = {
                n: {"precision": float(p), "recall": float(r), "f1": float(f),
                    "support": int(s)}
                for n, p, r, f, s in zip(names, *prf(None))}
        if want & {"roc_auc", "average_precision", "roc_auc_note", "per_class"}:
            if task == "binary":
                out["roc_auc"], out["average_precision"] = _ranking(y, probs)
                if out["roc_auc"] is None:
                    out["roc_auc_note"] = "ROC AUC is undefined: the labels hold only one class."
            else:
                ranked, means = _one_vs_rest(_indicator(y, task, k), probs, names)
                out.update(means)
                if "per_class" in out:
                    for name, (auc, ap) in ranked.items():
                        out["per_class"][name].update(roc_auc=auc, average_precision=ap)
        if task == "multilabel":
            if "hamming_loss" in want:
                out["hamming_loss"] = metrics.hamming_loss(y, pred)
            if "roc_auc_micro" in want:
                out["roc_auc_micro"] = _ranking(y.ravel(), probs.ravel())[0]
            if want & {"confusion_matrix", "per_class"}:
                out["confusion_matrix"] = metrics.multilabel_confusion_matrix(y, pred)
                if "per_class" in out:
                    for name, matrix in zip(names, out["confusion_matrix"]):
                        out["per_class"][name]["confusion_matrix"] = matrix
        elif "confusion_matrix" in want:
            out["confusion_matrix"] = metrics.confusion_matrix(y, pred, labels=labels)
    return {key: value for key, value in out.items() if key in want}


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
