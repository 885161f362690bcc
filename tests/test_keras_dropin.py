"""Drop-in means drop-in: code written for Keras's EarlyStopping,
ReduceLROnPlateau and BackupAndRestore runs unchanged on ours.

Every argument combination below goes through Keras's class and ours on
the same tiny training run (same weights, data, order): ours must accept
what Keras accepts and do the same (epochs run, weights restored, learning
rates), and refuse at once, naming the argument, what Keras would only fail
on later. Keras's own docstring examples run with our classes.
"""

import contextlib
import doctest
import functools
import inspect
import io
import json
import math
import pathlib
import re
import types
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import callbacks

CLASSES = ("EarlyStopping", "ReduceLROnPlateau", "BackupAndRestore")
SCRIPT = [1.0, 0.8, 0.85, 0.9, 0.7, 0.95]  # "val_custom", one per epoch
EPOCHS = len(SCRIPT)


class Scripted(keras.callbacks.Callback):
    """Writes ``val_custom`` and ``val_loss`` from ``SCRIPT``: a metric with
    known turns (and Keras's default monitor) without a validation pass."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_custom"] = logs["val_loss"] = SCRIPT[epoch]


class Fit:
    """One compiled tiny model, reset to the same start before every run.

    A ``tf.data`` pipeline built once: fitting numpy arrays rebuilds one
    every ``fit``, several times slower than these 4-step epochs.
    """

    def __init__(self, y=None, loss="mse", metrics=(), learning_rate=0.1,
                 validation=False):
        rng = np.random.default_rng(0)
        x = rng.random((32, 4)).astype("float32")
        y = (x @ [[1.0], [-2.0], [0.5], [0.0]]).astype("float32") if y is None else y
        self.data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
        self.validation = self.data if validation else None
        self.model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(y.shape[1], activation=None if loss == "mse" else "sigmoid")])
        self.model.compile(keras.optimizers.SGD(learning_rate), loss, metrics=list(metrics))
        self.model.optimizer.build(self.model.trainable_variables)
        self.start = [v.numpy() for v in self._variables()]
        self.history = None

    def _variables(self):
        return list(self.model.weights) + list(self.model.optimizer.variables)

    def __call__(self, make, epochs=EPOCHS):
        """Build a callback with ``make()`` and fit; what happened, as a dict."""
        for variable, value in zip(self._variables(), self.start):
            variable.assign(value)
        out, counter = io.StringIO(), Epochs()
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out):
            warnings.simplefilter("always")
            try:
                callback = make()
            except Exception as error:  # noqa: BLE001 - compared with Keras's
                return {"init_error": type(error)}
            try:
                self.history = self.model.fit(
                    self.data, validation_data=self.validation, epochs=epochs,
                    shuffle=False, verbose=0,
                    callbacks=[Scripted(), counter, callback]).history
            except Exception as error:  # noqa: BLE001
                return {"fit_error": type(error), "epochs": counter.done,
                        "message": str(error)}
        return {
            "epochs": len(self.history["loss"]),
            "weights": self.model.get_weights(),
            "learning_rate": self.history.get("learning_rate"),
            "final_rate": float(self.model.optimizer.learning_rate),
            "printed": bool(out.getvalue()),
            "mode_warned": any("mode" in str(w.message) for w in caught),
            "stopped_epoch": getattr(callback, "stopped_epoch", None),
        }


class Epochs(keras.callbacks.Callback):
    """Counts finished epochs (a failed fit returns no History)."""

    def on_train_begin(self, logs=None):
        self.done = 0

    def on_epoch_end(self, epoch, logs=None):
        self.done += 1


@pytest.fixture(scope="module")
def fit():
    return Fit()


def assert_same(ours, theirs):
    assert ours.keys() == theirs.keys(), (ours, theirs)
    for key, value in theirs.items():
        if key == "weights":
            for a, b in zip(ours[key], value):
                np.testing.assert_allclose(a, b, rtol=1e-6)
        elif key == "learning_rate" and value is not None:
            np.testing.assert_allclose(ours[key], value, rtol=1e-6)
        elif key != "message":  # Keras's words differ from ours
            assert ours[key] == value, (key, ours, theirs)


# --- the signature: Keras's, in Keras's order, with Keras's defaults -----


@pytest.mark.parametrize("name", CLASSES)
def test_signature_starts_with_keras_and_is_a_subclass(name):
    ours, theirs = getattr(callbacks, name), getattr(keras.callbacks, name)
    keras_params = list(inspect.signature(theirs.__init__).parameters.values())
    our_params = list(inspect.signature(ours.__init__).parameters.values())
    assert our_params[:len(keras_params)] == keras_params
    assert all(p.kind == p.KEYWORD_ONLY for p in our_params[len(keras_params):])
    assert issubclass(ours, theirs)


# --- every argument Keras takes, on the same run --------------------------

BASE_STOP = {"monitor": "val_custom", "mode": "min", "patience": 1}
STOP_CASES = [
    {},
    {"patience": 0}, {"patience": 2}, {"patience": 3}, {"patience": 2.0},
    {"patience": 1.5}, {"patience": np.int64(2)}, {"patience": np.float32(2)},
    {"patience": -1}, {"patience": True}, {"patience": math.inf},
    {"min_delta": 0}, {"min_delta": 0.15}, {"min_delta": np.float32(0.15)},
    {"min_delta": np.float64(0.05)}, {"min_delta": -0.15}, {"min_delta": 1},
    {"min_delta": False}, {"min_delta": math.inf},
    {"verbose": 1}, {"verbose": True}, {"verbose": False},
    {"verbose": np.int64(1)}, {"verbose": 2}, {"verbose": 0.0},
    {"mode": "max"}, {"mode": "best"}, {"mode": "MIN"}, {"mode": None},
    {"mode": "auto"},  # val_custom: Keras cannot tell the direction, fails
    {"baseline": 0.9}, {"baseline": np.float32(0.9)}, {"baseline": 1},
    {"baseline": 0.5, "patience": 3}, {"baseline": -math.inf},
    {"restore_best_weights": True}, {"restore_best_weights": 1},
    {"restore_best_weights": 0}, {"restore_best_weights": np.True_},
    {"restore_best_weights": np.False_}, {"restore_best_weights": None},
    {"restore_best_weights": 1.0, "patience": 2},
    {"start_from_epoch": 2}, {"start_from_epoch": 2.0},
    {"start_from_epoch": np.int64(1)}, {"start_from_epoch": -1},
    {"start_from_epoch": 9},
    {"monitor": "val_loss", "mode": "auto", "patience": 0},
    {"monitor": "loss", "mode": "auto", "min_delta": 0.5,
     "restore_best_weights": True},
    {"monitor": "val_missing", "mode": "min"},
    {"monitor": "val_custom", "mode": "max", "restore_best_weights": True},
    None,  # no arguments: Keras's defaults
]


@pytest.mark.parametrize("kwargs", STOP_CASES, ids=repr)
def test_early_stopping_does_what_keras_does(fit, kwargs):
    kwargs = {} if kwargs is None else {**BASE_STOP, **kwargs}
    theirs = fit(lambda: keras.callbacks.EarlyStopping(**kwargs))
    ours = fit(lambda: callbacks.EarlyStopping(**kwargs))
    assert "init_error" not in theirs
    assert_same(ours, theirs)


BASE_PLATEAU = {"monitor": "val_custom", "mode": "min", "factor": 0.5,
                "patience": 1}
PLATEAU_CASES = [
    {}, {"factor": 0.1}, {"factor": np.float32(0.5)}, {"factor": 0},
    {"factor": 0.0, "min_lr": 0.01}, {"factor": -0.5}, {"factor": 1},
    {"factor": 2.0}, {"factor": np.float64(1.0)},
    {"patience": 0}, {"patience": 2}, {"patience": 1.0}, {"patience": 0.5},
    {"patience": np.int64(2)}, {"patience": True}, {"patience": -1},
    {"patience": math.inf},
    {"verbose": 1}, {"verbose": True}, {"verbose": np.int64(0)},
    {"mode": "max"}, {"mode": "up"}, {"mode": "auto"},
    {"min_delta": 0}, {"min_delta": 0.15}, {"min_delta": np.float64(0.01)},
    {"min_delta": 1}, {"min_delta": -0.15},
    {"cooldown": 1}, {"cooldown": 1.0}, {"cooldown": np.int64(2)},
    {"cooldown": 0.5}, {"cooldown": -1}, {"cooldown": True},
    {"min_lr": 0.03}, {"min_lr": np.float32(0.03)}, {"min_lr": 1},
    {"min_lr": -1.0}, {"min_lr": 0}, {"min_lr": True},
    {"epsilon": 1e-4},  # swallowed by Keras's **kwargs
    {"monitor": "val_loss", "mode": "auto", "patience": 0, "min_delta": 1.0},
    {"monitor": "loss", "mode": "auto", "patience": 1, "min_delta": 0.5},
    {"monitor": "val_missing"},
    None,  # no arguments: Keras's defaults
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=repr)
def test_reduce_lr_on_plateau_does_what_keras_does(fit, kwargs):
    kwargs = {} if kwargs is None else {**BASE_PLATEAU, **kwargs}
    theirs = fit(lambda: keras.callbacks.ReduceLROnPlateau(**kwargs))
    ours = fit(lambda: callbacks.ReduceLROnPlateau(**kwargs))
    if "init_error" in theirs:  # factor >= 1: Keras refuses at once too
        assert ours == theirs == {"init_error": ValueError}
    else:
        assert_same(ours, theirs)


def test_plateau_state_stays_json_with_keras_style_arguments(fit):
    made = []
    fit(lambda: made.append(callbacks.ReduceLROnPlateau(
        **{**BASE_PLATEAU, "cooldown": np.int64(2)})) or made[0])
    state = made[0].get_state()  # what BackupAndRestore writes
    assert state["cooldown_counter"] == 2 and json.loads(json.dumps(state)) == state


def test_positional_arguments_as_in_keras(fit, tmp_path):
    for name, args in [("EarlyStopping", ("val_custom", 0.1, 1, 0, "min", None, True)),
                       ("ReduceLROnPlateau", ("val_custom", 0.5, 1, 0, "min", 0.0, 1))]:
        theirs = fit(lambda: getattr(keras.callbacks, name)(*args))
        assert_same(fit(lambda: getattr(callbacks, name)(*args)), theirs)
    backup = callbacks.BackupAndRestore(str(tmp_path), "epoch", True, False)
    assert (backup.save_freq, backup.double_checkpoint) == ("epoch", True)


BACKUP_CASES = [
    {}, {"save_freq": 2}, {"save_freq": True}, {"save_freq": False},
    {"double_checkpoint": True}, {"double_checkpoint": 1},
    {"double_checkpoint": np.True_}, {"delete_checkpoint": False},
    {"delete_checkpoint": 0}, {"delete_checkpoint": np.False_},
    {"delete_checkpoint": None}, {"path": True},
    {"save_freq": 2.0}, {"save_freq": "batch"}, {"save_freq": np.int64(2)},
    {"backup_dir": ""}, {"backup_dir": None},
]


@pytest.mark.parametrize("kwargs", BACKUP_CASES, ids=repr)
def test_backup_and_restore_takes_what_keras_takes(fit, tmp_path, kwargs):
    def make(cls, folder):
        args = dict(kwargs)
        directory = folder if not args.pop("path", False) else pathlib.Path(folder)
        return lambda: cls(args.pop("backup_dir", directory), **args)

    theirs = fit(make(keras.callbacks.BackupAndRestore, str(tmp_path / "k")))
    ours = fit(make(callbacks.BackupAndRestore, str(tmp_path / "o")))
    assert_same(ours, theirs)
    if "epochs" in theirs:  # a backup is left exactly when Keras leaves one
        assert (tmp_path / "k").exists() == (tmp_path / "o").exists()


# --- what Keras fails on later is refused at once, naming the argument --

LATER = [
    ("EarlyStopping", {"patience": "1"}, "patience"),
    ("EarlyStopping", {"verbose": "1", "patience": 0}, "verbose"),
    ("EarlyStopping", {"baseline": "0.9"}, "baseline"),
    ("EarlyStopping", {"start_from_epoch": "1"}, "start_from_epoch"),
    ("EarlyStopping", {"monitor": None, "mode": "auto"}, "monitor"),
    ("ReduceLROnPlateau", {"patience": "1"}, "patience"),
    ("ReduceLROnPlateau", {"cooldown": "1"}, "cooldown"),
    ("ReduceLROnPlateau", {"min_lr": "0.01"}, "min_lr"),
    ("ReduceLROnPlateau", {"verbose": "1"}, "verbose"),
]


@pytest.mark.parametrize("name, kwargs, argument", LATER, ids=repr)
def test_what_keras_fails_on_later_is_refused_at_once(fit, name, kwargs,
                                                      argument):
    base = BASE_STOP if name == "EarlyStopping" else BASE_PLATEAU
    kwargs = {**base, **kwargs}
    theirs = fit(lambda: getattr(keras.callbacks, name)(**kwargs))
    assert "fit_error" in theirs  # Keras took it, and failed mid-training
    with pytest.raises(TypeError, match=f"^{name}: `{argument}` must be "):
        getattr(callbacks, name)(**kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("EarlyStopping", {"min_delta": "0.1"}),
    ("ReduceLROnPlateau", {"factor": "0.5"}),
    ("ReduceLROnPlateau", {"min_delta": None}),
])
def test_what_keras_refuses_at_once_we_refuse_at_once(name, kwargs):
    with pytest.raises(TypeError):
        getattr(keras.callbacks, name)(**kwargs)
    with pytest.raises(TypeError, match=f"`{next(iter(kwargs))}` must be a number"):
        getattr(callbacks, name)(**kwargs)


def test_documented_differences_nan_and_string_flags():
    # Keras takes these and silently never acts (no comparison with NaN
    # holds) or reads "False" as true; the docstrings say so.
    for name in ("EarlyStopping", "ReduceLROnPlateau"):
        with pytest.raises(ValueError, match="`min_delta` must be a number, not NaN"):
            getattr(callbacks, name)(min_delta=math.nan)
        assert "Differences from Keras" in getattr(callbacks, name).__doc__
    with pytest.raises(TypeError, match="`restore_best_weights` must be True or False"):
        callbacks.EarlyStopping(restore_best_weights="False")


# --- array-valued metrics: keras.metrics.F1Score() on one unit ------------


@pytest.fixture(scope="module")
def f1_fits():
    """``{units: Fit}``, compiled with ``keras.metrics.F1Score()``
    (``average=None``: one value per unit) on labels with that many units."""
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    labels = {1: (x[:, :1] > 0.5).astype("float32"),
              3: np.eye(3, dtype="float32")[np.arange(32) % 3]}
    return {units: Fit(y, "binary_crossentropy", [keras.metrics.F1Score()], 0.5,
                       validation=True) for units, y in labels.items()}


@pytest.mark.parametrize("name, kwargs", [
    ("EarlyStopping", {"patience": 0, "restore_best_weights": True}),
    ("ReduceLROnPlateau", {"patience": 0, "factor": 0.5}),
])
def test_one_unit_f1_score_is_monitored_as_keras_does(f1_fits, name, kwargs):
    kwargs = {"monitor": "val_f1_score", "mode": "max", **kwargs}
    theirs = f1_fits[1](lambda: getattr(keras.callbacks, name)(**kwargs))
    assert np.shape(f1_fits[1].history["val_f1_score"][0]) == (1,)
    ours = f1_fits[1](lambda: getattr(callbacks, name)(**kwargs))
    assert_same(ours, theirs)
    assert theirs["epochs"] < EPOCHS or theirs["learning_rate"][-1] < 0.5  # it acted
    # Per-unit values have no single best: Keras fails at the second epoch
    # on the truth value of an array; ours at the first, saying why.
    kwargs["patience"] = 5
    theirs = f1_fits[3](lambda: getattr(keras.callbacks, name)(**kwargs))
    ours = f1_fits[3](lambda: getattr(callbacks, name)(**kwargs))
    assert (theirs["fit_error"], theirs["epochs"]) == (ValueError, 2)
    assert (ours["fit_error"], ours["epochs"]) == (ValueError, 1)
    assert re.search(r"monitor='val_f1_score' has shape \(3,\).*average='macro'",
                     ours["message"])


# --- ReduceLROnPlateau with a learning-rate schedule ----------------------


def test_plateau_with_a_schedule_behaves_as_in_keras():
    fit = Fit(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 4, 0.5))
    for kwargs in ({"monitor": "loss", "patience": 2},  # improves: no reduction
                   {"monitor": "val_custom", "mode": "min", "patience": 0},
                   {"monitor": "val_custom", "mode": "min", "patience": 2}):
        theirs = fit(lambda: keras.callbacks.ReduceLROnPlateau(**kwargs))
        ours = fit(lambda: callbacks.ReduceLROnPlateau(**kwargs))
        assert_same(ours, theirs)  # the same rates, or TypeError at the same epoch
    assert theirs["fit_error"] is TypeError and theirs["epochs"] == 4
    assert "epoch 4 calls for a learning rate reduction, but the optimizer's " \
           "rate is a schedule" in ours["message"]
    with pytest.warns(UserWarning, match="rate is a schedule"):
        fit.model.fit(fit.data, epochs=1, verbose=0, shuffle=False,
                      callbacks=[callbacks.ReduceLROnPlateau()])


# --- config, copies, Keras's own examples ---------------------------------


@pytest.mark.parametrize("name, kwargs", [
    ("EarlyStopping", {"monitor": "val_auc", "min_delta": np.float32(0.25),
                       "patience": np.int64(3), "verbose": True, "mode": "max",
                       "baseline": np.float64(0.5), "restore_best_weights": np.True_,
                       "start_from_epoch": 2.0}),
    ("EarlyStopping", {"mode": "min", "min_delta": 0.1}),
    ("ReduceLROnPlateau", {"factor": np.float32(0.5), "patience": 5.0,
                           "cooldown": 1.0, "min_lr": np.float64(1e-4),
                           "mode": "min", "min_delta": 0}),
    ("BackupAndRestore", {"backup_dir": "b", "save_freq": 3,
                          "double_checkpoint": True, "delete_checkpoint": False}),
])
def test_get_config_round_trips_and_is_json(name, kwargs):
    callback = getattr(callbacks, name)(**kwargs)
    config = callback.get_config()
    keras_arguments = inspect.signature(getattr(keras.callbacks, name).__init__).parameters
    assert set(keras_arguments) - {"self", "kwargs"} <= set(config)
    assert {k: config[k] for k in kwargs} == {
        k: v.item() if isinstance(v, np.generic) else v for k, v in kwargs.items()}
    again = type(callback).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config


def _keras_with_ours(**changes):
    """A ``keras`` whose ``callbacks`` has our three classes, for examples;
    ``changes`` replaces some of them."""
    ours = {**{name: getattr(callbacks, name) for name in CLASSES}, **changes}
    shim = types.SimpleNamespace(**{name: getattr(keras, name) for name in dir(keras)
                                    if not name.startswith("_")})
    shim.callbacks = types.SimpleNamespace(**{
        name: ours.get(name, getattr(keras.callbacks, name))
        for name in dir(keras.callbacks) if not name.startswith("_")})
    return shim


def _run_example(docstring, keras_module):
    """Runs a docstring's ``>>>`` lines; the namespace and the outputs."""
    namespace, outputs = {"keras": keras_module, "np": np}, []
    for example in doctest.DocTestParser().get_examples(docstring):
        if example.want.strip():
            got = eval(compile(example.source, "<example>", "eval"), namespace)
            outputs.append((example.want.strip(), repr(got)))
        else:
            exec(compile(example.source, "<example>", "exec"), namespace)
    return namespace, outputs


def test_keras_early_stopping_example_runs_unchanged():
    docstring = keras.callbacks.EarlyStopping.__doc__
    _, outputs = _run_example(docstring, keras)
    assert outputs == [("4", "4")]  # 3 epochs without improvement
    # Ours, unchanged: its loss overflows to inf at the third epoch, where
    # check_finite (documented) stops at once...
    namespace, outputs = _run_example(docstring, _keras_with_ours())
    assert outputs == [("4", "3")]
    assert type(namespace["callback"]) is callbacks.EarlyStopping
    assert namespace["callback"].stop_reason == "non_finite"
    assert "``check_finite=False`` to wait out" in callbacks.EarlyStopping.__doc__
    # ... and without it does what Keras does.
    plain = functools.partial(callbacks.EarlyStopping, check_finite=False)
    _, outputs = _run_example(docstring, _keras_with_ours(EarlyStopping=plain))
    assert outputs == [("4", "4")]


@pytest.mark.filterwarnings("ignore:.*weights are not finite")  # its loss overflows
def test_keras_backup_and_restore_example_runs_unchanged(tmp_path):
    # The one edit: the example writes to /tmp/backup, shared by everyone.
    docstring = keras.callbacks.BackupAndRestore.__doc__.replace(
        '"/tmp/backup"', repr(str(tmp_path / "backup")))
    for keras_module in (keras, _keras_with_ours()):
        namespace, _ = _run_example(docstring, keras_module)
        assert type(namespace["callback"]) is keras_module.callbacks.BackupAndRestore
        # "Only 6 more epochs are run" (its ">>> 6" is not doctest output).
        assert len(namespace["history"].history["loss"]) == 6


def test_keras_plateau_example_runs_unchanged():
    docstring = keras.callbacks.ReduceLROnPlateau.__doc__
    code = re.search(r"```python\n(.*?)```", docstring, re.S).group(1)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    namespace = {"ReduceLROnPlateau": callbacks.ReduceLROnPlateau, "model": model,
                 "x_train": np.ones((8, 20)), "y_train": np.zeros(8)}
    with pytest.warns(UserWarning, match="val_loss"):  # as Keras: no val data
        exec(inspect.cleandoc(code), namespace)
    plateau = namespace["reduce_lr"]
    assert isinstance(plateau, keras.callbacks.ReduceLROnPlateau)
    assert (plateau.factor, plateau.patience, plateau.min_lr) == (0.2, 5, 0.001)
