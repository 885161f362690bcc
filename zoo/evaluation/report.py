"""``EvaluationReport``: metrics as a JSON-ready dict that prints readably."""

import json
import math
import os

import numpy as np

from zoo.core.checks import renamed_arguments
from zoo.core.files import write_text

_AVERAGES = ("macro", "micro", "weighted")
_HEADLINE = ("accuracy", "precision", "recall", "f1", "roc_auc", "roc_auc_micro",
             "average_precision",
             "hamming_loss", "mse", "rmse", "mae", "r2")


def to_plain(value):
    """Convert NumPy values to plain JSON types; NaN and Inf become None."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _num(value):
    return "n/a" if value is None else f"{value:.4f}"


class EvaluationReport(dict):
    """Evaluation metrics: a dict of plain JSON types with attribute access.

    ``report["accuracy"]`` and ``report.accuracy`` are the same value.
    ``str(report)`` (or ``to_text()``) is a readable summary, ``to_json()``
    the JSON text, and ``save(log_dir)`` writes both as ``report.json`` and
    ``report.txt``. See ``zoo.evaluation.evaluate`` for the keys.
    """

    def __init__(self, values=()):
        super().__init__(to_plain(dict(values)))

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def task(self):
        return self.get("task")

    def to_json(self, indent=2):
        return json.dumps(to_plain(self), indent=indent)

    def to_text(self):
        lines = [f"Evaluation report: {self.get('task')} task, "
                 f"{self.get('num_samples')} samples"]
        if self.get("from_logits"):
            lines.append("(model outputs were logits; converted to probabilities)")
        for key in _HEADLINE:
            if key in self:
                label = {"precision": "precision (positive class)",
                         "recall": "recall (positive class)",
                         "f1": "f1 (positive class)"}.get(key, key)
                if key in ("roc_auc", "average_precision") and self.task != "binary":
                    label = f"{key} (one-vs-rest, macro)"
                if key == "accuracy" and self.task == "multilabel":
                    label = "accuracy (exact match)"
                lines.append(f"  {label:<30} {_num(self[key])}")
        for avg in _AVERAGES:
            if f"f1_{avg}" in self:
                lines.append(
                    f"  {avg + ' avg':<30} precision {_num(self[f'precision_{avg}'])}"
                    f"  recall {_num(self[f'recall_{avg}'])}  f1 {_num(self[f'f1_{avg}'])}"
                )
        if self.get("roc_auc_note"):
            lines.append(f"  note: {self['roc_auc_note']}")
        per_class = self.get("per_class")
        if per_class:
            width = max(12, *(len(n) for n in per_class)) + 2
            auc = any("roc_auc" in m for m in per_class.values())
            lines += ["", f"{'class':<{width}}precision    recall        f1   support"
                      + ("  roc_auc" if auc else "")]
            for name, m in per_class.items():
                lines.append(
                    f"{name:<{width}}{_num(m['precision']):>9}{_num(m['recall']):>10}"
                    f"{_num(m['f1']):>10}{m['support']:>10}"
                    + (f"  {_num(m.get('roc_auc'))}" if auc else "")
                )
        if self.get("confusion_matrix"):
            lines += ["", "confusion matrix (rows: true, columns: predicted)"]
            lines += ["  " + " ".join(f"{v:>5}" for v in row) for row in self["confusion_matrix"]]
        for key, values in self.get("per_output", {}).items():
            lines.append(f"  {key} per output: " + ", ".join(_num(v) for v in values))
        training = self.get("training")
        if training:
            final = ", ".join(f"{k} {_num(v)}" for k, v in training["final"].items())
            lines += ["", f"training: {training['epochs']} epochs; last epoch: {final}"]
        if self.get("files"):
            lines += ["", "files: " + ", ".join(self["files"].values())]
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()

    @renamed_arguments(out_dir="log_dir")
    def save(self, log_dir):
        """Write ``report.json`` and ``report.txt`` into ``log_dir``; return it.

        (The old name of ``log_dir``, ``out_dir``, still works, with a
        ``DeprecationWarning``.)
        """
        log_dir = os.fspath(log_dir)
        os.makedirs(log_dir, exist_ok=True)
        write_text(os.path.join(log_dir, "report.json"), self.to_json() + "\n")
        write_text(os.path.join(log_dir, "report.txt"), self.to_text() + "\n")
        return log_dir
