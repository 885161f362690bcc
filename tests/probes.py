"""Small callbacks the tests use to look into, or break, a real `fit`, and
the tiny regression data they train on."""

import keras
import numpy as np


def linear_data(n=32, seed=0):
    """``n`` rows of 4 normal features and their exact linear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32"))[:, None]
    return x, y


class Subclassed(keras.Model):
    """A subclassed model, Dense(6, tanh) then Dense(1): no weights exist
    before its first call."""

    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(6, activation="tanh", name="hidden")
        self.out = keras.layers.Dense(1, name="out")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


class StopAt(keras.callbacks.Callback):
    """Simulates a crash at the start of ``epoch``."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


class RaiseAtEpochEnd(StopAt):
    """Simulates a crash in ``on_epoch_end`` of ``epoch`` (after the epoch ran)."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


class _Weights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []


class WeightsPerEpoch(_Weights):
    """Records the model's weights at every epoch end."""

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


class WeightsPerStep(_Weights):
    """Records the model's weights after every training step."""

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())
