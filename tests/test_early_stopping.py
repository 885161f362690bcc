"""callbacks.EarlyStopping on real tiny training runs."""

import copy
import inspect
import math
import warnings

import keras
import numpy as np
import pytest

from callbacks.backup_and_restore import BackupAndRestore
from callbacks.early_stopping import EarlyStopping
from probes import StopAt, WeightsPerEpoch, linear_data


def _model(learning_rate=0.01):
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    return model


class Scripted(keras.callbacks.Callback):
    """Adds ``key`` to the epoch logs from a fixed list (a metric callback)."""

    def __init__(self, values, key="val_custom"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def _fit(callbacks, epochs, model=None):
    model = model or _model()
    x, y = linear_data()
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0,
                        callbacks=callbacks, shuffle=False)
    return model, history


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def test_constructor_matches_keras():
    ours = inspect.signature(EarlyStopping).parameters
    theirs = inspect.signature(keras.callbacks.EarlyStopping).parameters
    assert list(ours)[:len(theirs)] == list(theirs)
    for name, param in theirs.items():
        assert ours[name].default == param.default, name
        assert ours[name].kind == param.kind, name
    extra = [p for p in ours if p not in theirs]
    assert all(ours[p].kind is inspect.Parameter.KEYWORD_ONLY for p in extra)


def test_patience_stop_matches_keras():
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    ours = EarlyStopping(monitor="val_custom", mode="min", patience=2)
    _, history = _fit([Scripted(values), ours], epochs=7)
    keras_es = keras.callbacks.EarlyStopping(monitor="val_custom", mode="min",
                                             patience=2)
    _, keras_history = _fit([Scripted(values), keras_es], epochs=7)
    assert len(history.history["loss"]) == len(keras_history.history["loss"])
    assert len(history.history["loss"]) == 4
    assert ours.stopped_epoch == keras_es.stopped_epoch == 3
    assert (ours.stop_reason, ours.best_epoch) == ("patience", 1)


@pytest.mark.parametrize(
    "values, kwargs, reason, stopped, best",
    [
        ([1.0, 0.5, 0.6, 0.7, 0.2], {"patience": 2}, "patience", 3, 1),
        ([1.0, 0.5, 0.7, 50.0, 0.1], {"patience": 9,
                                      "divergence_threshold": 10.0},
         "divergence", 3, 1),
        ([1.0, 0.5, math.nan, 0.1, 0.1], {"patience": 9}, "non_finite", 2, 1),
        ([1.0, 0.5, 0.7, 0.05, 0.5], {"patience": 9,
                                      "stopping_threshold": 0.1},
         "threshold", 3, 3),
        ([1.0, 0.2, 0.5, 0.6, 0.7], {"patience": 9}, None, 0, 1),
    ],
    ids=["patience", "divergence", "non_finite", "threshold", "epoch_limit"],
)
def test_restores_best_weights_on_every_ending(values, kwargs, reason,
                                               stopped, best):
    stopper = EarlyStopping(monitor="val_custom", mode="min",
                            restore_best_weights=True, **kwargs)
    capture = WeightsPerEpoch()
    model, history = _fit([stopper, Scripted(values), capture], epochs=5)
    assert stopper.stop_reason == reason
    assert stopper.stopped_epoch == stopped
    assert stopper.best_epoch == best
    assert len(history.history["loss"]) == (stopped + 1 if reason else 5)
    assert _same(model.get_weights(), capture.weights[best])
    if best != len(capture.weights) - 1:  # restored, not merely left as is
        assert not _same(model.get_weights(), capture.weights[-1])


def test_non_finite_loss_from_real_training_stops_and_restores():
    # A huge rate from epoch 2 drives the real loss to inf/NaN.
    boost = keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: 1e6 if epoch >= 2 else 0.01)
    stopper = EarlyStopping(monitor="loss", patience=5,
                            restore_best_weights=True)
    capture = WeightsPerEpoch()
    model, history = _fit([boost, stopper, capture], epochs=8)
    assert stopper.stop_reason == "non_finite"
    assert not math.isfinite(history.history["loss"][-1])
    assert len(history.history["loss"]) < 8
    assert stopper.best_epoch == 1
    assert _same(model.get_weights(), capture.weights[1])
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_max_mode_threshold_and_divergence():
    up = EarlyStopping(monitor="val_custom", mode="max", patience=9,
                       stopping_threshold=0.9)
    _fit([up, Scripted([0.5, 0.8, 0.95, 0.99])], epochs=4)
    assert (up.stop_reason, up.stopped_epoch) == ("threshold", 2)
    down = EarlyStopping(monitor="val_custom", mode="max", patience=9,
                         divergence_threshold=0.3)
    _fit([down, Scripted([0.5, 0.8, 0.2, 0.99])], epochs=4)
    assert (down.stop_reason, down.stopped_epoch) == ("divergence", 2)


def test_monitors_key_added_by_a_later_callback():
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]
    ours = EarlyStopping(monitor="val_custom", mode="min", patience=2)
    _, history = _fit([ours, Scripted(values)], epochs=6)
    assert ours.stop_reason == "patience"
    assert len(history.history["loss"]) == 4
    # Keras's own callback, placed first, never sees the key.
    keras_es = keras.callbacks.EarlyStopping(monitor="val_custom", mode="min",
                                             patience=2)
    with pytest.warns(UserWarning, match="val_custom"):
        _, keras_history = _fit([keras_es, Scripted(values)], epochs=6)
    assert len(keras_history.history["loss"]) == 6


def test_missing_key_warns_once_listing_available_keys():
    stopper = EarlyStopping(monitor="val_f1", mode="max", patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, history = _fit([stopper, Scripted([0.1] * 3)], epochs=3)
    messages = [str(w.message) for w in caught if "val_f1" in str(w.message)]
    assert len(messages) == 1
    assert "available: loss, val_custom" in messages[0]
    assert len(history.history["loss"]) == 3
    assert stopper.stop_reason is None


# Only what Keras would fail on later (or silently ignore: NaN); what Keras
# accepts (patience=1.5, -1, mode="best") is in tests/test_keras_dropin.py.
@pytest.mark.parametrize("kwargs, error, needle", [
    ({"patience": "5"}, TypeError, "`patience` must be a number"),
    ({"patience": float("nan")}, ValueError, "patience"),
    ({"min_delta": None}, TypeError, "min_delta"),
    ({"monitor": None}, TypeError, "monitor"),
    ({"restore_best_weights": "yes"}, TypeError, "restore_best_weights"),
    ({"stopping_threshold": "low"}, TypeError, "stopping_threshold"),
    ({"start_from_epoch": "2"}, TypeError, "start_from_epoch"),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, needle):
    with pytest.raises(error, match=needle):
        EarlyStopping(**kwargs)


def test_get_config_and_deepcopy_after_fit():
    stopper = EarlyStopping(monitor="val_custom", mode="min", patience=1,
                            divergence_threshold=5.0,
                            restore_best_weights=True)
    _fit([stopper, Scripted([1.0, 2.0, 3.0])], epochs=3)
    config = stopper.get_config()
    assert config["divergence_threshold"] == 5.0 and config["patience"] == 1
    rebuilt = EarlyStopping.from_config(config)
    assert rebuilt.get_config() == config
    clone = copy.deepcopy(stopper)
    assert clone._model is None and stopper.model is not None
    assert clone.get_config() == config
    # The copy is a working, independent callback.
    _fit([clone, Scripted([1.0, 0.5, 0.4])], epochs=3)
    assert clone.stop_reason is None and stopper.stop_reason == "patience"


def test_hooks_called_by_hand_decide_in_place():
    model = _model()
    stopper = EarlyStopping(monitor="loss", patience=1)
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    for epoch, loss in enumerate([1.0, 1.5, 2.0]):
        stopper.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            break
    assert (stopper.stop_reason, stopper.stopped_epoch) == ("patience", 1)


def test_resumes_patience_with_backup_and_restore(tmp_path):
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]

    def callbacks(backup_dir):
        return [StopAt(-1), EarlyStopping(monitor="val_custom", mode="min",
                                          patience=3,
                                          restore_best_weights=True),
                BackupAndRestore(backup_dir), Scripted(values)]

    keras.utils.set_random_seed(1)
    whole = callbacks(tmp_path / "whole")
    model, history = _fit(whole, epochs=8)
    assert whole[1].stop_reason == "patience"
    expected = len(history.history["loss"])
    expected_weights = model.get_weights()

    keras.utils.set_random_seed(1)
    first = callbacks(tmp_path / "backup")
    first[0].epoch = 3  # interrupted mid-patience (wait=1)
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(first, epochs=8, model=model)
    done = len(model.history.history["loss"])
    second = callbacks(tmp_path / "backup")
    _, resumed = _fit(second, epochs=8, model=model)
    assert done + len(resumed.history["loss"]) == expected
    assert (second[1].stop_reason, second[1].best_epoch) == ("patience", 1)
    assert _same(model.get_weights(), expected_weights)
