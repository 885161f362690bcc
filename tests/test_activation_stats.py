"""callbacks.ActivationStats: dead ReLUs and saturated sigmoid/tanh, in logs and TensorBoard."""

import copy
import warnings

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

import callbacks
from callbacks.activation_stats import ActivationWarning
from tests.tb_utils import read_scalars

RNG = np.random.default_rng(0)
X = RNG.normal(size=(96, 8)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


def fit(model, stats, epochs=2):
    model.compile(keras.optimizers.SGD(0.01), "binary_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(X, Y, epochs=epochs, batch_size=32, verbose=0, callbacks=[stats])
    return history.history, [w for w in caught if issubclass(w.category, ActivationWarning)]


def dead_model():
    """A healthy ReLU layer, then one made dead on purpose (bias -50 on N(0, 1) inputs)."""
    inputs = keras.Input((8,))
    h = keras.layers.Dense(16, activation="relu", name="healthy")(inputs)
    h = keras.layers.Dense(16, activation="relu", name="dead",
                           bias_initializer=keras.initializers.Constant(-50.0))(h)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    return keras.Model(inputs, outputs)


def histogram_tags(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: [e.step for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]
            if acc.SummaryMetadata(tag).plugin_data.plugin_name == "histograms"}


def test_flags_the_dead_layer_and_not_the_healthy_one(tmp_path):
    stats = callbacks.ActivationStats(X[:64], log_dir=tmp_path)
    logs, caught = fit(dead_model(), stats)
    assert logs["dead_fraction/dead"] == [1.0, 1.0]
    assert logs["zero_fraction/dead"] == [1.0, 1.0]
    assert logs["dead_fraction/healthy"][-1] < 0.2
    assert 0.2 < logs["zero_fraction/healthy"][-1] < 0.8  # sparse, as ReLU is, not dead
    assert logs["activation_std/healthy"][-1] > 0 == logs["activation_std/dead"][-1]
    assert "saturated_fraction/out" in logs and "dead_fraction/out" not in logs
    assert stats.flagged == {"dead": ["dead"]}
    # One warning, when the layer became dead, naming it and not the healthy one.
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "'dead'" in message and "100% of its ReLU units are dead" in message
    assert "healthy" not in message
    scalars = read_scalars(tmp_path / "train")
    for tag in ("dead_fraction/dead", "dead_fraction/healthy", "zero_fraction/healthy",
                "activation_mean/healthy", "activation_std/out", "saturated_fraction/out"):
        assert [step for step, _ in scalars[tag]] == [0, 1], tag
    assert [v for _, v in scalars["dead_fraction/dead"]] == [1.0, 1.0]
    assert histogram_tags(tmp_path / "train") == {
        f"activations/{name}": [0, 1] for name in ("healthy", "dead", "out")}


def test_saturation_on_a_sequential_model_built_by_fit():
    model = keras.Sequential([  # no Input: built by fit, after on_train_begin
        keras.layers.Dense(8, activation="tanh", name="tanh",
                           kernel_initializer=keras.initializers.Constant(10.0)),
        keras.layers.Dense(4, activation="tanh", name="calm",
                           kernel_initializer=keras.initializers.Constant(0.01)),
        keras.layers.Dense(1, activation="sigmoid", name="out",
                           bias_initializer=keras.initializers.Constant(30.0)),
    ])
    stats = callbacks.ActivationStats(X, every=2, histograms=False)
    logs, caught = fit(model, stats, epochs=3)
    assert sorted(stats.history) == [1, 2]  # every 2nd epoch, and the last
    assert len(logs["saturated_fraction/tanh"]) == 2
    assert logs["saturated_fraction/tanh"][-1] > 0.9
    assert logs["saturated_fraction/out"][-1] == 1.0
    assert logs["saturated_fraction/calm"][-1] < 0.1
    assert stats.flagged == {"tanh": ["saturated"], "out": ["saturated"]}
    assert len(caught) == 1 and "'calm'" not in str(caught[0].message)


def test_only_the_named_layers():
    stats = callbacks.ActivationStats(X, layers=["healthy"])
    logs, _ = fit(dead_model(), stats, epochs=1)
    assert sorted(k for k in logs if "/" in k) == [
        "activation_mean/healthy", "activation_std/healthy", "dead_fraction/healthy",
        "zero_fraction/healthy"]


def test_deep_copy_shares_the_sample_and_config_round_trips():
    stats = callbacks.ActivationStats(X, every=3, max_samples=50, log_dir=None,
                                      dead_warning=0.9, saturation=0.95)
    stats.set_model(dead_model())
    clone = copy.deepcopy(stats)  # what keras-tuner does for every trial
    assert clone._x is stats._x and len(clone._x) == 50
    assert clone.model is None and stats.model is not None
    config = stats.get_config()
    assert callbacks.ActivationStats(X, **config).get_config() == config


def test_bad_arguments_are_clear_errors_before_training():
    with pytest.raises(ValueError, match=r"ActivationStats: `every` must be an integer >= 1"):
        callbacks.ActivationStats(X, every=0)
    with pytest.raises(ValueError, match=r"`saturation`"):
        callbacks.ActivationStats(X, saturation=0.3)
    with pytest.raises(TypeError, match=r"`x` must be a non-empty array"):
        callbacks.ActivationStats([])
    model = dead_model()
    model.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"no layer\(s\) \['nope'\].*'healthy'"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[callbacks.ActivationStats(X, layers=["nope"])])

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, activation="sigmoid")

        def call(self, x):
            return self.dense(x)

    sub = Subclassed()
    sub.compile("sgd", "binary_crossentropy")
    with pytest.raises(TypeError, match="functional or Sequential"):
        sub.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.ActivationStats(X)])
