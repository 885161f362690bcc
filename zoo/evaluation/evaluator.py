"""Evaluate a trained model on test data: metrics, report files and plots.

``evaluate(model, x_test, y_test, log_dir=...)`` runs ``model.predict``,
infers the task from the output shape and the labels, computes every metric
with ``sklearn.metrics``, and writes ``report.json``, ``report.txt`` and PNG
plots. ``evaluate_predictions(y_true, y_score)`` does the same from outputs
you already have.
"""

import json
import os

import numpy as np

from zoo.evaluation import figures as plots
from zoo.core.checks import check_choice, check_float, check_folder, check_int
from zoo.core.checks import renamed_arguments
from zoo.core.data_checks import check_fit_data, check_rows
from zoo.core.files import write_text
from zoo.core.pipelines import check_dataset, is_dataset, predict_pairs
from zoo.core.finite import bad_rows, check_finite, describe_rows
from zoo.evaluation.report import EvaluationReport, to_plain
from zoo.evaluation.scores import classification_scores, probabilities, regression_scores
from zoo.core.heads import resolve_head
from zoo.core.tasks import TASKS


def _evaluate(y_true, y_score, task, class_names, threshold, from_logits, model=None):
    """Metrics dict plus the arrays the plots need; `model` gives head clues."""
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
    head = resolve_head(y, s, task, from_logits, model, labels_name="y_test")
    task, from_logits, y = head.task, head.from_logits, head.labels
    report = {"task": task, "num_samples": len(y), "from_logits": from_logits}
    if task == "regression":
        pred = s[:, 0] if y.ndim == 1 else s
        report.update(regression_scores(y, pred))
        return report, {"y": y, "pred": pred}

    k = head.n_classes
    probs = probabilities(s, task, from_logits)
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names but there are {k} classes.")
    report.update(num_classes=k, class_names=names, threshold=float(threshold))
    scores = classification_scores(y, probs, task, names, threshold)
    if task != "binary":  # precision/recall/f1 are the macro ones, already shown
        for key in ("precision", "recall", "f1"):
            del scores[key]
    if task == "multilabel":  # shown per label, in per_class
        del scores["confusion_matrix"]
    report.update(scores)
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


def _write_plots(report, arrays, training, log_dir):
    """``training``: ``plots.history_dict(history)``, or None without a history."""
    files = {}

    def path(key):
        files[key] = f"{key}.png"
        return os.path.join(log_dir, files[key])

    if training is not None:
        plots.plot_history(training, path("training_curves"))
        files["history"] = "history.json"
        write_text(os.path.join(log_dir, files["history"]), json.dumps(to_plain(training)))
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


def _predict_arrays(model, x_test, y_test, task, batch_size):
    x = check_rows(x_test, "x_test", owner="evaluate")
    check_rows(y_test, "y_test", owner="evaluate")
    check_finite(x, name="x_test")
    if len(x) != len(np.asarray(y_test)):
        raise ValueError(f"x_test and y_test must have the same number of rows, got "
                         f"{len(x)} and {len(np.asarray(y_test))}.")
    _check_input_shape(model, x)
    if task == "auto" and hasattr(model, "layers"):
        check_fit_data(model, x, y_test, x_name="x_test", y_name="y_test", owner="evaluate",
                       by_loss=False)
    return y_test, model.predict(x, batch_size=batch_size, verbose=0)


def _predict_dataset(model, dataset, y_test, task):
    """Labels and predictions from one pass over a `(x, y)` pipeline."""
    check_dataset(dataset, "x_test", "evaluate", y=y_test, y_name="y_test", weights=False)
    if not callable(getattr(model, "predict_on_batch", None)):
        raise TypeError("evaluate: a tf.data.Dataset as `x_test` needs a model with "
                        f"`predict_on_batch` (a keras.Model); got {type(model).__name__}.")
    y_test, y_score = predict_pairs(model, dataset, "x_test", owner="evaluate")
    if task == "auto" and hasattr(model, "layers"):
        check_fit_data(model, None, y_test, y_name="y_test", owner="evaluate")
    return y_test, y_score


@renamed_arguments(out_dir="log_dir")
def evaluate(model, x_test, y_test=None, task="auto", log_dir=None, history=None,
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
        x_test: test inputs, or a finite batched ``tf.data.Dataset`` of
            ``(x, y)`` (read once; labels are kept with their predictions,
            so a reshuffling pipeline scores right; an infinite one is
            refused).
        y_test: test targets: class ids, one-hot or 0/1 rows, or values;
            ``None`` when ``x_test`` is a dataset.
        task: ``"auto"`` or one of ``TASKS``. ``"auto"`` reads the model's
            head (a ``zoo.build`` head, the compiled loss, the output
            activation), then the output width and the labels (1 output and
            0/1 labels is binary, 1 output otherwise regression, k outputs
            with int labels multiclass, 0/1 rows that are not one-hot
            multilabel); see ``zoo.core.heads.resolve_head``.
        log_dir: if set, write ``report.json``, ``report.txt`` and PNGs:
            ``training_curves.png`` and ``history.json`` (with ``history``),
            ``confusion_matrix.png`` and ``roc_curve.png`` (classification),
            ``predictions.png`` (regression). (Its old name ``out_dir``
            still works, with a ``DeprecationWarning``.)
        history: the ``History`` from ``model.fit`` or its ``.history`` dict.
        class_names: names for classes ``0..k-1``.
        batch_size: batch size for ``model.predict`` (arrays only: a
            dataset keeps its own batches).
        threshold: probability above which a binary/multilabel output is 1.
        from_logits: whether outputs are logits; None infers it from the
            output activation, then the loss, then the values (any output
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
    log_dir = check_folder("log_dir", log_dir, owner="evaluate", allow_none=True)
    if is_dataset(x_test):
        y_test, y_score = _predict_dataset(model, x_test, y_test, task)
    else:
        y_test, y_score = _predict_arrays(model, x_test, y_test, task, batch_size)
    training = plots.history_dict(history) if history is not None else None
    if isinstance(y_score, (list, tuple, dict)):
        raise TypeError("evaluate() handles single-output models; for several outputs "
                        "call evaluate_predictions() once per output.")
    report, arrays = _evaluate(y_test, y_score, task, class_names, threshold, from_logits,
                               model)
    if training is not None:
        report["training"] = {"epochs": max(len(v) for v in training.values()),
                              "final": {k: v[-1] for k, v in training.items()}}
    if log_dir is not None:
        log_dir = os.fspath(log_dir)
        os.makedirs(log_dir, exist_ok=True)
        report["files"] = _write_plots(report, arrays, training, log_dir)
        report["files"].update(json="report.json", text="report.txt")
    report = EvaluationReport(report)
    if log_dir is not None:
        report.save(log_dir)
    return report
