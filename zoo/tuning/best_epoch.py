"""The weights of a trial's best epoch, kept in memory."""

import keras


class BestEpoch(keras.callbacks.Callback):
    """Keep a copy of the weights of the best epoch so far, in memory.

    It stands in for keras-tuner's `SaveBestEpoch`, which writes the weights
    to the trial's checkpoint file at every epoch that improves the
    objective: on a small model that write is a good part of an epoch. The
    tuners of `zoo.tuning.tuners` write a trial's checkpoint once, at its
    end, and only when it is kept (the best trial so far, or every trial
    with `checkpoints="all"`). As `SaveBestEpoch`, it keeps the last epoch
    when the objective is not in the logs, and one instance serves all the
    executions of a trial.

    Args:
        objective: the `keras_tuner.Objective`.

    Example:

    >>> import keras_tuner as kt
    >>> keep = BestEpoch(kt.Objective("val_loss", "min"))
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> keep.set_model(model)
    >>> keep.on_epoch_end(0, {"val_loss": 0.5})
    >>> keep.on_epoch_end(1, {"val_loss": 0.7})  # worse: the copy is epoch 0's
    >>> keep.best_epoch, keep.best_value
    (0, 0.5)
    """

    def __init__(self, objective):
        super().__init__()
        self.objective = objective
        self.best_value = float("-inf") if objective.direction == "max" else float("inf")
        self.best_epoch = None
        self.weights = None

    def get_config(self):
        return {"objective": self.objective}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.objective.has_value(logs):
            value = self.objective.get_value(logs)
            if self.weights is not None and not self.objective.better_than(
                    value, self.best_value):
                return
            if self.objective.better_than(value, self.best_value):
                self.best_value = value
        self.best_epoch = epoch
        self.weights = self.model.get_weights()

    def restore(self, model):
        """Give `model` the kept weights; False if there are none."""
        if self.weights is None:
            return False
        model.set_weights(self.weights)
        return True
