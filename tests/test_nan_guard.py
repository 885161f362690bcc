"""A NaN or Inf in the middle of training stops it, keeps finite weights, and
never reaches a file on disk."""

import json

import keras
import numpy as np
import pytest

import callbacks
from callbacks.backup_and_restore import load_backup
from probes import WeightsPerStep
from recipes.common import save_model


def _model():
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu", name="hidden"),
        keras.layers.Dense(1, name="out"),
    ])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def _finite(weights):
    return all(np.isfinite(w).all() for w in weights)


def test_nan_batch_stops_on_that_step_and_keeps_last_finite_weights(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    x[44] = np.nan  # the sixth batch of 8 (batch size 8, no shuffling)
    model = _model()
    monitor = callbacks.GradientNormMonitor(on_exploding="stop")
    steps = WeightsPerStep()
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"),
                                        delete_checkpoint=False)
    with pytest.warns(Warning, match="epoch 1, batch 6"):
        model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                  callbacks=[monitor, steps, backup])

    # Training ends on the bad step, which was not applied.
    assert len(steps.weights) == 6
    assert int(model.optimizer.iterations) == 5
    final = model.get_weights()
    assert _finite(final)
    for a, b in zip(final, steps.weights[4]):
        np.testing.assert_array_equal(a, b)

    event = monitor.events[0]
    assert event["type"] == "non_finite" and event["batch"] == 5
    # Which layers went non-finite, deepest first.
    assert event["message"].index("out") < event["message"].index("hidden")

    # The backup holds the finite weights of the stop.
    restored = _model()
    load_backup(restored, tmp_path / "backup" / "latest.weights.npz")
    assert _finite(restored.get_weights())


def test_diverging_learning_rate_stops_with_finite_weights(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = 100 * x.sum(axis=1, keepdims=True)
    model = _model()
    model.compile(keras.optimizers.SGD(10.0), "mse")  # diverges in a few steps
    monitor = callbacks.GradientNormMonitor(on_exploding="stop")
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"),
                                        delete_checkpoint=False)
    with pytest.warns(Warning, match="non-finite"):
        history = model.fit(x, y, batch_size=8, epochs=20, verbose=0,
                            callbacks=[monitor, backup])
    assert len(history.history["loss"]) < 20  # stopped early
    assert any(e["type"] == "non_finite" for e in monitor.events)
    assert _finite(model.get_weights())
    meta = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    restored = _model()
    load_backup(restored, tmp_path / "backup" / "latest.weights.npz")
    assert _finite(restored.get_weights()) and meta["epoch"] >= 1


def test_backup_never_overwritten_with_non_finite_weights(tmp_path):
    x = np.ones((16, 4), "float32")
    y = np.ones((16, 1), "float32")
    model = _model()
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    good = (tmp_path / "backup" / "latest.weights.npz").read_bytes()

    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.layers[0].kernel.assign(np.full((4, 8), np.nan, "float32"))

    with pytest.warns(UserWarning, match="not finite"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[Poison(), backup])  # resumes at 1
    assert (tmp_path / "backup" / "latest.weights.npz").read_bytes() == good


@pytest.mark.parametrize("writer", [callbacks.BackupAndRestore,
                                    keras.callbacks.BackupAndRestore])
def test_backup_resumes_weights_and_optimizer_from_ours_or_keras_files(tmp_path, writer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = _model()
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[writer(str(tmp_path), delete_checkpoint=False)])
    resumed = _model()
    resumed.compile(keras.optimizers.Adam(0.01), "mse")
    history = resumed.fit(x, y, epochs=3, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(str(tmp_path))])
    assert len(history.history["loss"]) == 1  # resumed after epoch 2
    model.fit(x, y, epochs=1, verbose=0)  # the same third epoch, uninterrupted
    for a, b in zip(model.get_weights() + [v.numpy() for v in model.optimizer.variables],
                    resumed.get_weights() + [v.numpy() for v in resumed.optimizer.variables]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_save_model_refuses_non_finite_weights_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.keras"
    model = _model()
    save_model(model, path)
    before = path.read_bytes()
    model.layers[0].kernel.assign(np.full((4, 8), np.inf, "float32"))
    with pytest.raises(RuntimeError, match="non-finite"):
        save_model(model, path)
    assert path.read_bytes() == before
