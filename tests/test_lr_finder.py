"""LR range test on a real tiny regression problem."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image

from callbacks import schedules
from callbacks.lr_finder import LRFinder
from callbacks.lr_finder import find_learning_rate
from probes import linear_data


def _model(optimizer=None, with_input=True):
    layers = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    model = keras.Sequential(([keras.Input((4,))] if with_input else [])
                             + layers)
    model.compile(optimizer or keras.optimizers.SGD(0.01), "mse")
    return model


def _snapshot(model):
    return ([w.copy() for w in model.get_weights()],
            [keras.ops.convert_to_numpy(v).copy()
             for v in model.optimizer.variables])


def _assert_same(before, after):
    for a, b in zip(before[0] + before[1], after[0] + after[1]):
        np.testing.assert_array_equal(a, b)
    assert [len(p) for p in before] == [len(p) for p in after]


def test_suggests_a_working_rate_and_leaves_the_model_as_it_was(tmp_path):
    x, y = linear_data(256)
    model = _model(keras.optimizers.Adam(1e-3))
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # Adam slots
    before = _snapshot(model)
    plot = tmp_path / "lr.png"
    finder = find_learning_rate(model, x, y, min_lr=1e-5, max_lr=10.0,
                                num_steps=100, batch_size=32, plot_path=plot)
    _assert_same(before, _snapshot(model))
    assert model.history is history
    assert finder.stop_reason in {"diverged", "non_finite"}
    assert 1e-5 <= finder.learning_rates[0] < finder.learning_rates[-1] <= 10
    assert 1e-3 <= finder.suggestion <= 1.0, finder.suggestion
    assert finder.suggestion in finder.learning_rates
    assert finder.suggestion_method == "steepest"
    # The plot is a real PNG.
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.imread(plot).shape[2] in (3, 4)
    # The suggestion trains well; the sweep's first rate barely moves.
    losses = {}
    for rate in (finder.suggestion, finder.learning_rates[0]):
        keras.utils.set_random_seed(0)
        fresh = _model(keras.optimizers.Adam(rate))
        losses[rate] = fresh.fit(x, y, batch_size=32, epochs=3,
                                 verbose=0).history["loss"][-1]
    assert losses[finder.suggestion] < 0.5 * losses[finder.learning_rates[0]]


def test_sweep_is_exponential_and_stops_at_num_steps():
    x, y = linear_data(64)
    model = _model()
    before = _snapshot(model)
    finder = find_learning_rate(model, x, y, min_lr=1e-6, max_lr=1e-3,
                                num_steps=20, batch_size=16)
    assert finder.stop_reason == "completed"
    np.testing.assert_allclose(finder.learning_rates,
                               np.geomspace(1e-6, 1e-3, 20), rtol=1e-6)
    assert len(finder.losses) == len(finder.smoothed_losses) == 20
    _assert_same(before, _snapshot(model))
    figure = finder.plot()
    assert figure.axes[0].get_xscale() == "log"


def test_losses_are_per_batch_on_a_dataset():
    x, y = linear_data(64)
    model = _model()
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    # Rates too small to move the weights: each loss is its batch's loss.
    finder = find_learning_rate(model, batches, min_lr=1e-9, max_lr=1e-8,
                                num_steps=12, batch_size=None)
    per_batch = [model.evaluate(bx, by, verbose=0) for bx, by in batches]
    np.testing.assert_allclose(finder.losses, per_batch * 3, rtol=1e-4)


def test_unbuilt_model_is_built_from_the_data():
    x, y = linear_data(64)
    model = _model(with_input=False)
    finder = find_learning_rate(model, x, y, min_lr=1e-4, max_lr=1.0,
                                num_steps=10, batch_size=16)
    assert model.built and len(finder.losses) >= 2
    assert not model.optimizer.iterations.numpy()


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"min_lr": 1.0, "max_lr": 0.1}, ValueError, "`max_lr` must be a finite number > 1.0"),
    ({"min_lr": 1.0, "max_lr": 1.0}, ValueError, "`max_lr` must be a finite number > 1.0"),
    ({"min_lr": 0.0}, ValueError, "LRFinder: `min_lr` must be a finite number > 0; got 0.0"),
    ({"min_lr": -1e-3}, ValueError, "`min_lr` must be a finite number > 0"),
    ({"num_steps": 5}, ValueError, "`num_steps` must be an integer >= 10"),
    ({"num_steps": 50.0}, TypeError, "`num_steps` must be an integer"),
    ({"batch_size": 0}, ValueError, "find_learning_rate: `batch_size` must be an integer >= 1"),
    ({"smoothing": 1.0}, ValueError, "`smoothing` must be a finite number >= 0 and < 1"),
    ({"diverge_factor": 1.0}, ValueError, "`diverge_factor` must be a finite number > 1"),
])
def test_bad_arguments_fail_before_training(kwargs, error, needle):
    x, y = linear_data(32)
    model = _model()
    before = _snapshot(model)
    with pytest.raises(error, match=needle):
        find_learning_rate(model, x, y, **kwargs)
    _assert_same(before, _snapshot(model))


def test_needs_a_compiled_model_with_a_float_rate():
    x, y = linear_data(32)
    with pytest.raises(ValueError, match="compile the model first"):
        find_learning_rate(keras.Sequential([keras.Input((4,)),
                                             keras.layers.Dense(1)]), x, y)
    scheduled = _model(keras.optimizers.SGD(
        schedules.OneCycle(0.1, total_steps=20)))
    with pytest.raises(ValueError, match="float learning_rate"):
        find_learning_rate(scheduled, x, y)
    with pytest.raises(TypeError, match="keras.Model"):
        find_learning_rate("model", x, y)


def test_suggestion_falls_back_to_a_tenth_of_the_minimum():
    finder = LRFinder(1e-3, 1.0, num_steps=10)
    finder.learning_rates = np.geomspace(1e-3, 1.0, 6).tolist()
    finder.losses = [1.0, 0.4, 0.5, 3.0, 9.0, 20.0]
    np.testing.assert_allclose(finder.smoothed_losses[:2], [0.8, 1.9 / 3])
    assert finder.suggestion_method == "min/10"
    assert finder.suggestion == pytest.approx(finder.learning_rates[1] / 10)
    with pytest.raises(ValueError, match="too few"):
        LRFinder().suggestion
