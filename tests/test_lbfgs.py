"""Full-batch L-BFGS (`zoo.models.lbfgs.fit_lbfgs`) on real tiny Keras models."""

import keras
import numpy as np
import pytest

import callbacks
import zoo
from zoo.models.lbfgs import fit_lbfgs

ITERATIONS = 15


def _data(n=200, seed=0):
    """Two Gaussian blobs, linearly separable up to a few points."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 5)) + 1.5 * (2 * y[:, None] - 1) * np.array([1, -1, 0.5, 0, 0])
    return x.astype("float32"), y.astype("int64")


def _logistic_regression(l2=0.0):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(1, activation="sigmoid",
                           kernel_regularizer=keras.regularizers.L2(l2) if l2 else None),
    ])
    return zoo.compile_model(model, task="binary", optimizer="sgd", learning_rate=0.5)


def test_lbfgs_beats_full_batch_sgd_in_as_many_steps_and_trains_in_place():
    x, y = _data()
    sgd, lbfgs = _logistic_regression(), _logistic_regression()
    start = [w.copy() for w in lbfgs.get_weights()]
    np.testing.assert_array_equal(start[0], sgd.get_weights()[0])  # same starting point

    sgd_loss = sgd.fit(x, y, batch_size=len(x), epochs=ITERATIONS, verbose=0).history["loss"]
    history = fit_lbfgs(lbfgs, x, y, max_iterations=ITERATIONS).history

    assert 0 < len(history["loss"]) <= ITERATIONS
    assert history["evaluations"] == sorted(history["evaluations"])
    final_sgd = sgd.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    final_lbfgs = lbfgs.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    # The second-order method gets far lower in the same number of steps.
    assert final_lbfgs < 0.5 * final_sgd, (final_lbfgs, final_sgd, sgd_loss[-1])
    # The model itself holds the result: its weights moved, and its loss is
    # the last one recorded.
    assert not np.allclose(lbfgs.get_weights()[0], start[0])
    assert final_lbfgs == pytest.approx(history["loss"][-1], rel=1e-3, abs=1e-6)
    assert history["loss"][-1] < history["loss"][0]


def test_lbfgs_minimizes_the_regularized_loss_and_scores_validation():
    x, y = _data()
    plain, penalized = _logistic_regression(), _logistic_regression(l2=0.1)
    fit_lbfgs(plain, x, y, max_iterations=ITERATIONS)
    history = fit_lbfgs(penalized, x, y, max_iterations=ITERATIONS,
                        validation_data=(x[:50], y[:50])).history
    # The L2 penalty is part of what L-BFGS minimizes: smaller weights.
    assert np.linalg.norm(penalized.get_weights()[0]) < 0.7 * np.linalg.norm(plain.get_weights()[0])
    n = len(history["loss"])
    assert len(history["val_loss"]) == len(history["val_accuracy"]) == n
    assert history["val_accuracy"][-1] > 0.9


def test_lbfgs_calls_keras_callbacks_once_per_iteration_and_can_be_stopped():
    x, y = _data()
    model = _logistic_regression()
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"], logs["evaluations"])))
    stop = callbacks.EarlyStopping(monitor="loss", mode="min", stopping_threshold=0.02)
    history = fit_lbfgs(model, x, y, max_iterations=50, callbacks=[record, stop])
    losses = history.history["loss"]
    assert [epoch for epoch, _, _ in seen] == history.epoch == list(range(len(losses)))
    assert [loss for _, loss, _ in seen] == losses
    # Stopped by the threshold, well before 50 iterations, on the first
    # iteration at or below it; the model keeps that iteration's weights.
    assert stop.stop_reason == "threshold" and len(losses) < 50
    assert losses[-1] <= 0.02 < losses[-2]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(
        losses[-1], rel=1e-3)
    assert "StopIteration" in history.params["message"]


def test_lbfgs_rejects_bad_input_before_training():
    x, y = _data(20)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compiled model"):
        fit_lbfgs(model, x, y)
    model = _logistic_regression()
    before = model.get_weights()[0].copy()
    with pytest.raises(ValueError, match="max_iterations"):
        fit_lbfgs(model, x, y, max_iterations=0)
    with pytest.raises(ValueError, match="same length"):
        fit_lbfgs(model, x, y[:10])
    with pytest.raises(TypeError, match="keras.Model"):
        fit_lbfgs("model", x, y)
    np.testing.assert_array_equal(model.get_weights()[0], before)
