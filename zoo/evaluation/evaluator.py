"""Evaluate a trained model on test data: metrics, report files and plots.

``evaluate(model, x_test, y_test, out_dir=...)`` runs ``model.predict``,
infers the task from the output shape and the labels, computes every metric
with ``sklearn.metrics``, and writes ``report.json``, ``report.txt`` and PNG
plots. ``evaluate_predictions(y_true, y_score)`` does the same from outputs
you already have.
"""

import json
import os

import numpy as np
from scipy.special import expit, softmax

from zoo.evaluation import figures as plots
from zoo.core.checks import check_choice, check_float, check_int
from zoo.core.finite import bad_rows, check_finite, describe_rows
from zoo.evaluation.report import EvaluationReport, to_plain
from zoo.evaluation.scores import classification_scores, multilabel_scores, regression_scores
from zoo.core.tasks import TASKS


def _is_01(a):
    return a.size > 0 and bool(np.isin(a, (0, 1)).all())


def _is_integral(a):
    return a.dtype.kind in "biu" or (a.dtype.kind == "f" and bool((a == np.round(a)).all()))


def _infer_task(y, s):
    """The task that fits labels ``y`` and model outputs ``s`` of shape (n, out)."""
    out = s.shape[1]
    if y.ndim == 1:
        if out <= 2 and _is_01(y):
            return "binary"
        if out == 1:
            return "regression"
        if _is_integral(y):
            return "multiclass"
        raise ValueError(
            f"The model outputs {out} values per sample but y_test is 1-D with "
            "non-integer values: use integer class labels, or pass task=."
        )
    if y.shape[1] != out:
        raise ValueError(
            f"y_test has {y.shape[1]} columns but the model outputs {out} values "
            "per sample; they must match."
        )
    if not _is_01(y):
        return "regression"
    one_hot = bool((y.sum(axis=1) == 1).all())
    # Outputs in [0, 1] whose rows do not sum to 1: independent sigmoids.
    probs_not_softmax = (bool(((s >= 0) & (s <= 1)).all())
                         and not np.allclose(s.sum(axis=1), 1, atol=1e-3))
    return "multiclass" if one_hot and not probs_not_softmax else "multilabel"


def _check_fit(task, y, s):
    """Raise if ``task`` cannot describe labels ``y`` and outputs ``s``."""
    out = s.shape[1]
    problem = None
    if task == "binary":
        if out > 2:
            problem = f"binary needs 1 output (sigmoid) or 2 (softmax), the model has {out}"
        elif y.ndim == 2 and not (y.shape[1] == 2 and _is_01(y)):
            problem = f"binary needs 1-D 0/1 labels, y_test has shape {y.shape}"
        elif y.ndim == 1 and not _is_01(y):
            problem = f"binary needs labels 0/1, y_test holds {np.unique(y)[:5].tolist()}"
    elif task == "multiclass":
        if out < 2:
            problem = "multiclass needs one output per class, the model has 1"
        elif y.ndim == 2 and (y.shape[1] != out or not _is_01(y)):
            problem = f"multiclass needs labels (n,) or one-hot (n, {out}), y_test has shape {y.shape}"
        elif y.ndim == 1 and not (_is_integral(y) and y.min() >= 0 and y.max() < out):
            problem = (f"multiclass needs integer labels 0..{out - 1} for {out} outputs; "
                       f"y_test ranges {y.min()}..{y.max()}")
    elif task == "multilabel":
        if y.ndim != 2 or y.shape[1] != out or not _is_01(y):
            problem = f"multilabel needs 0/1 rows of shape (n, {out}), y_test has shape {y.shape}"
    elif (1 if y.ndim == 1 else y.shape[1]) != out:
        problem = f"regression needs one output per target, the model has {out} for y_test of shape {y.shape}"
    if problem:
        raise ValueError(f"task={task!r} does not fit: {problem}.")


def _evaluate(y_true, y_score, task, class_names, threshold, from_logits):
    """Metrics dict plus the arrays the plots need."""
    task = check_choice("task", task, ("auto", *TASKS))
    threshold = check_float("threshold", threshold, 0.0, 1.0, include_low=False)
    y = np.asarray(y_true)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y_test must hold numbers (class ids 0..k-1 or targets), "
                        f"got dtype {y.dtype}.")
    check_finite(y, name="y_test")
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2:
        raise ValueError(f"Model outputs must have shape (n,) or (n, k), got {s.shape}.")
    rows = bad_rows(s)
    if len(rows):
        raise ValueError(describe_rows("the model's predictions", rows)
                         + "; training may have diverged.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2) or len(y) != len(s):
        raise ValueError(f"y_test has shape {y.shape} but there are {len(s)} predictions.")
    task = _infer_task(y, s) if task == "auto" else task
    _check_fit(task, y, s)

    if from_logits is None:
        from_logits = bool(task != "regression" and ((s < 0) | (s > 1)).any())
    report = {"task": task, "num_samples": len(y), "from_logits": from_logits}
    if task == "regression":
        pred = s[:, 0] if y.ndim == 1 else s
        report.update(regression_scores(y.astype(np.float64), pred))
        return report, {"y": y, "pred": pred}

    if task in ("binary", "multiclass") and y.ndim == 2:
        y = y.argmax(axis=1)
    y = y.astype(np.int64)
    k = 2 if task == "binary" else s.shape[1]
    if task == "multilabel" or (task == "binary" and s.shape[1] == 1):
        probs = expit(s) if from_logits else s
    else:
        probs = softmax(s, axis=1) if from_logits else s
    if task == "binary":
        probs = probs[:, -1]
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names but there are {k} classes.")
    report.update(num_classes=k, class_names=names, threshold=float(threshold))
    if task == "multilabel":
        report.update(multilabel_scores(y, probs, names, threshold))
    else:
        report.update(classification_scores(y, probs, task, names, threshold))
    return report, {"y": y, "probs": probs}


def evaluate_predictions(y_true, y_score, task="auto", class_names=None,
                         threshold=0.5, from_logits=None):
    """Metrics for model outputs you already have (no files written).

    Args: as in ``evaluate``, with ``y_score`` the model's outputs.

    Returns:
        An ``EvaluationReport``.
    """
    report, _ = _evaluate(y_true, y_score, task, class_names, threshold, from_logits)
    return EvaluationReport(report)


def _check_input_shape(model, x):
    try:
        expected = model.input_shape
    except (AttributeError, ValueError):
        return  # unbuilt or multi-input model: let predict decide
    if not (isinstance(expected, tuple) and all(d is None or isinstance(d, int) for d in expected)):
        return
    fits = len(expected) == x.ndim and all(
        e is None or e == d for e, d in zip(expected[1:], x.shape[1:]))
    if not fits:
        raise ValueError(f"x_test has shape {x.shape} but the model expects inputs of "
                         f"shape {expected} (None: any size).")


def _write_plots(report, arrays, training, out_dir):
    """``training``: ``plots.history_dict(history)``, or None without a history."""
    files = {}

    def path(key):
        files[key] = f"{key}.png"
        return os.path.join(out_dir, files[key])

    if training is not None:
        plots.plot_history(training, path("training_curves"))
        files["history"] = "history.json"
        with open(os.path.join(out_dir, files["history"]), "w") as f:
            json.dump(to_plain(training), f)
    if report["task"] == "regression":
        plots.plot_predictions(arrays["y"], arrays["pred"], path("predictions"))
        return files
    if report["task"] != "multilabel":
        plots.plot_confusion_matrix(report["confusion_matrix"], report["class_names"],
                                    path("confusion_matrix"))
    if report.get("roc_auc") is not None:
        plots.plot_roc_curves(arrays["y"], arrays["probs"], report["class_names"],
                              path("roc_curve"))
    return files


def evaluate(model, x_test, y_test, task="auto", out_dir=None, history=None,
             class_names=None, batch_size=256, threshold=0.5, from_logits=None):
    """Evaluate a trained model with scikit-learn metrics; write report and plots.

    Adds to ``model.evaluate``: metrics Keras does not compute (per-class
    precision/recall/F1, averaged three ways, ROC AUC, confusion matrix,
    R2), task inference, readable/JSON report files and PNG plots.

    Report keys: ``task``, ``num_samples``, ``from_logits``; for
    binary/multiclass ``accuracy``, ``precision_{macro,micro,weighted}``
    (same for ``recall_*``, ``f1_*``), ``per_class`` (precision, recall,
    f1, support, and roc_auc for multiclass), ``confusion_matrix``,
    ``roc_auc`` and ``average_precision`` (binary; one-vs-rest macro for
    multiclass), and for binary ``precision``/``recall``/``f1`` of class 1.
    Multilabel: ``accuracy`` (exact match), ``hamming_loss``, the averages,
    ``per_class`` with a 2x2 ``confusion_matrix`` each, ``roc_auc`` and
    ``average_precision`` (macro), ``roc_auc_micro``.
    Regression: ``mse``, ``rmse``, ``mae``, ``r2`` (and ``per_output``).
    With ``history``: ``training`` (epochs, last values).

    Args:
        model: a trained model with ``predict`` (e.g. a ``keras.Model``).
        x_test: test inputs.
        y_test: test targets: class ids, one-hot or 0/1 rows, or values.
        task: ``"auto"`` (from output shape and labels: 1 output and 0/1
            labels is binary, 1 output otherwise regression, k outputs with
            int labels multiclass, 0/1 rows that are not one-hot multilabel)
            or one of ``TASKS``.
        out_dir: if set, write ``report.json``, ``report.txt`` and PNGs:
            ``training_curves.png`` and ``history.json`` (with ``history``),
            ``confusion_matrix.png`` and ``roc_curve.png`` (classification),
            ``predictions.png`` (regression).
        history: the ``History`` from ``model.fit`` or its ``.history`` dict.
        class_names: names for classes ``0..k-1``.
        batch_size: batch size for ``model.predict``.
        threshold: probability above which a binary/multilabel output is 1.
        from_logits: whether outputs are logits; None guesses (any output
            outside [0, 1] means logits).

    Returns:
        An ``EvaluationReport`` (a dict; ``print(report)`` for a summary).

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> report = evaluate(model, np.random.rand(30, 4), np.arange(30) % 3)
    >>> report.task, len(report["confusion_matrix"])
    ('multiclass', 3)
    """
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict method, got {type(model).__name__}.")
    check_int("batch_size", batch_size, 1)
    x = np.asarray(x_test)
    check_finite(x, name="x_test")
    if len(x) != len(np.asarray(y_test)):
        raise ValueError(f"x_test and y_test must have the same number of rows, got "
                         f"{len(x)} and {len(np.asarray(y_test))}.")
    training = plots.history_dict(history) if history is not None else None
    _check_input_shape(model, x)
    y_score = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(y_score, (list, tuple, dict)):
        raise TypeError("evaluate() handles single-output models; for several outputs "
                        "call evaluate_predictions() once per output.")
    report, arrays = _evaluate(y_test, y_score, task, class_names, threshold, from_logits)
    if training is not None:
        report["training"] = {"epochs": max(len(v) for v in training.values()),
                              "final": {k: v[-1] for k, v in training.items()}}
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        report["files"] = _write_plots(report, arrays, training, out_dir)
        report["files"].update(json="report.json", text="report.txt")
    report = EvaluationReport(report)
    if out_dir is not None:
        report.save(out_dir)
    return report
