"""GradientNormMonitor (and LearningRateLogger) beyond one compiled
optimizer on one device: models built by `fit`, a GAN's own optimizers,
`tf.distribute.MirroredStrategy`, and the JAX backend (child processes).
Norms are checked against gradients computed independently."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tb_utils
from callbacks import GradientNormMonitor, LearningRateLogger
from callbacks.gradient_norm import GradientNormWarning
from tests.backends import run_snippet
from tests.probes import Subclassed

_DATA = """
import json, warnings
import numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=(32, 4)).astype("float32")
y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1).astype("float32")
"""
exec(_DATA)  # x, y: the same data here and in the child processes


def _tape_norms(model):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    layers = {}
    for variable, grad in zip(model.trainable_variables, grads):
        name = variable.path.split("/")[-2]
        layers[name] = layers.get(name, 0.0) + float(tf.reduce_sum(grad**2))
    return float(tf.linalg.global_norm(grads)), {k: v**0.5 for k, v in layers.items()}


@pytest.mark.parametrize("style", ["sequential-without-input", "subclassed"])
def test_models_built_by_fit_get_layer_norms_and_the_vanishing_alarm(style):
    if style == "subclassed":
        model = Subclassed()
    else:
        model = keras.Sequential([keras.layers.Dense(6, activation="tanh", name="hidden"),
                                  keras.layers.Dense(1, name="out")])
    model.compile(keras.optimizers.SGD(0.0), "mse")  # weights stay the first step's
    assert not model.built
    monitor = GradientNormMonitor(vanishing_threshold=1e3, patience=2)
    with pytest.warns(GradientNormWarning, match=r"Vanishing gradients .* step 2\).* out .*hidden"):
        model.fit(x, y, batch_size=len(x), epochs=3, verbose=0, callbacks=[monitor])
    expected_global, expected_layers = _tape_norms(model)
    assert list(monitor.history["layer_norm"]) == ["hidden", "out"]
    for name, norm in expected_layers.items():
        np.testing.assert_allclose(monitor.history["layer_norm"][name], [norm] * 3, rtol=1e-5)
    np.testing.assert_allclose(monitor.history["global_norm"], [expected_global] * 3, rtol=1e-5)
    assert [e["type"] for e in monitor.events] == ["vanishing"]


class GAN(keras.Model):
    """keras.io's DCGAN pattern, tiny: `compile()` leaves `model.optimizer`
    the unused default, the train step applies two optimizers of its own."""

    def __init__(self):
        super().__init__()
        self.discriminator = keras.Sequential(
            [keras.layers.Dense(4, activation="tanh", name="d_hidden"),
             keras.layers.Dense(1, name="d_out")], name="discriminator")
        self.generator = keras.Sequential([keras.layers.Dense(4, name="g_out")], name="generator")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def call(self, inputs):
        return self.discriminator(self.generator(inputs))

    def gradients(self, real):
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        ones, zeros = tf.ones_like(real[:, :1]), tf.zeros_like(real[:, :1])
        with tf.GradientTape() as tape:
            d_loss = bce(ones, self.discriminator(real)) + bce(
                zeros, self.discriminator(self.generator(real)))
        d_grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        with tf.GradientTape() as tape:
            g_loss = bce(ones, self.discriminator(self.generator(real)))
        g_grads = tape.gradient(g_loss, self.generator.trainable_weights)
        return d_loss, d_grads, g_loss, g_grads

    def train_step(self, real):
        d_loss, d_grads, g_loss, g_grads = self.gradients(real)
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_gan_with_two_optimizers_logs_each_norm_and_rate(tmp_path):
    gan = GAN()
    gan(x[:1])
    gan.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(2e-4))
    _, d_grads, _, g_grads = gan.gradients(tf.constant(x))
    monitor = GradientNormMonitor(log_dir=tmp_path)
    history = gan.fit(x, batch_size=len(x), epochs=2, shuffle=False, verbose=0,
                      callbacks=[monitor, LearningRateLogger(log_dir=tmp_path)]).history
    assert sorted(history) == sorted(
        ["d_loss", "g_loss", "learning_rate/d_optimizer", "learning_rate/g_optimizer"]
        + [f"{key}/{name}" for key in ("grad_norm", "grad_norm_max")
           for name in ("d_optimizer", "g_optimizer")])
    assert history["learning_rate/d_optimizer"] == pytest.approx([1e-4] * 2)
    assert history["learning_rate/g_optimizer"] == pytest.approx([2e-4] * 2)
    histories = monitor.histories
    assert list(histories) == ["d_optimizer", "g_optimizer"]
    assert list(histories["d_optimizer"]["layer_norm"]) == ["discriminator/d_hidden",
                                                            "discriminator/d_out"]
    assert list(histories["g_optimizer"]["layer_norm"]) == ["generator/g_out"]
    for name, grads in (("d_optimizer", d_grads), ("g_optimizer", g_grads)):
        expected = float(tf.linalg.global_norm(grads))
        assert histories[name]["global_norm"][0] == pytest.approx(expected, rel=1e-5)
        assert history[f"grad_norm/{name}"][0] == pytest.approx(expected, rel=1e-5)
    tags = tb_utils.read_scalars(tmp_path / "train")
    for tag in ("gradient_norm_step/d_optimizer/00_global",
                "gradient_norm_step/g_optimizer/01_generator/g_out",
                "gradient_norm_epoch/g_optimizer/global_mean",
                "learning_rate/g_optimizer/epoch_start"):
        assert len(tags[tag]) in (1, 2), tag
    assert not any(tag.startswith("learning_rate/epoch_start") for tag in tags)


def test_a_train_step_without_an_optimizer_is_reported_not_logged_as_nan():
    class Manual(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            inputs, targets = data
            with tf.GradientTape() as tape:
                loss = keras.losses.MeanSquaredError()(targets, self(inputs))
            grads = tape.gradient(loss, self.trainable_weights)
            for variable, grad in zip(self.trainable_weights, grads):
                variable.assign_sub(0.01 * grad)
            return {"loss": loss}

    model = Manual()
    model.compile("sgd")
    with pytest.warns(GradientNormWarning, match=r"records nothing: no optimizer .*\(optimizer\) "
                                                 r"applied gradients in the first training step"):
        history = model.fit(x, y, epochs=1, verbose=0, callbacks=[GradientNormMonitor()])
    assert not [key for key in history.history if key.startswith("grad_norm")]


def test_mirrored_strategy_norm_is_that_of_the_summed_gradient():
    result = run_snippet(_DATA + """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from callbacks import GradientNormMonitor
x[20] = np.nan  # in the 3rd batch of 8: skipped with "stop"
out = {}
for name, strategy in (("one", tf.distribute.get_strategy()),
                       ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
    for action in ("warn", "stop"):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((4,)),
                                      keras.layers.Dense(6, activation="tanh", name="hidden"),
                                      keras.layers.Dense(1, name="out")])
            model.compile(keras.optimizers.SGD(0.05), "mse")
        monitor = GradientNormMonitor(on_exploding=action)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x[:16] if action == "warn" else x, y[:16] if action == "warn" else y,
                      batch_size=8, shuffle=False, verbose=0, callbacks=[monitor])
        out[name + "_" + action] = {
            "replicas": strategy.num_replicas_in_sync,
            "norms": np.nan_to_num(monitor.history["global_norm"], nan=-1).tolist(),
            "layers": {k: v.tolist() for k, v in monitor.history["layer_norm"].items()},
            "weights": [w.tolist() for w in model.get_weights()]}
print(json.dumps(out))
""", backend="tensorflow")
    for action in ("warn", "stop"):
        one, two = result[f"one_{action}"], result[f"two_{action}"]
        assert (one["replicas"], two["replicas"]) == (1, 2)
        np.testing.assert_allclose(two["norms"], one["norms"], rtol=1e-5)
        for name in ("hidden", "out"):
            np.testing.assert_allclose(two["layers"][name][:2], one["layers"][name][:2], rtol=1e-5)
        for a, b in zip(one["weights"], two["weights"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # "stop" skipped the non-finite 3rd step on both: the weights are finite.
    assert result["two_stop"]["norms"][2] == -1 and len(result["two_stop"]["norms"]) == 3
    assert all(np.isfinite(w).all() for w in map(np.array, result["two_stop"]["weights"]))


def test_jax_backend_norms_alarms_keys_and_data_parallel(tmp_path):
    result = run_snippet(_DATA + """
import jax, keras
from callbacks import GradientNormMonitor, LearningRateLogger
from callbacks.gradient_norm import ExplodingGradientError

def build(inputs=True, optimizer=None, **kwargs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(([keras.Input((4,))] if inputs else [])
                             + [keras.layers.Dense(6, activation="tanh", name="hidden"),
                                keras.layers.Dense(1, name="out")])
    model.compile(optimizer or keras.optimizers.SGD(0.05), "mse", **kwargs)
    return model

def jax_norms(model):
    values = [v.value for v in model.trainable_variables]
    def loss(values):
        pred, _ = model.stateless_call(values, [v.value for v in model.non_trainable_variables], x)
        return jax.numpy.mean((pred - y) ** 2)
    grads = jax.grad(loss)(values)
    squares = [float((g ** 2).sum()) for g in grads]
    return [sum(squares) ** 0.5, (squares[0] + squares[1]) ** 0.5, (squares[2] + squares[3]) ** 0.5]

out = {}
model = build()
expected = jax_norms(model)
plain_count = len(model.optimizer.variables)
saved = []
class Save(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if not saved:
            self.model.save(LOG + "/mid.keras")
            saved.append(len(self.model.optimizer.variables))
monitor = GradientNormMonitor(log_dir=LOG)
history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0,
                    callbacks=[monitor, LearningRateLogger(), Save()]).history
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    loaded = keras.saving.load_model(LOG + "/mid.keras")
out["first"] = dict(expected=expected, keys=sorted(history), grad_norm=history["grad_norm"],
                    recorded=[float(monitor.history["global_norm"][0])]
                    + [float(v[0]) for v in monitor.history["layer_norm"].values()],
                    layers=list(monitor.history["layer_norm"]),
                    counts=[plain_count, saved[0], len(model.optimizer.variables),
                            len(loaded.optimizer.variables)],
                    load_warnings=[str(w.message) for w in caught if "optimizer" in str(w.message)])

for name, unbuilt in (("sequential", build(inputs=False)), ("subclassed", None)):
    if unbuilt is None:
        from tests.probes import Subclassed
        unbuilt = Subclassed()
        unbuilt.compile(keras.optimizers.SGD(0.05), "mse")
    monitor = GradientNormMonitor(vanishing_threshold=1e3, patience=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unbuilt.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    out[name] = [list(monitor.history["layer_norm"]), [(e["type"], e["step"]) for e in monitor.events]]

bad_x = x.copy(); bad_x[13] = np.nan  # 4th batch of 4
monitor = GradientNormMonitor(on_exploding="stop")
model = build()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(bad_x, y, batch_size=4, shuffle=False, epochs=2, verbose=0, callbacks=[monitor])
out["nan"] = [monitor.history["step"].tolist(), [(e["type"], e["step"]) for e in monitor.events],
              bool(all(np.isfinite(w).all() for w in model.get_weights()))]

try:
    build().fit(x, y, batch_size=8, verbose=0,
                callbacks=[GradientNormMonitor(exploding_threshold=1e-3, on_exploding="raise")])
    out["raise"] = None
except ExplodingGradientError as error:
    out["raise"] = str(error)

# A resumed run: the monitor's state is not in BackupAndRestore's backup.
import callbacks
class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")
def watch():
    return [callbacks.BackupAndRestore(LOG + "/backup"), GradientNormMonitor()]
try:
    build().fit(x, y, epochs=3, verbose=0, callbacks=[Interrupt(), *watch()])
except RuntimeError:
    pass
out["resumed"] = build().fit(x, y, epochs=3, verbose=0, callbacks=watch()).epoch

norms = {}
for name, kwargs in (("plain", {}), ("loss_scale", {"optimizer": keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.05))}), ("steps_per_execution", {"steps_per_execution": 4}),
        ("data_parallel", {})):
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices()) if name == "data_parallel" else None)
    monitor = GradientNormMonitor()
    build(**kwargs).fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[monitor])
    norms[name] = [monitor.history["step"].tolist(), monitor.history["global_norm"].tolist()]
out["norms"] = norms
out["devices"] = len(jax.devices())
print(json.dumps(out))
""".replace("LOG", repr(str(tmp_path))), backend="jax", devices=2)
    first = result["first"]
    np.testing.assert_allclose(first["recorded"], first["expected"], rtol=1e-5)
    assert first["grad_norm"][0] == pytest.approx(first["expected"][0], rel=1e-5)
    assert first["keys"] == ["grad_norm", "grad_norm_max", "learning_rate", "loss"]
    assert first["layers"] == ["hidden", "out"]
    # The state rides in the optimizer during the fit, never in what is saved.
    plain, during, after, loaded = first["counts"]
    assert during == plain + 2 and after == plain and loaded == plain
    assert first["load_warnings"] == []
    tags = tb_utils.read_scalars(tmp_path / "train")
    assert [s for s, _ in tags["gradient_norm_step/00_global"]] == [1, 2]
    assert [s for s, _ in tags["gradient_norm_step/02_out"]] == [1, 2]
    assert [v for _, v in tags["gradient_norm_epoch/global_mean"]] == pytest.approx(
        first["grad_norm"])
    for name in ("sequential", "subclassed"):
        assert result[name] == [["hidden", "out"], [["vanishing", 2]]]
    assert result["nan"] == [[1, 2, 3, 4], [["non_finite", 4]], True]
    assert result["resumed"] == [1, 2]
    assert "exploding_threshold=0.001" in result["raise"]
    norms = result["norms"]
    assert result["devices"] == 2
    for name in ("loss_scale", "steps_per_execution", "data_parallel"):
        assert norms[name][0] == list(range(1, 17)), name
        np.testing.assert_allclose(norms[name][1], norms["plain"][1], rtol=1e-4, err_msg=name)
