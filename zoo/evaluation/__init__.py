"""Evaluation: scikit-learn scores, figures and the report of a trained model.

| module      | what it holds                                                |
|-------------|--------------------------------------------------------------|
| `evaluator` | `evaluate(model, x, y)`, `evaluate_predictions(y, scores)`   |
| `ensemble`  | `evaluate_ensemble(models, x, y)`: the mean of their outputs |
| `scores`    | the scikit-learn scores for each task                        |
| `figures`   | confusion matrix, ROC curves, training curves, predictions   |
| `report`    | `EvaluationReport`: the numbers, written as JSON and text    |
"""

from zoo.evaluation.ensemble import Ensemble, evaluate_ensemble
from zoo.evaluation.evaluator import evaluate, evaluate_predictions
from zoo.evaluation.report import EvaluationReport

__all__ = ["Ensemble", "EvaluationReport", "evaluate", "evaluate_ensemble",
           "evaluate_predictions"]
