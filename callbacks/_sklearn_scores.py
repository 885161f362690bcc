"""Scikit-learn scores of one epoch's validation predictions."""

import math

import numpy as np
from sklearn import metrics

_F1_AVERAGES = ("macro", "micro", "weighted")


def metric_names(task, with_ranking=True):
    """Names (without prefix) that `SklearnMetrics` logs for `task`."""
    if task == "regression":
        return ["mse", "mae", "rmse", "r2"]
    names = ["accuracy", "precision", "recall", "f1"]
    names += [f"f1_{average}" for average in _F1_AVERAGES]
    if task == "multilabel":
        names.append("hamming_loss")
    if with_ranking:
        names += ["roc_auc", "average_precision"]
    return names


def classification_scores(head, prob, pred, average, with_ranking):
    """``(scores, confusion matrix)`` for a classification ``head``.

    ``average`` applies to precision, recall and ``f1``; ROC AUC and average
    precision are one-vs-rest macro averages for more than two classes.
    """
    y = head.labels
    labels = None if head.task == "multilabel" else np.arange(head.n_classes)
    kwargs = {"labels": labels, "zero_division": 0}
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        y, pred, average=average, **kwargs
    )
    values = {
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
    for avg in _F1_AVERAGES:
        values[f"f1_{avg}"] = metrics.f1_score(y, pred, average=avg, **kwargs)
    if head.task == "multilabel":
        values["hamming_loss"] = metrics.hamming_loss(y, pred)
    if with_ranking:
        # One-vs-rest, macro-averaged, for multiclass and multilabel.
        truth = np.eye(head.n_classes)[y] if head.task == "multiclass" else y
        values["roc_auc"] = metrics.roc_auc_score(truth, prob)
        values["average_precision"] = metrics.average_precision_score(
            truth, prob
        )
    if head.task == "multilabel":
        matrix = metrics.multilabel_confusion_matrix(y, pred)
    else:
        matrix = metrics.confusion_matrix(y, pred, labels=labels)
    return values, matrix


def regression_scores(head, prediction):
    """``(scores, None)``; multi-output targets are averaged uniformly."""
    mse = metrics.mean_squared_error(head.labels, prediction)
    values = {
        "mse": mse,
        "mae": metrics.mean_absolute_error(head.labels, prediction),
        "rmse": math.sqrt(mse),
        "r2": metrics.r2_score(head.labels, prediction),
    }
    return values, None


def undefined_ranking_classes(head):
    """Classes (labels) whose ROC AUC / average precision is undefined."""
    if head.task == "regression":
        return []
    if head.task == "multilabel":
        positives = head.labels.sum(axis=0)
        n = len(head.labels)
        return np.flatnonzero((positives == 0) | (positives == n))
    counts = np.bincount(head.labels, minlength=head.n_classes)
    return np.flatnonzero(counts == 0)
