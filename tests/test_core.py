"""The shared core: atomic writes, the non-finite-weights guard, one message
style for argument checks, and one task inference for data, evaluation and
callbacks."""

import os

import keras
import numpy as np
import pytest

from callbacks import EarlyStopping, SklearnMetrics
from zoo.core.checks import check_choice, check_number
from zoo.core.files import atomic_path, write_text
from zoo.core.finite import non_finite_weights
from zoo.core.heads import resolve_head
from zoo.core.tasks import infer_task
from zoo.data import from_arrays
from zoo.evaluation import evaluate_predictions


class Boom(RuntimeError):
    pass


def test_atomic_path_replaces_the_file_whole(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("good model")

    def half_then_fail(path):
        with open(path, "w") as f:
            f.write("half a mod")
        raise Boom("disk full")

    with pytest.raises(Boom, match="disk full") as info:
        with atomic_path(target) as tmp:
            assert os.path.dirname(tmp) == str(tmp_path)
            assert tmp.endswith("model.keras")  # suffix checks still pass
            half_then_fail(tmp)
    assert target.read_text() == "good model"
    assert os.listdir(tmp_path) == ["model.keras"]
    assert any(str(target) in note for note in info.value.__notes__)


def test_a_real_keras_save_goes_through_the_temporary_name(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    target = tmp_path / "backup.weights.h5"
    with atomic_path(target) as tmp:
        model.save_weights(tmp)
    reloaded = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    reloaded.load_weights(target)
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == ["backup.weights.h5"]


def test_non_finite_weights_names_the_bad_ones():
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(3, name="hidden"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dense(1, name="out"),
    ], name="net")
    assert non_finite_weights(model) == []
    model.get_layer("out").kernel.assign(np.full((3, 1), np.inf, "float32"))
    model.get_layer("norm").moving_variance.assign([np.nan, 1.0, 1.0])  # not trainable
    assert non_finite_weights(model) == ["net/norm/moving_variance", "net/out/kernel"]


def test_one_message_style_for_zoo_and_callbacks():
    with pytest.raises(TypeError, match=r"^EarlyStopping: `patience` must be a number; "
                                        r"got '5' of type str\.$"):
        EarlyStopping(patience="5")
    with pytest.raises(ValueError, match=r"^`patience` must be an integer >= 0; got -1\.$"):
        check_number("patience", -1, 0, integer=True)
    # Drop-ins of Keras classes accept what Keras does: an unknown or
    # upper-case mode falls back to "auto", warned in the same style.
    for mode in ("best", "MIN"):
        with pytest.warns(UserWarning, match=r"^EarlyStopping: `mode` must be one of "
                                             r"\['auto', 'max', 'min'\]; got '" + mode):
            assert EarlyStopping(mode=mode).mode == "auto"
    assert check_choice("task", "Multi-Class", ("multi_class",)) == "multi_class"


# (labels, model outputs' width) -> the task every part of the package infers.
AGREED = [
    (np.array([0, 1, 1, 0] * 5), 1, "binary"),
    (np.array([0, 1, 1, 0] * 5), 2, "binary"),
    (np.eye(2, dtype=int)[[0, 1, 1, 0] * 5], 2, "binary"),
    (np.arange(20) % 3, 3, "multiclass"),
    (np.eye(3, dtype=int)[np.arange(20) % 3], 3, "multiclass"),
    (np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]] * 5), 3, "multilabel"),
    (np.linspace(0.0, 1.0, 20), 1, "regression"),
    (np.arange(20) % 5, 1, "regression"),
]


@pytest.mark.parametrize("y, units, task", AGREED)
def test_evaluation_and_callback_infer_the_same_task(y, units, task):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(units), size=len(y)) if units > 1 else rng.random((len(y), 1))
    assert infer_task(y, units) == task
    assert resolve_head(y, probs).task == task
    assert evaluate_predictions(y, probs)["task"] == task

    # The callback: a real model with that many outputs and no clue from
    # its loss or activation, so the labels decide, as in evaluate.
    x = rng.normal(size=(len(y), 4)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])
    model.compile("sgd", lambda t, p: keras.ops.mean(p * 0.0))
    scorer = SklearnMetrics((x, y), task="auto")
    model.fit(x, y.astype("float32"), epochs=1, verbose=0, callbacks=[scorer])
    assert scorer._head.task == task


def test_data_loading_uses_the_same_rules_without_a_model():
    x = np.zeros((40, 2))
    assert from_arrays(x, np.arange(40) % 2).task == infer_task(np.arange(40) % 2) == "binary"
    assert from_arrays(x, np.arange(40) % 4).task == "multiclass"
    # Without a head to read, float labels are targets, even whole ones.
    assert from_arrays(x, (np.arange(40) % 2).astype(float)).task == "regression"
    assert infer_task((np.arange(40) % 2).astype(float), units=1) == "binary"


def test_a_zoo_head_decides_before_the_labels():
    import zoo

    # One sigmoid unit reads as binary, but this head was built multilabel.
    model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=1, task="multilabel")
    y = (np.arange(12) % 2)[:, None]
    outputs = model.predict(np.zeros((12, 4)), verbose=0)
    assert resolve_head(y, outputs).task == "binary"
    head = resolve_head(y, outputs, model=model)
    assert head.task == "multilabel" and not head.from_logits


@pytest.mark.parametrize("activation, y, task", [
    ("softmax", np.array([0, 2, 1, 2]), "multiclass"),   # MSE on a softmax: a classifier
    ("sigmoid", np.array([0, 1, 1, 0]), "binary"),       # MSE on a sigmoid, 0/1 labels
    ("sigmoid", np.array([0.2, 0.7, 0.5, 0.9]), "regression"),  # ... fractional targets
])
def test_a_quadratic_cost_does_not_hide_the_output_activation(activation, y, task):
    units = 3 if activation == "softmax" else 1
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss="mse")
    outputs = model.predict(np.zeros((len(y), 4)), verbose=0)
    assert resolve_head(y, outputs, model=model).task == task
