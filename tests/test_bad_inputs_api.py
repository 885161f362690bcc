"""The bad-input battery, Python API half (issue #11, sections 3 and 4).

Every case gives one bad input to one entry point and asserts three things:
the exception type, that the message names the argument (or file) and what
is allowed, and that no training step ran. Steps are counted for real: the
shared models' optimizers must still be at iteration 0, a `StepCounter`
rides along in every `fit` a case starts, and a search leaves no project
folder. Argument checks are `tests/test_bad_inputs_args.py`, the command
line `tests/test_bad_inputs_cli.py`.
"""

import os

import keras
import numpy as np
import pytest

import callbacks
import zoo
from callbacks.schedules import get_schedule
from zoo.data import from_arrays, load_dataset
from zoo.evaluation import evaluate
from zoo.tuning import ZooHyperModel, run_search


class StepCounter(keras.callbacks.Callback):
    """Counts the training batches of every fit it joins (all instances)."""

    steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        StepCounter.steps += 1


RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 4)).astype("float32")
Y = np.arange(8) % 3
TOKENS = RNG.integers(1, 20, size=(8, 6)).astype("int32")


def _model(key):
    if key == "tokens":
        model = zoo.build("rnn.simple_rnn_tokens", input_shape=(6,), num_classes=3,
                          vocab_size=20, width=4)
    elif key == "binary":
        model = zoo.build("mlp.baseline", input_shape=(4,), task="binary", width=4)
    else:
        model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, width=4)
    return zoo.compile_model(model, one_hot=key == "onehot", optimizer="sgd")


@pytest.fixture(scope="module")
def models():
    built = {k: _model(k) for k in ("multi", "onehot", "binary", "tokens")}
    yield built
    for model in built.values():  # no case trained any of them
        assert int(model.optimizer.iterations) == 0


@pytest.fixture(autouse=True)
def _no_step():
    StepCounter.steps = 0
    yield
    assert StepCounter.steps == 0, "a training step ran before the refusal"


def refused(call, error, *words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in: {message}"
    return message


def _with(a, row, value):
    a = np.array(a, dtype="float32" if isinstance(value, float) else a.dtype)
    a[row] = value
    return a


# kind -> (model, x, y, words; {x}/{y} are the entry point's argument names)
BAD_DATA = {
    "class_id_too_large": ("multi", X, _with(Y, 5, 3), ["`{y}`", "class ids >= 3", "0 ... 2",
                                                         "row 5"]),
    "negative_class_id": ("multi", X, _with(Y, 1, -1), ["`{y}`", "negative class ids",
                                                         "0 ... 2"]),
    "fractional_class_id": ("multi", X, _with(Y, 2, 0.5), ["`{y}`", "non-integer", "0 ... 2"]),
    "one_hot_vs_sparse_loss": ("multi", X, np.eye(3)[Y], ["`{y}`", "one-hot",
                                                          "sparse_categorical_crossentropy"]),
    "class_ids_vs_categorical_loss": ("onehot", X, Y, ["`{y}`", "categorical_crossentropy",
                                                       "one-hot rows of width 3"]),
    "one_hot_too_wide": ("onehot", X, np.eye(4)[Y], ["`{y}`", "width 4", "width 3"]),
    "3d_labels": ("multi", X, Y.reshape(8, 1, 1), ["`{y}`", "(8, 1, 1)", "1-D labels"]),
    "nan_in_x": ("multi", _with(X, 2, np.nan), Y, ["{x}", "NaN or Inf", "row 2",
                                                    "finite"]),
    "inf_in_x": ("multi", _with(X, 7, np.inf), Y, ["{x}", "NaN or Inf", "row 7", "finite"]),
    "rows_differ": ("multi", X, Y[:5], ["{x}", "{y}", "row"]),
    "token_id_too_large": ("tokens", _with(TOKENS, 3, 25), Y, ["`{x}`", "vocab_size=20",
                                                               "0 ... 19", "row 3"]),
    "negative_token_id": ("tokens", _with(TOKENS, 4, -2), Y, ["`{x}`", "negative token ids",
                                                              "0 ... 19"]),
    "float_token_id": ("tokens", _with(TOKENS, 0, 1.5), Y, ["`{x}`", "non-integer", "0 ... 19"]),
    "binary_label_2": ("binary", X, Y, ["`{y}`", "outside [0, 1]", "labels in {{0, 1}}"]),
    "binary_two_columns": ("binary", X, np.eye(2)[Y % 2], ["`{y}`", "2 label(s)", "(n, 1)"]),
}
# Scoring takes class ids and one-hot rows alike: only training cares.
_LOSS_FORM = {"one_hot_vs_sparse_loss", "class_ids_vs_categorical_loss"}


def _find_lr(models, key, x, y, tmp_path):
    callbacks.find_learning_rate(models[key], x, y, num_steps=10, batch_size=4)


def _evaluate(models, key, x, y, tmp_path):
    evaluate(models[key], x, y)


def _sklearn_metrics(models, key, x, y, tmp_path):
    good_x = TOKENS if key == "tokens" else X
    good_y = np.eye(3)[Y] if key == "onehot" else (Y % 2 if key == "binary" else Y)
    scorer = callbacks.SklearnMetrics((x, y))
    models[key].fit(good_x, good_y, epochs=1, verbose=0, callbacks=[scorer, StepCounter()])


def _run_search(models, key, x, y, tmp_path):
    shape = (6,) if key == "tokens" else (4,)
    name = "rnn.simple_rnn_tokens" if key == "tokens" else "mlp.baseline"
    fixed = {"vocab_size": 20} if key == "tokens" else {}
    hypermodel = ZooHyperModel(name, shape, 2 if key == "binary" else 3,
                               "binary" if key == "binary" else "multiclass",
                               fixed=dict(fixed, width=4), defaults=False)
    try:
        run_search(hypermodel, "random", "val_loss", 1, tmp_path, "p", x, y,
                   validation_data=(X if key != "tokens" else TOKENS, Y), epochs=1,
                   progress=False)
    finally:
        assert not (tmp_path / "p").exists(), "a search started"


ENTRY_POINTS = {
    "find_learning_rate": (_find_lr, "x", "y"),
    "evaluate": (_evaluate, "x_test", "y_test"),
    "SklearnMetrics": (_sklearn_metrics, "x_val", "y_val"),
    "run_search": (_run_search, "x", "y"),
}
DATA_CASES = [
    (entry, kind) for entry in ENTRY_POINTS for kind in BAD_DATA
    if not (entry in ("evaluate", "SklearnMetrics") and kind in _LOSS_FORM)
    and not (entry == "run_search" and BAD_DATA[kind][0] == "onehot")
]


@pytest.mark.parametrize("entry,kind", DATA_CASES, ids=[f"{e}-{k}" for e, k in DATA_CASES])
def test_bad_data_is_refused_before_the_first_step(models, tmp_path, entry, kind):
    call, x_name, y_name = ENTRY_POINTS[entry]
    key, x, y, words = BAD_DATA[kind]
    words = [w.format(x=x_name, y=y_name) for w in words]
    refused(lambda: call(models, key, x, y, tmp_path), ValueError, *words)


def _file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


def _mlp():
    return zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, width=4)


def _search(tmp_path, project_name="p", **kwargs):
    hypermodel = ZooHyperModel("mlp.baseline", (4,), 3, fixed={"width": 4}, defaults=False)
    arguments = dict(strategy="random", objective="val_loss", max_trials=1, epochs=1)
    if "directory" not in kwargs:
        arguments["log_dir"] = tmp_path
    arguments.update(kwargs)
    run_search(hypermodel, project_name=project_name, x=X, y=Y, validation_data=(X, Y),
               progress=False, **arguments)


SEARCH_CASES = [
    ("directory_is_a_file", lambda t: _search(t, directory=_file(t)), ValueError,
     ["`log_dir`", "a_file", "is a file"]),
    ("log_dir_under_proc", lambda t: _search(t, log_dir="/proc/tuning"), ValueError,
     ["`log_dir`", "/proc"]),
    ("log_dir_int", lambda t: _search(t, log_dir=3), TypeError, ["`log_dir`", "folder path"]),
    ("worker_without_address", lambda t: _search(t, distributed={"role": "worker"}),
     ValueError, ["`distributed`", "oracle_address", "'HOST:PORT'"]),
    ("distributed_unknown_key",
     lambda t: _search(t, distributed={"role": "chief", "oracle_address": "127.0.0.1:9",
                                       "timeout": 3}), ValueError,
     ["`distributed`", "'timeout'", "chief_timeout"]),
    ("distributed_not_a_dict", lambda t: _search(t, distributed="chief"), TypeError,
     ["`distributed`", "a dict"]),
    ("distributed_bad_address",
     lambda t: _search(t, distributed={"role": "worker", "oracle_address": "nohost"}),
     ValueError, ["`oracle_address`", "HOST:PORT"]),
    ("max_trials_zero", lambda t: _search(t, max_trials=0), ValueError,
     ["`max_trials`", ">= 1"]),
    ("epochs_zero", lambda t: _search(t, epochs=0), ValueError, ["`epochs`", ">= 1"]),
    ("strategy_typo", lambda t: _search(t, strategy="randm"), ValueError,
     ["`strategy`", "'random'"]),
    ("objective_empty", lambda t: _search(t, objective=""), TypeError,
     ["`objective`", "'val_loss'"]),
    ("objective_direction_unknown", lambda t: _search(t, objective="val_thing"), ValueError,
     ["`objective`", "'max:val_thing'"]),
    ("project_name_with_slash", lambda t: _search(t, project_name="a/b"), ValueError,
     ["`project_name`", "folder name"]),
]


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c[0] for c in SEARCH_CASES])
def test_bad_search_is_refused_before_any_trial(tmp_path, case):
    _, call, error, words = case
    environment = dict(os.environ)
    refused(lambda: call(tmp_path), error, *words)
    assert not (tmp_path / "p").exists(), "a search started"
    assert dict(os.environ) == environment  # KERASTUNER_* never left behind


def test_early_stopping_names_a_missing_key_not_the_direction():
    """`monitor="val_acc"` with mode auto: Keras says it cannot tell min from
    max; the real problem is the key (Keras 3 logs `val_accuracy`)."""
    model = zoo.compile_model(_mlp(), optimizer="sgd")
    stop = callbacks.EarlyStopping(monitor="val_acc")
    message = refused(lambda: model.fit(X, Y, validation_data=(X, Y), epochs=3, verbose=0,
                                        callbacks=[stop]),
                      ValueError, "monitor='val_acc'", "val_accuracy")
    assert "maximized or minimized" not in message
    StepCounter.steps = 0  # this one fails at the first epoch's end, by design
