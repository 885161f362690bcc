"""The zoo's models and callbacks on the JAX backend, and `.keras` files
moved between TensorFlow and JAX.

The test process runs TensorFlow; the JAX side runs in child processes
(`tests.backends.run_snippet`): one for all the models, one for all the
callbacks. The callback run is the same function on both backends, from the
same initial weights and unshuffled data, so their log keys, TensorBoard
tags and values must match.
"""

import concurrent.futures
import os

import keras
import numpy as np
import pytest

import zoo
from tests.backends import run_snippet

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
VOCAB = 20


def _tiny(name):
    info = zoo.describe(name)
    options = {"width": 8, "depth": 1}
    if "vocab_size" in info.required:
        options["vocab_size"] = VOCAB
    return zoo.build(name, input_shape=info.example_input_shape, num_classes=3, **options)


def _inputs(name, n=8):
    info = zoo.describe(name)
    rng = np.random.default_rng(0)
    shape = (n,) + info.example_input_shape
    if info.input_kind == "tokens":
        x = rng.integers(1, VOCAB, size=shape)
        x[: n // 2, -3:] = 0  # padding: the mask reaches PositionEmbedding too
        return x
    return rng.normal(size=shape).astype("float32")


def _predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def save_models(folder, fit=False):
    """Saves every zoo model (tiny) with its inputs and predictions in
    `folder`; with `fit`, after one training step. Returns
    `{name: {"loss": ..., "changed": ..., "reload_diff": ...}}`."""
    found = {}
    for name in zoo.list_models():
        model, x = _tiny(name), _inputs(name)
        path = os.path.join(folder, name)
        entry = {}
        if fit:
            zoo.compile_model(model, optimizer="adam", learning_rate=0.01)
            before = [w.copy() for w in model.get_weights()]
            history = model.fit(x, np.arange(len(x)) % 3, epochs=1, batch_size=len(x),
                                verbose=0)
            entry["loss"] = float(history.history["loss"][0])
            entry["changed"] = any(not np.array_equal(a, b)
                                   for a, b in zip(before, model.get_weights()))
        expected = _predict(model, x)
        model.save(path + ".keras")
        np.save(path + ".x.npy", x)
        np.save(path + ".y.npy", expected)
        if fit:
            reloaded = keras.saving.load_model(path + ".keras", safe_mode=True)
            entry["reload_diff"] = float(np.abs(_predict(reloaded, x) - expected).max())
        found[name] = entry
    return found


def load_models(folder):
    """`{name: largest prediction difference}` of the models `save_models`
    wrote in `folder` (on either backend), loaded in safe mode here."""
    diffs = {}
    for name in zoo.list_models():
        path = os.path.join(folder, name)
        model = keras.saving.load_model(path + ".keras", safe_mode=True)
        diffs[name] = float(np.abs(_predict(model, np.load(path + ".x.npy"))
                                   - np.load(path + ".y.npy")).max())
    return diffs


# --- callbacks -------------------------------------------------------------


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])[y] + rng.normal(size=(n, 4))
    return x.astype("float32"), y


def _event_tags(log_dir):
    """`{run: {tag: plugin}}` of every summary under `log_dir`."""
    from tensorboard.backend.event_processing import event_accumulator

    found = {}
    for run in sorted(os.listdir(log_dir)):
        acc = event_accumulator.EventAccumulator(os.path.join(log_dir, run))
        acc.Reload()
        found[run] = {tag: acc.SummaryMetadata(tag).plugin_data.plugin_name
                      for tag in acc.Tags()["tensors"]}
    return found


def _numbers(logs):
    return {key: [float(v) for v in values] for key, values in sorted(logs.items())}


def every_callback_run(init_path, out_dir):
    """Trains the model saved at `init_path` with every callback (but the
    gradient ones) on the current backend and returns what they logged.

    The same on every backend: unshuffled data, no dropout, so both
    backends take the same steps up to float rounding.
    """
    import callbacks
    from callbacks import schedules
    from zoo.models.layers import CenterLoss, with_center_loss

    x, y = _blobs(48, 0)
    x_val, y_val = _blobs(24, 1)
    log_dir, backup_dir = os.path.join(out_dir, "tb"), os.path.join(out_dir, "backup")

    def fresh(learning_rate=0.05):
        model = keras.saving.load_model(init_path, safe_mode=True)
        return zoo.compile_model(model, optimizer="adam", learning_rate=learning_rate)

    def watchers():
        return [callbacks.SklearnMetrics((x_val, y_val), log_dir=log_dir),
                callbacks.LearningRateLogger(log_dir=log_dir),
                callbacks.ActivationStats(x_val, log_dir=log_dir),
                callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=3),
                # Never "improves" (min_delta=1): halves the rate from epoch 3 on.
                callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", min_delta=1.0,
                                            patience=1, factor=0.5),
                callbacks.BackupAndRestore(backup_dir)]

    class StopAt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("interrupted")

    fit = dict(x=x, y=y, epochs=4, batch_size=16, shuffle=False, verbose=0,
               validation_data=(x_val, y_val))
    model = fresh()
    try:
        model.fit(callbacks=[StopAt(), *watchers()], **fit)
    except RuntimeError as error:
        if str(error) != "interrupted":
            raise
    model = fresh()  # as a new process would: resumed from the backup
    run = watchers()
    resumed = model.fit(callbacks=run, **fit)
    scorer = run[0]
    predicted = keras.ops.convert_to_numpy(model.predict(x_val, verbose=0))
    found = {"resumed_epochs": resumed.epoch, "logs": _numbers(resumed.history),
             "whole_run": _numbers(run[-1].history), "tags": _event_tags(log_dir),
             "weights": [w.tolist() for w in model.get_weights()],
             "last_predictions": predicted.tolist(),
             "scorer_history": {k: list(map(float, v)) for k, v in scorer.history.items()},
             # Whether SklearnMetrics took the predictions of fit's own
             # validation pass (TensorFlow only) rather than predicting.
             "reused_predictions": scorer._sink._function is not None}

    # A schedule of this package: logged rates, saved with the model.
    schedule = schedules.LinearWarmup(schedules.CyclicLR(0.01, 0.05, step_size=2), 3)
    model = fresh(learning_rate=schedule)
    rates = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                      callbacks=[callbacks.LearningRateLogger()]).history["learning_rate"]
    model.save(os.path.join(out_dir, "scheduled.keras"))
    loaded = keras.saving.load_model(os.path.join(out_dir, "scheduled.keras"), safe_mode=True)
    own = {"cyclic": schedules.CyclicLR(0.01, 0.05, step_size=2, mode="exp_range", gamma=0.9),
           "one_cycle": schedules.OneCycle(0.1, total_steps=10),
           "step": schedules.get_schedule("step", initial_learning_rate=0.1, decay_steps=3),
           "warmup": schedules.get_schedule("one_cycle", warmup_steps=2,
                                            max_learning_rate=0.1, total_steps=10)}
    found["schedule"] = {"rates": [float(r) for r in rates],
                         "reloaded": loaded.optimizer.get_config()["learning_rate"],
                         "reloaded_rate": float(keras.ops.convert_to_numpy(
                             loaded.optimizer.learning_rate)),
                         "values": {name: [float(keras.ops.convert_to_numpy(lr(step)))
                                           for step in range(0, 12, 2)]
                                    for name, lr in own.items()}}

    # The LR range test leaves the model as it was.
    model = fresh()
    before = model.get_weights()
    finder = callbacks.find_learning_rate(model, x, y, min_lr=1e-3, max_lr=1.0, num_steps=10,
                                          batch_size=16)
    found["finder"] = {"steps": len(finder.learning_rates), "losses": len(finder.losses),
                       "suggestion": finder.suggestion is not None,
                       "restored": all(np.array_equal(a, b)
                                       for a, b in zip(before, model.get_weights())),
                       "rate": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))}

    # CenterLoss: its loss and its centre update, eagerly and in a fit.
    layer = CenterLoss(num_classes=3, weight=0.1)
    layer([keras.ops.ones((4, 2)), keras.ops.convert_to_tensor([0, 1, 1, 2])], training=True)
    train = zoo.compile_model(with_center_loss(fresh(), weight=0.1), learning_rate=0.05)
    losses = train.fit([x, y], y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    found["center_loss"] = {"loss": float(keras.ops.convert_to_numpy(layer.losses[0])),
                            "centers": keras.ops.convert_to_numpy(layer.centers).tolist(),
                            "fit_loss": losses.history["loss"],
                            "fit_centers": keras.ops.convert_to_numpy(
                                train.get_layer("center_loss").centers).tolist()}

    # TensorFlow-only: fails before doing anything on another backend.
    try:
        zoo.fit_lbfgs(fresh(), x, y, max_iterations=2)
        found["lbfgs"] = "ran"
    except RuntimeError as error:
        found["lbfgs"] = str(error)
    return found


# --- the tests ---------------------------------------------------------------

# JAX children compile every step they run once: XLA's cheapest compile.
FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
MODELS_ON_JAX = """
    import json
    from tests.test_backends_jax import load_models, save_models
    print(json.dumps({{"from_tensorflow": load_models({tf!r}),
                      "jax": save_models({jax!r}, fit=True)}}))
"""
CALLBACKS_ON_JAX = """
    import json
    from tests.test_backends_jax import every_callback_run
    print(json.dumps(every_callback_run({init!r}, {out!r})))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """TensorFlow saves every model and an initial model for the callbacks;
    then two JAX children (every model; every callback) run while this
    process runs the callbacks on TensorFlow."""
    folder = tmp_path_factory.mktemp("backends")
    paths = {name: folder / name for name in ("tf_models", "jax_models", "tf_fit", "jax_fit")}
    for path in paths.values():
        path.mkdir()
    save_models(paths["tf_models"])
    init = folder / "init.keras"
    zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, width=8, depth=1).save(init)
    keras.backend.clear_session()
    jobs = {"models": MODELS_ON_JAX.format(tf=str(paths["tf_models"]),
                                           jax=str(paths["jax_models"])),
            "callbacks": CALLBACKS_ON_JAX.format(init=str(init), out=str(paths["jax_fit"]))}
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        futures = {key: pool.submit(run_snippet, code, timeout=600, XLA_FLAGS=FAST_COMPILE)
                   for key, code in jobs.items()}
        tensorflow = every_callback_run(str(init), str(paths["tf_fit"]))
        found = {key: future.result() for key, future in futures.items()}
    return {"tensorflow_callbacks": tensorflow, "jax_models_dir": paths["jax_models"], **found}


def test_every_model_fits_saves_and_reloads_on_jax(runs):
    found = runs["models"]["jax"]
    assert sorted(found) == zoo.list_models() and len(found) == 14
    for name, entry in found.items():
        assert np.isfinite(entry["loss"]), name
        assert entry["changed"], f"{name}: one step on JAX left the weights as they were"
        assert entry["reload_diff"] <= 1e-6, (name, entry)


def test_models_load_across_backends(runs):
    from_tf = runs["models"]["from_tensorflow"]  # saved here on TensorFlow, loaded on JAX
    from_jax = load_models(runs["jax_models_dir"])  # saved on JAX after a step, loaded here
    for diffs in (from_tf, from_jax):
        assert sorted(diffs) == zoo.list_models()
        bad = {name: d for name, d in diffs.items() if not d <= 1e-5}
        assert not bad, bad


def _close(a, b, tol=1e-5):
    return np.allclose(np.asarray(a, "float64"), np.asarray(b, "float64"), rtol=tol, atol=tol)


def test_callbacks_log_the_same_on_jax_as_on_tensorflow(runs):
    tf_run, jax_run = runs["tensorflow_callbacks"], runs["callbacks"]
    # What the TensorFlow run logs (so that equality below is not vacuous).
    logs = tf_run["logs"]
    assert {"learning_rate", "val_f1", "val_roc_auc", "val_loss", "activation_mean",
            "zero_fraction"} <= {key.split("/")[0] for key in logs}
    assert logs["learning_rate"] == pytest.approx([0.025, 0.0125])  # halved by the plateau
    assert {"sklearn/f1_macro", "sklearn/confusion_matrix"} <= set(tf_run["tags"]["validation"])
    assert {"learning_rate/epoch_start", "activations"} <= {
        tag.split("/")[0] if tag.startswith("activations/") else tag
        for tag in tf_run["tags"]["train"]}
    # JAX: the same keys, TensorBoard tags (and kinds), and values.
    assert sorted(jax_run["logs"]) == sorted(logs)
    assert jax_run["tags"] == tf_run["tags"]
    for key, values in logs.items():
        assert _close(jax_run["logs"][key], values), (key, values, jax_run["logs"][key])
    # BackupAndRestore resumed the JAX run at epoch 2, the whole run recorded.
    assert jax_run["resumed_epochs"] == tf_run["resumed_epochs"] == [2, 3]
    assert sorted(jax_run["whole_run"]) == sorted(tf_run["whole_run"])
    assert all(len(v) == 4 and _close(v, jax_run["whole_run"][k])
               for k, v in tf_run["whole_run"].items())
    for a, b in zip(tf_run["weights"], jax_run["weights"]):
        assert _close(a, b)
    # SklearnMetrics reuses fit's predictions on TensorFlow and predicts
    # again elsewhere: the same scores either way.
    assert tf_run["reused_predictions"] and not jax_run["reused_predictions"]
    assert jax_run["scorer_history"].keys() == tf_run["scorer_history"].keys()
    for key, values in tf_run["scorer_history"].items():
        assert _close(jax_run["scorer_history"][key], values), key
    # Schedules, the LR finder and CenterLoss.
    assert _close(jax_run["last_predictions"], tf_run["last_predictions"])
    for part in ("schedule", "finder", "center_loss"):
        assert _close_tree(jax_run[part], tf_run[part]), (part, jax_run[part], tf_run[part])
    assert jax_run["finder"]["restored"] and jax_run["finder"]["steps"] == 10
    assert jax_run["schedule"]["reloaded"]["class_name"] == "LinearWarmup"
    assert np.any(np.asarray(jax_run["center_loss"]["fit_centers"]) != 0)


def _close_tree(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close_tree(a[k], b[k]) for k in a)
    if isinstance(a, (str, bool)) or a is None:
        return a == b
    return _close(a, b)


def test_tensorflow_only_parts_say_so_on_jax(runs):
    assert runs["tensorflow_callbacks"]["lbfgs"] == "ran"
    message = runs["callbacks"]["lbfgs"]
    assert "TensorFlow backend" in message and "'jax'" in message
    assert "KERAS_BACKEND=tensorflow" in message  # what to do about it
