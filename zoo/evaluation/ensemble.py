"""Ensembles: several trained models scored on the average of their outputs.

Averaging the probabilities of models trained from different random
starts (or on different data) usually scores better than any one of them:
their errors are partly independent and average out. Keras has no model
that does this for separately trained models; `Ensemble` is one
(`predict` only), and `evaluate_ensemble` scores it with
`zoo.evaluation.evaluate`.
"""

import numpy as np

from zoo.evaluation.evaluator import evaluate


class Ensemble:
    """Averages the `predict` outputs of several models.

    Everything `evaluate` reads besides `predict` (`input_shape`, `layers`,
    `loss`, ...) comes from the first model, so the members should share
    their architecture's head: the same task and output size.

    Args:
        models: two or more trained models with `predict` (e.g. `keras.Model`s)
            that output probabilities, as `zoo.build` heads do: the mean of
            logits is not the mean of probabilities.

    Example:

    >>> import keras, numpy as np
    >>> members = [keras.Sequential([keras.Input((4,)),
    ...                              keras.layers.Dense(3, activation="softmax")])
    ...            for _ in range(2)]
    >>> x = np.random.rand(5, 4)
    >>> mean = (members[0].predict(x, verbose=0) + members[1].predict(x, verbose=0)) / 2
    >>> bool(np.allclose(Ensemble(members).predict(x), mean))
    True
    """

    def __init__(self, models):
        if not isinstance(models, (list, tuple)):
            raise TypeError(f"`models` must be a list or tuple of models; got "
                            f"{type(models).__name__}.")
        models = list(models)
        if len(models) < 2:
            raise ValueError(f"`models` must hold two or more models to average; "
                             f"got {len(models)}.")
        for i, model in enumerate(models):
            if not callable(getattr(model, "predict", None)):
                raise TypeError(f"`models[{i}]` must have a predict method; got "
                                f"{type(model).__name__}.")
        self.models = models

    def predict(self, x, batch_size=None, verbose=0, **kwargs):
        """The mean of the members' `predict(x)`, as float64."""
        outputs = [np.asarray(m.predict(x, batch_size=batch_size, verbose=verbose, **kwargs),
                              dtype=np.float64) for m in self.models]
        shapes = {o.shape for o in outputs}
        if len(shapes) > 1:
            raise ValueError(f"The ensemble's models give outputs of different shapes "
                             f"{sorted(shapes)}; they must match to be averaged.")
        return np.mean(outputs, axis=0)

    def __getattr__(self, name):
        if name == "models":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.models[0], name)


def evaluate_ensemble(models, x_test, y_test, **kwargs):
    """`evaluate` for the average of several models' outputs.

    The score is exactly the score of the averaged probabilities:
    `evaluate_predictions(y_test, mean of model.predict(x_test))`, plus the
    files and plots `evaluate` writes.

    Args:
        models: the trained models (see `Ensemble`).
        x_test: test inputs.
        y_test: test targets.
        **kwargs: passed to `evaluate` (`task`, `log_dir`, `class_names`,
            `batch_size`, `threshold`, ...).

    Returns:
        An `EvaluationReport`.

    Example:

    >>> import keras, numpy as np
    >>> members = [keras.Sequential([keras.Input((4,)),
    ...                              keras.layers.Dense(3, activation="softmax")])
    ...            for _ in range(3)]
    >>> report = evaluate_ensemble(members, np.random.rand(30, 4), np.arange(30) % 3)
    >>> report.task
    'multiclass'
    """
    return evaluate(Ensemble(models), x_test, y_test, **kwargs)
