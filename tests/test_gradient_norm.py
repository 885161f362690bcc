"""callbacks.GradientNormMonitor: real tiny training runs; norms checked
against gradients computed independently with tf.GradientTape."""

import copy
import csv
import re

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image as mpimg

import tb_utils
from callbacks import GradientNormMonitor
from callbacks._scalar_series import ScalarSeriesWriter
from callbacks.gradient_norm import (
    ExplodingGradientError,
    GradientNormWarning,
    VanishingGradientError,
)
from tests.probes import Subclassed


def regression_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1).astype("float32")
    return x, y


def build(style="sequential", optimizer=None, **compile_kwargs):
    if style == "sequential":
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(6, activation="tanh", name="hidden"),
                keras.layers.Dense(1, name="out"),
            ]
        )
    elif style == "functional":
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(6, activation="tanh", name="hidden")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden))
    else:
        model = Subclassed()
    model.compile(
        optimizer or keras.optimizers.SGD(0.05), "mse", **compile_kwargs
    )
    return model


def tape_norms(model, x, y):
    """Global and per-layer L2 gradient norms of the mean squared error."""
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    squares = {
        id(v): float(tf.reduce_sum(g**2))
        for v, g in zip(model.trainable_variables, grads)
    }
    layers = {
        layer.name: np.sqrt(sum(squares[id(v)] for v in layer.trainable_variables))
        for layer in model.layers
        if layer.trainable_variables
    }
    return float(tf.linalg.global_norm(grads)), layers


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_logged_norms_are_the_training_steps_own_gradients(style):
    x, y = regression_data()
    model = build(style)
    model(x[:1])  # build the subclassed model before taking the tape
    expected_global, expected_layers = tape_norms(model, x, y)
    monitor = GradientNormMonitor()
    history = model.fit(
        x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0, callbacks=[monitor]
    )
    assert monitor.history["global_norm"].tolist() == pytest.approx([expected_global], rel=1e-5)
    assert list(monitor.history["layer_norm"]) == ["hidden", "out"]
    for name, norm in expected_layers.items():
        assert monitor.history["layer_norm"][name][0] == pytest.approx(norm, rel=1e-5)
    assert history.history["grad_norm"] == pytest.approx([expected_global], rel=1e-5)
    assert history.history["grad_norm_max"] == pytest.approx([expected_global], rel=1e-5)


def test_epoch_logs_tensorboard_and_csv_see_the_norms(tmp_path):
    x, y = regression_data()
    model = build()
    monitor = GradientNormMonitor(log_dir=tmp_path / "tb")
    csv_path = tmp_path / "log.csv"
    history = model.fit(
        x, y, batch_size=8, epochs=2, verbose=0,
        callbacks=[monitor, keras.callbacks.CSVLogger(str(csv_path))],
    )
    steps, norms = monitor.history["step"], monitor.history["global_norm"]
    assert steps.tolist() == list(range(1, 9))
    assert history.history["grad_norm"] == pytest.approx(
        [norms[:4].mean(), norms[4:].mean()], rel=1e-5
    )
    assert history.history["grad_norm_max"] == pytest.approx(
        [norms[:4].max(), norms[4:].max()], rel=1e-6
    )
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["grad_norm"]) for r in rows] == pytest.approx(history.history["grad_norm"])

    scalars = tb_utils.read_scalars(tmp_path / "tb" / "train")
    step = "gradient_norm_step/"
    assert [s for s, _ in scalars[step + "00_global"]] == list(range(1, 9))
    assert [v for _, v in scalars[step + "00_global"]] == pytest.approx(norms.tolist())
    for tag, name in (("01_hidden", "hidden"), ("02_out", "out")):  # by depth
        logged = scalars[step + tag]
        assert [v for _, v in logged] == pytest.approx(
            monitor.history["layer_norm"][name].tolist()
        )
    assert [v for _, v in scalars["gradient_norm_epoch/global_mean"]] == pytest.approx(
        history.history["grad_norm"]
    )
    assert [s for s, _ in scalars["gradient_norm_epoch/global_max"]] == [0, 1]


def test_every_step_recorded_when_an_epoch_outgrows_the_device_buffer(tmp_path):
    # 300 steps an epoch: the 256-row buffer is read mid-epoch and wraps.
    x, y = regression_data(n=300)
    model = build(optimizer=keras.optimizers.SGD(0.0))  # weights stay put
    expected = [tape_norms(model, x[i : i + 1], y[i : i + 1])[0] for i in range(len(x))]
    monitor = GradientNormMonitor(log_dir=tmp_path)
    history = model.fit(
        x, y, batch_size=1, epochs=2, shuffle=False, verbose=0, callbacks=[monitor]
    )
    assert monitor.history["step"].tolist() == list(range(1, 601))
    np.testing.assert_allclose(monitor.history["global_norm"], expected * 2, rtol=1e-4)
    assert history.history["grad_norm"] == pytest.approx([np.mean(expected)] * 2, rel=1e-4)
    logged = tb_utils.read_scalars(tmp_path / "train")["gradient_norm_step/00_global"]
    assert [s for s, _ in logged] == list(range(1, 601))


def test_update_frequencies_thin_tensorboard_and_layer_history(tmp_path):
    x, y = regression_data()
    monitor = GradientNormMonitor(log_dir=tmp_path, update_freq=3, layer_update_freq=2)
    build().fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[monitor])
    scalars = tb_utils.read_scalars(tmp_path / "train")
    assert [s for s, _ in scalars["gradient_norm_step/00_global"]] == [3, 6]
    assert [s for s, _ in scalars["gradient_norm_step/01_hidden"]] == [2, 4, 6, 8]
    assert monitor.history["step"].tolist() == list(range(1, 9))  # checks see all
    assert monitor.history["layer_step"].tolist() == [2, 4, 6, 8]


def test_no_extra_forward_pass():
    class Counting(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.calls.assign_add(1.0)
            return self.dense(x)

    x, y = regression_data()
    counts = []
    for callbacks in ([], [GradientNormMonitor()]):
        model = Counting()
        model.compile(keras.optimizers.SGD(0.01), "mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
        counts.append(float(model.calls.numpy()))
    assert counts[0] == counts[1] == 8.0


def test_optimizer_and_step_function_restored_after_fit():
    x, y = regression_data()
    model = build()
    model.fit(x, y, batch_size=8, verbose=0)  # traced without the monitor
    plain_function = model.train_function
    monitor = GradientNormMonitor()
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    assert "apply" not in model.optimizer.__dict__
    assert model.train_function is plain_function
    capture = monitor._tracks[0].capture
    assert not any(v is capture.state for v in model.optimizer.variables)
    state = capture.state.numpy().copy()
    model.fit(x, y, batch_size=8, verbose=0)  # without the monitor
    np.testing.assert_array_equal(capture.state.numpy(), state)
    assert len(monitor.history["step"]) == 4
    # A second fit with the monitor continues its step count.
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    assert monitor.history["step"].tolist() == list(range(1, 9))


def test_recovers_when_another_callback_aborts_the_fit():
    class Abort(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    x, y = regression_data()
    model = build()
    model.fit(x, y, batch_size=8, verbose=0)
    plain_function = model.train_function
    monitor = GradientNormMonitor()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor, Abort()])
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    assert monitor.history["step"].tolist() == list(range(1, 6))
    # One wrapper only: the norm is not recorded twice per step.
    expected_global, _ = tape_norms(model, x, y)
    model.fit(x, y, batch_size=len(x), shuffle=False, verbose=0, callbacks=[monitor])
    assert monitor.history["global_norm"][-1] == pytest.approx(expected_global, rel=1e-5)
    assert "apply" not in model.optimizer.__dict__
    assert model.train_function is plain_function


def test_tensorboard_series_round_trips_steps_and_values(tmp_path):
    writer = ScalarSeriesWriter(tmp_path, "train", suffix=".series")
    expected = {"a/x": [], "a/y": []}
    for flush in range(3):
        steps = np.array([2 * flush + 1, 2 * flush + 2])
        table = np.array([[s / 10, np.nan if s == 4 else -s] for s in steps])
        writer.write(steps, ["a/x", "a/y"], table)
        for step, row in zip(steps, table):
            for tag, value in zip(["a/x", "a/y"], row):
                expected[tag].append((step, value))
        writer.flush()
    writer.close()
    assert [p.name.endswith(".series") for p in (tmp_path / "train").iterdir()] == [True]
    scalars = tb_utils.read_scalars(tmp_path / "train")
    for tag, points in expected.items():
        assert [s for s, _ in scalars[tag]] == [s for s, _ in points]
        np.testing.assert_allclose(
            [v for _, v in scalars[tag]], [v for _, v in points], rtol=1e-6
        )


def test_vanishing_gradients_reported_deepest_first():
    init = keras.initializers.RandomNormal(stddev=0.05)
    model = keras.Sequential(
        [keras.Input((4,))]
        + [
            keras.layers.Dense(8, activation="sigmoid", kernel_initializer=init, name=f"d{i}")
            for i in range(10)
        ]
        + [keras.layers.Dense(1, name="head")]
    )
    model.compile(keras.optimizers.SGD(0.01), "mse")
    monitor = GradientNormMonitor(vanishing_threshold=1e-6, patience=3)
    x, y = regression_data()
    with pytest.warns(GradientNormWarning, match="Vanishing gradients"):
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[monitor])
    event = monitor.events[0]
    assert event["type"] == "vanishing" and event["step"] == 3
    depth = {f"d{i}": i for i in range(10)}
    depths = [depth[name] for name in event["layers"]]
    assert depths == sorted(depths, reverse=True) and depths[-1] == 0
    assert "head" not in event["layers"]
    for name in event["layers"]:
        assert np.all(monitor.history["layer_norm"][name][:3] < 1e-6)
    assert re.search(r"deepest first: d\d \(.+\), d\d \(", event["message"])


@pytest.mark.parametrize("action", ["stop", "raise"])
def test_vanishing_actions(action):
    x, y = regression_data()
    monitor = GradientNormMonitor(
        vanishing_threshold=1e3, patience=2, on_vanishing=action
    )
    model = build()
    if action == "raise":
        with pytest.raises(VanishingGradientError, match="hidden"):
            model.fit(x, y, batch_size=4, verbose=0, callbacks=[monitor])
        assert "apply" not in model.optimizer.__dict__
    else:
        with pytest.warns(GradientNormWarning, match="Stopping training"):
            model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[monitor])
        assert monitor.history["step"].tolist() == [1, 2]
    assert [e["type"] for e in monitor.events] == ["vanishing"]


@pytest.mark.parametrize("action", ["warn", "stop", "raise"])
def test_exploding_threshold_actions(action):
    x, y = regression_data()
    monitor = GradientNormMonitor(exploding_threshold=1e-3, on_exploding=action)
    model = build()

    def fit():
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[monitor])

    if action == "raise":
        with pytest.raises(ExplodingGradientError, match="exploding_threshold=0.001"):
            fit()
        assert "apply" not in model.optimizer.__dict__
        assert monitor.history["step"].tolist() == [1]
    else:
        with pytest.warns(GradientNormWarning, match="Exploding gradients at epoch 1, batch 1"):
            fit()
        # Every step is above the threshold: one episode, one report.
        assert len(monitor.history["step"]) == (8 if action == "warn" else 1)
    assert len(monitor.events) == 1
    event = monitor.events[0]
    assert (event["type"], event["step"], event["action"]) == ("exploding", 1, action)
    assert event["global_norm"] > 1e-3


def test_non_finite_gradient_stops_on_the_same_step():
    x, y = regression_data()
    x[13] = np.nan  # in the 4th batch of 4
    monitor = GradientNormMonitor(on_exploding="stop")
    with pytest.warns(GradientNormWarning, match="non-finite gradient"):
        build().fit(x, y, batch_size=4, shuffle=False, epochs=2, verbose=0, callbacks=[monitor])
    assert monitor.history["step"].tolist() == [1, 2, 3, 4]
    assert np.all(np.isfinite(monitor.history["global_norm"][:3]))
    event = monitor.events[0]
    assert (event["type"], event["step"], event["batch"]) == ("non_finite", 4, 3)
    assert event["layers"] == ["out", "hidden"]


def test_steps_per_execution_keeps_epoch_values_exact():
    x, y = regression_data()
    logs = []
    for steps in (1, 4):
        keras.utils.set_random_seed(0)
        model = build(steps_per_execution=steps)
        monitor = GradientNormMonitor()
        history = model.fit(
            x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[monitor]
        )
        logs.append(history.history)
    assert logs[1]["grad_norm"] == pytest.approx(logs[0]["grad_norm"], rel=1e-5)
    assert logs[1]["grad_norm_max"] == pytest.approx(logs[0]["grad_norm_max"], rel=1e-5)
    # Every step is recorded, not only the last of each execution.
    assert monitor.history["step"].tolist() == list(range(1, 17))


@pytest.mark.parametrize(
    "compile_kwargs",
    [
        {"jit_compile": True},
        {"run_eagerly": True},
        {"loss_scale": True},
        {"loss_scale_factor": 128.0},
    ],
    ids=["xla", "eager", "loss-scale-optimizer", "loss-scale-factor"],
)
def test_matches_plain_run_under_xla_eager_and_loss_scaling(compile_kwargs):
    x, y = regression_data()
    norms = []
    for kwargs in ({}, compile_kwargs):
        keras.utils.set_random_seed(0)
        kwargs = dict(kwargs)
        optimizer = keras.optimizers.SGD(
            0.05, loss_scale_factor=kwargs.pop("loss_scale_factor", None)
        )
        if kwargs.pop("loss_scale", False):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        monitor = GradientNormMonitor()
        build(optimizer=optimizer, **kwargs).fit(
            x, y, batch_size=8, shuffle=False, verbose=0, callbacks=[monitor]
        )
        norms.append(monitor.history["global_norm"])
    np.testing.assert_allclose(norms[1], norms[0], rtol=1e-4)


def test_embedding_gradients_are_densified_like_the_update():
    tokens = np.array([[1, 1, 2], [3, 1, 1]] * 4, "int32")  # repeated indices
    y = np.linspace(0, 1, len(tokens)).astype("float32")[:, None]
    model = keras.Sequential(
        [keras.Input((3,), dtype="int32"), keras.layers.Embedding(5, 2, name="emb"),
         keras.layers.Flatten(), keras.layers.Dense(1, name="out")]
    )
    model.compile(keras.optimizers.SGD(0.1), "mse")
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(tokens, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    assert isinstance(grads[0], tf.IndexedSlices)
    monitor = GradientNormMonitor()
    model.fit(tokens, y, batch_size=len(y), shuffle=False, verbose=0, callbacks=[monitor])
    assert monitor.history["layer_norm"]["emb"][0] == pytest.approx(
        float(tf.norm(tf.convert_to_tensor(grads[0]))), rel=1e-5
    )


def test_summary_print_and_plot(tmp_path, capsys):
    x, y = regression_data()
    monitor = GradientNormMonitor(plot_path=tmp_path / "auto.png", verbose=1)
    with pytest.raises(RuntimeError, match="recorded nothing"):
        monitor.summary()
    build().fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[monitor])
    summary = monitor.summary()
    assert list(summary["layers"]) == ["hidden", "out"]
    for name, stats in summary["layers"].items():
        values = monitor.history["layer_norm"][name]
        assert stats["min"] == pytest.approx(values.min())
        assert stats["median"] == pytest.approx(np.median(values))
        assert stats["max"] == pytest.approx(values.max())
    assert summary["global"]["max"] == pytest.approx(monitor.history["global_norm"].max())
    printed = capsys.readouterr().out
    assert "hidden" in printed and "median" in printed
    for path in (tmp_path / "auto.png", monitor.plot(tmp_path / "again.png")):
        pixels = mpimg.imread(path)
        assert pixels.shape == (450, 800, 4)
        assert pixels[..., :3].std() > 0.05  # not blank


def test_history_is_bounded_and_keeps_exact_extremes():
    x, y = regression_data(64)
    monitor = GradientNormMonitor(max_history=5)
    build().fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[monitor])
    steps = monitor.history["step"]
    assert len(steps) <= 5 and steps[0] == 1 and steps[-1] >= 9
    assert np.all(np.diff(steps) == steps[1] - steps[0])  # evenly thinned
    kept = monitor.history["global_norm"]
    assert monitor.summary()["global"]["max"] >= kept.max()


def test_config_round_trip_and_deepcopy(tmp_path):
    monitor = GradientNormMonitor(
        log_dir=tmp_path, update_freq=2, exploding_threshold=1e6,
        on_vanishing="stop", plot_path=tmp_path / "p.png",
    )
    config = monitor.get_config()
    assert GradientNormMonitor.from_config(config).get_config() == config
    before = copy.deepcopy(monitor)
    assert before.get_config() == config
    x, y = regression_data()
    build().fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    after = copy.deepcopy(monitor)
    assert after.get_config() == config
    np.testing.assert_array_equal(after.history["global_norm"], monitor.history["global_norm"])
    # Copies train on their own model; the original's record is untouched.
    build().fit(x, y, batch_size=4, verbose=0, callbacks=[after])
    assert len(after.history["step"]) == 8 and len(monitor.history["step"]) == 4


def test_keras_tuner_objective_on_grad_norm(tmp_path):
    x, y = regression_data()

    def hypermodel(hp):
        return build(optimizer=keras.optimizers.SGD(hp.Choice("lr", [0.01, 0.1])))

    tuner = keras_tuner.RandomSearch(
        hypermodel, objective=keras_tuner.Objective("grad_norm", "min"),
        max_trials=1, directory=tmp_path, project_name="t", seed=0,
    )
    tuner.search(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[GradientNormMonitor()])
    best = tuner.oracle.get_best_trials(1)[0]
    assert np.isfinite(best.metrics.get_last_value("grad_norm"))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"on_vanishing": "explode"},
            ValueError,
            r"GradientNormMonitor: `on_vanishing` must be one of "
            r"\['raise', 'stop', 'warn'\]; got 'explode'",
        ),
        ({"on_exploding": None}, ValueError, "on_exploding"),
        ({"update_freq": 0}, ValueError, "`update_freq` must be an integer >= 1"),
        ({"layer_update_freq": 1.5}, TypeError, "`layer_update_freq` must be an integer"),
        ({"patience": 0}, ValueError, "patience"),
        ({"vanishing_threshold": -1.0}, ValueError, "`vanishing_threshold` must be a finite number > 0"),
        ({"exploding_threshold": float("inf")}, ValueError, "`exploding_threshold` must be a finite number"),
        ({"max_history": 1}, ValueError, "max_history"),
        ({"log_dir": 3}, TypeError, "`log_dir` must be None or a path"),
        ({"plot_path": "norms.txt"}, ValueError, "`plot_path` must end with an image suffix"),
        ({"verbose": 2}, ValueError, "verbose"),
    ],
)
def test_invalid_arguments_fail_before_training(kwargs, error, match):
    with pytest.raises(error, match=match):
        GradientNormMonitor(**kwargs)
