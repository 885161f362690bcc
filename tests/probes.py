"""Small callbacks the tests use to look into, or break, a real `fit`."""

import keras


class StopAt(keras.callbacks.Callback):
    """Simulates a crash at the start of ``epoch``."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


class WeightsPerEpoch(keras.callbacks.Callback):
    """Records the model's weights at every epoch end."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
