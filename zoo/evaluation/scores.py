"""Test-set scores from scikit-learn, per task, as plain dicts.

Every number comes from ``sklearn.metrics``; this module only picks the
metrics that fit each task and lays them out with the same keys (``f1_macro``,
``per_class``, ...) for ``zoo.evaluation`` to report.
"""

import numpy as np
from sklearn import metrics


def _ranking(truth, score):
    """ROC AUC and average precision of one 0/1 column; None if it has one outcome."""
    if len(np.unique(truth)) < 2:
        return None, None
    return metrics.roc_auc_score(truth, score), metrics.average_precision_score(truth, score)


def _one_vs_rest(truth, probs, names, per_class):
    """Per-class ranking scores, and their macro means over the defined classes."""
    for i, name in enumerate(names):
        auc, ap = _ranking(truth[:, i], probs[:, i])
        per_class[name].update(roc_auc=auc, average_precision=ap)
    defined = [per_class[n] for n in names if per_class[n]["roc_auc"] is not None]
    out = {key: float(np.mean([m[key] for m in defined])) if defined else None
           for key in ("roc_auc", "average_precision")}
    missing = [n for n in names if per_class[n]["roc_auc"] is None]
    if missing:
        out["roc_auc_note"] = (f"{missing} have a single outcome in y_test; ROC AUC and "
                               "average precision are means over the other classes.")
    return out


def _per_class(report_dict, names):
    return {
        n: {"precision": report_dict[n]["precision"], "recall": report_dict[n]["recall"],
            "f1": report_dict[n]["f1-score"], "support": int(report_dict[n]["support"])}
        for n in names
    }


def _averages(report_dict, y, pred, labels):
    out = {}
    for avg in ("macro", "weighted"):
        row = report_dict[f"{avg} avg"]
        out.update({f"precision_{avg}": row["precision"], f"recall_{avg}": row["recall"],
                    f"f1_{avg}": row["f1-score"]})
    p, r, f, _ = metrics.precision_recall_fscore_support(
        y, pred, labels=labels, average="micro", zero_division=0)
    out.update({"precision_micro": p, "recall_micro": r, "f1_micro": f})
    return out


def classification_scores(y, probs, task, names, threshold=0.5):
    """Binary/multiclass scores; ``probs`` is (n,) for binary, (n, k) otherwise."""
    if task == "binary":
        pred = (probs >= threshold).astype(np.int64)
    else:
        pred = probs.argmax(axis=1)
    labels = list(range(len(names)))
    cr = metrics.classification_report(y, pred, labels=labels, target_names=names,
                                       output_dict=True, zero_division=0)
    out = {"accuracy": metrics.accuracy_score(y, pred), **_averages(cr, y, pred, labels),
           "per_class": _per_class(cr, names),
           "confusion_matrix": metrics.confusion_matrix(y, pred, labels=labels)}
    if task == "binary":
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y, pred, average="binary", zero_division=0)
        auc, ap = _ranking(y, probs)
        out.update(precision=p, recall=r, f1=f, roc_auc=auc, average_precision=ap)
        if auc is None:
            out["roc_auc_note"] = "ROC AUC is undefined: y_test holds only one class."
        return out
    truth = y[:, None] == np.arange(len(names))
    out.update(_one_vs_rest(truth, probs, names, out["per_class"]))
    return out


def multilabel_scores(y, probs, names, threshold=0.5):
    """Scores for 0/1 label rows ``y`` and per-label probabilities ``probs``."""
    pred = (probs >= threshold).astype(np.int64)
    cr = metrics.classification_report(y, pred, target_names=names, output_dict=True,
                                       zero_division=0)
    labels = list(range(len(names)))
    out = {"accuracy": metrics.accuracy_score(y, pred),
           "hamming_loss": metrics.hamming_loss(y, pred),
           **_averages(cr, y, pred, labels), "per_class": _per_class(cr, names)}
    for name, cm in zip(names, metrics.multilabel_confusion_matrix(y, pred)):
        out["per_class"][name]["confusion_matrix"] = cm
    out.update(_one_vs_rest(y, probs, names, out["per_class"]))
    out["roc_auc_micro"] = _ranking(y.ravel(), probs.ravel())[0]
    return out


def regression_scores(y, pred):
    """MSE, RMSE, MAE, R2 (None for one sample) and per-output values."""
    out = {"mse": metrics.mean_squared_error(y, pred),
           "rmse": metrics.root_mean_squared_error(y, pred),
           "mae": metrics.mean_absolute_error(y, pred),
           "r2": metrics.r2_score(y, pred) if len(y) > 1 else None}
    if y.ndim == 2:
        raw = {"mse": metrics.mean_squared_error, "mae": metrics.mean_absolute_error,
               "r2": metrics.r2_score}
        out["per_output"] = {k: f(y, pred, multioutput="raw_values") for k, f in raw.items()}
    return out
