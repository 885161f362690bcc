"""callbacks.SklearnMetrics: real tiny models, scores checked against
scikit-learn run independently on `model.predict`."""

import copy
import io
import json
import warnings

import keras
import keras_tuner
import numpy as np
import PIL.Image
import pytest
from scipy import special
from sklearn import metrics

import tb_utils
from callbacks import SklearnMetrics
from callbacks._sklearn_charts import charts


def blobs(n, classes, seed=0):
    """Separable-ish Gaussian blobs: float32 x of shape (n, 4), int labels."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, 4))
    y = np.arange(n) % classes
    x = centers[y] + rng.normal(size=(n, 4))
    return x.astype("float32"), y


class Subclassed(keras.Model):
    def __init__(self, units, activation=None):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(units, activation=activation)

    def call(self, x):
        return self.out(self.hidden(x))


def build(units, activation=None, style="sequential"):
    if style == "subclassed":
        return Subclassed(units, activation)
    if style == "functional":
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        outputs = keras.layers.Dense(units, activation=activation)(hidden)
        return keras.Model(inputs, outputs)
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(units, activation=activation),
    ])


def fit(model, loss, x, y, callbacks, epochs=2, lr=0.05, **kwargs):
    model.compile(keras.optimizers.Adam(lr), loss, **kwargs.pop("compile", {}))
    return model.fit(
        x, y, epochs=epochs, batch_size=16, callbacks=callbacks, verbose=0,
        **kwargs,
    )


def last(history, cb, key):
    """Last value of `key`, asserting Keras's History and ours agree."""
    assert history.history[key][-1] == pytest.approx(cb.history[key][-1])
    return history.history[key][-1]


def assert_logged(history, cb, expected):
    for name, value in expected.items():
        assert last(history, cb, "val_" + name) == pytest.approx(
            value, rel=1e-6, abs=1e-9  # we score float64, the test float32
        ), name


def f1_family(y, pred, headline):
    return {
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(
            y, pred, average=headline, zero_division=0
        ),
        "recall": metrics.recall_score(
            y, pred, average=headline, zero_division=0
        ),
        "f1": metrics.f1_score(y, pred, average=headline, zero_division=0),
        "f1_macro": metrics.f1_score(y, pred, average="macro", zero_division=0),
        "f1_micro": metrics.f1_score(y, pred, average="micro", zero_division=0),
        "f1_weighted": metrics.f1_score(
            y, pred, average="weighted", zero_division=0
        ),
    }


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_binary_sigmoid_matches_sklearn(style):
    x, y = blobs(80, 2)
    xv, yv = blobs(45, 2, seed=1)
    cb = SklearnMetrics(validation_data=(xv, yv), batch_size=16)
    history = fit(build(1, "sigmoid", style), "binary_crossentropy", x, y, [cb])

    prob = history.model.predict(xv, verbose=0).ravel()
    pred = (prob >= 0.5).astype(int)
    expected = f1_family(yv, pred, "binary")
    expected["roc_auc"] = metrics.roc_auc_score(yv, prob)
    expected["average_precision"] = metrics.average_precision_score(yv, prob)
    assert_logged(history, cb, expected)
    np.testing.assert_array_equal(
        cb.confusion_matrix, metrics.confusion_matrix(yv, pred)
    )
    assert cb.history["epoch"] == [0, 1]


@pytest.mark.parametrize("one_hot", [False, True])
def test_binary_two_unit_softmax(one_hot):
    x, y = blobs(80, 2)
    xv, yv = blobs(40, 2, seed=1)
    labels = (lambda a: np.eye(2)[a]) if one_hot else (lambda a: a)
    loss = "categorical_crossentropy" if one_hot else (
        "sparse_categorical_crossentropy"
    )
    cb = SklearnMetrics(validation_data=(xv, labels(yv)))
    history = fit(build(2, "softmax"), loss, x, labels(y), [cb])

    prob = history.model.predict(xv, verbose=0)[:, 1]
    pred = (prob >= 0.5).astype(int)
    expected = f1_family(yv, pred, "binary")
    expected["roc_auc"] = metrics.roc_auc_score(yv, prob)
    assert_logged(history, cb, expected)


@pytest.mark.parametrize("labels", ["integer", "one_hot", "logits"])
def test_multiclass_matches_sklearn(labels):
    x, y = blobs(90, 3)
    xv, yv = blobs(60, 3, seed=1)
    if labels == "one_hot":
        model, loss, y_fit, y_val = (
            build(3, "softmax"), "categorical_crossentropy",
            np.eye(3)[y], np.eye(3)[yv],
        )
    elif labels == "logits":
        model, loss, y_fit, y_val = (
            build(3), keras.losses.SparseCategoricalCrossentropy(
                from_logits=True), y, yv,
        )
    else:
        model, loss, y_fit, y_val = (
            build(3, "softmax"), "sparse_categorical_crossentropy", y, yv,
        )
    cb = SklearnMetrics(validation_data=(xv, y_val))
    history = fit(model, loss, x, y_fit, [cb])

    out = history.model.predict(xv, verbose=0)
    prob = special.softmax(out, axis=1) if labels == "logits" else out
    prob = prob / prob.sum(axis=1, keepdims=True)
    pred = prob.argmax(axis=1)
    expected = f1_family(yv, pred, "macro")
    expected["roc_auc"] = metrics.roc_auc_score(yv, prob, multi_class="ovr")
    expected["average_precision"] = metrics.average_precision_score(yv, prob)
    assert_logged(history, cb, expected)
    np.testing.assert_array_equal(
        cb.confusion_matrix, metrics.confusion_matrix(yv, pred)
    )


def test_multilabel_matches_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = (x[:, :3] + 0.3 * rng.normal(size=(120, 3)) > 0).astype(int)
    xv, yv = x[80:], y[80:]
    cb = SklearnMetrics(validation_data=(xv, yv), average="micro")
    history = fit(build(3, "sigmoid"), "binary_crossentropy", x, y, [cb])

    prob = history.model.predict(xv, verbose=0)
    pred = (prob >= 0.5).astype(int)
    expected = f1_family(yv, pred, "micro")
    expected["hamming_loss"] = metrics.hamming_loss(yv, pred)
    expected["roc_auc"] = metrics.roc_auc_score(yv, prob)
    expected["average_precision"] = metrics.average_precision_score(yv, prob)
    assert_logged(history, cb, expected)
    np.testing.assert_array_equal(
        cb.confusion_matrix, metrics.multilabel_confusion_matrix(yv, pred)
    )


@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_matches_sklearn(outputs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = x[:, :outputs] * 2.0 + 0.5
    if outputs == 1:
        y = y.ravel()
    cb = SklearnMetrics(validation_data=(x[50:], y[50:]))
    history = fit(build(outputs), "mse", x[:50], y[:50], [cb])

    pred = history.model.predict(x[50:], verbose=0).reshape(y[50:].shape)
    mse = metrics.mean_squared_error(y[50:], pred)
    assert_logged(history, cb, {
        "mse": mse,
        "mae": metrics.mean_absolute_error(y[50:], pred),
        "rmse": metrics.root_mean_squared_error(y[50:], pred),
        "r2": metrics.r2_score(y[50:], pred),
    })
    assert "val_f1" not in history.history


def test_auto_without_model_clues_uses_labels_and_value_range():
    # Subclassed model (no output layer to read) + a custom loss function:
    # the task comes from the labels, logits from the output range.
    def loss(y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=True
        )

    x, y = blobs(90, 3)
    xv, yv = blobs(45, 3, seed=1)
    cb = SklearnMetrics(validation_data=(xv, yv))
    history = fit(build(3, style="subclassed"), loss, x, y, [cb])

    prob = special.softmax(history.model.predict(xv, verbose=0), axis=1)
    expected = {
        "f1": metrics.f1_score(yv, prob.argmax(1), average="macro"),
        "roc_auc": metrics.roc_auc_score(yv, prob, multi_class="ovr"),
    }
    assert_logged(history, cb, expected)


def test_val_f1_drives_keras_early_stopping():
    # lr=0: val_f1 never improves, so patience=1 stops after two epochs.
    # Without val_f1 in the logs EarlyStopping would never stop.
    x, y = blobs(60, 2)
    scorer = SklearnMetrics(validation_data=(x, y))
    stop = keras.callbacks.EarlyStopping(
        monitor="val_f1", mode="max", patience=1
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(
            build(1, "sigmoid"), "binary_crossentropy", x, y,
            [scorer, stop], epochs=10, lr=0.0,
        )
    assert history.epoch == [0, 1]
    assert stop.stopped_epoch == 1
    assert not [w for w in caught if "val_f1" in str(w.message)]


def test_val_f1_as_keras_tuner_objective(tmp_path):
    x, y = blobs(60, 2)
    xv, yv = blobs(30, 2, seed=1)
    cb = SklearnMetrics(validation_data=(xv, yv))

    def hypermodel(hp):
        model = build(1, "sigmoid")
        model.compile(
            keras.optimizers.Adam(hp.Choice("lr", [0.01, 0.05])),
            "binary_crossentropy",
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel, objective=keras_tuner.Objective("val_f1", "max"),
        max_trials=1, directory=tmp_path, project_name="p", overwrite=True,
    )
    tuner.search(x, y, epochs=1, batch_size=16, callbacks=[cb], verbose=0)
    (trial,) = tuner.oracle.get_best_trials(1)
    model = tuner.get_best_models(1)[0]
    pred = (model.predict(xv, verbose=0).ravel() >= 0.5).astype(int)
    assert trial.score == pytest.approx(metrics.f1_score(yv, pred))
    # The tuner trained deep copies; the original was never attached.
    assert cb.history == {} and cb.model is None


MISMATCHES = {
    "ten_classes_on_one_sigmoid": (
        (1, "sigmoid"), "binary_crossentropy", "auto",
        lambda yv: yv % 10, r"labels in \{0, 1\}.*10 distinct values",
    ),
    "one_hot_width": (
        (3, "softmax"), "categorical_crossentropy", "auto",
        lambda yv: np.eye(5)[yv % 5], r"one-hot labels of width 5.*width 3",
    ),
    "label_out_of_range": (
        (3, "softmax"), "sparse_categorical_crossentropy", "auto",
        lambda yv: np.where(yv == 0, 5, yv % 3),
        r"integer labels in 0 \.\.\. 2",
    ),
    "regression_shape": (
        (1, None), "mse", "auto",
        lambda yv: np.ones((len(yv), 3)), r"targets of shape \(\d+, 3\).*1 ",
    ),
    "multiclass_on_one_unit": (
        (1, "sigmoid"), "binary_crossentropy", "multiclass",
        lambda yv: yv % 3, "one output unit per class",
    ),
    "binary_on_three_units": (
        (3, "softmax"), "sparse_categorical_crossentropy", "binary",
        lambda yv: yv % 2, "1 unit .sigmoid. or 2 units",
    ),
    "multilabel_width": (
        (3, "sigmoid"), "binary_crossentropy", "auto",
        lambda yv: np.ones((len(yv), 4)), r"shape \(\d+, 4\).*\(n, 3\)",
    ),
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_label_head_mismatch_raises_before_first_step(case):
    (units, activation), loss, task, make_val, message = MISMATCHES[case]
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y_fit = {
        "binary_crossentropy": np.zeros((32, units)),
        "categorical_crossentropy": np.eye(units)[np.arange(32) % units],
        "sparse_categorical_crossentropy": np.arange(32) % units,
        "mse": np.zeros(32),
    }[loss]
    cb = SklearnMetrics(validation_data=(x, make_val(np.arange(32))), task=task)
    model = build(units, activation)
    with pytest.raises(ValueError, match=message):
        fit(model, loss, x, y_fit, [cb])
    assert int(model.optimizer.iterations) == 0


def test_head_probe_calls_the_model_only_when_needed():
    # The head's clues (softmax, loss) decide: no eager model call before
    # training (~0.06 s); x_val that does not fit the inputs still fails
    # before the first step, from the model itself.
    calls = []
    inputs = keras.Input((4,))
    seen = keras.layers.Lambda(lambda t: calls.append(1) or t)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(seen))
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = blobs(30, 3)
    scorer = SklearnMetrics(validation_data=(x, y))
    scorer.set_model(model)
    calls.clear()
    scorer.on_train_begin()
    assert calls == [] and scorer._head.task == "multiclass"
    assert not scorer._head.from_logits
    bad = SklearnMetrics(validation_data=(np.zeros((30, 5), "float32"), y))
    with pytest.raises(ValueError, match="shape"):
        model.fit(x, y, epochs=1, callbacks=[bad], verbose=0)
    assert int(model.optimizer.iterations) == 0


@pytest.mark.parametrize("kwargs, error, message", [
    ({"validation_data": np.zeros((4, 4))}, TypeError, "tuple"),
    ({"validation_data": (np.zeros((4, 4)), np.zeros(4), np.ones(4))},
     ValueError, "sample weights"),
    ({"validation_data": (np.zeros((4, 4)), np.zeros(3))}, ValueError,
     "4 samples but y_val has 3"),
    ({"validation_data": (np.zeros((2, 4)), np.array(["a", "b"]))},
     TypeError, "LabelEncoder"),
    ({"validation_data": (np.zeros((2, 4)), np.array([0.0, np.nan]))},
     ValueError, "NaN"),
    ({"task": "classification"}, ValueError, "SklearnMetrics: `task` must be one of"),
    ({"update_freq": 0}, ValueError, "update_freq"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"threshold": 1.0}, ValueError, "threshold"),
    ({"average": "mean"}, ValueError, "`average` must be one of"),
    ({"average": "binary", "task": "multiclass"}, ValueError,
     "average='binary' does not apply"),
    ({"prefix": 3}, TypeError, "prefix"),
    ({"from_logits": "yes"}, TypeError, "from_logits"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    kwargs.setdefault("validation_data", (np.zeros((4, 4)), np.zeros(4)))
    with pytest.raises(error, match=message):
        SklearnMetrics(**kwargs)


def test_predict_is_not_retraced_each_epoch():
    x, y = blobs(50, 2)  # 50 = 3 batches of 16 + a partial batch of 2
    counts = []
    count = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: counts.append(
            scorer.model.predict_function.experimental_get_tracing_count()
        )
    )
    scorer = SklearnMetrics(validation_data=(x, y), batch_size=16)
    fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [scorer, count],
        epochs=4)
    assert counts == [1] * 4  # one batch shape: the short last one is padded


def test_uses_the_predictions_of_fits_own_validation_pass():
    x, y = blobs(50, 3)
    x_val, y_val = blobs(37, 3, seed=1)  # a short last batch
    scorer = SklearnMetrics(validation_data=(x_val, y_val))
    model = build(3, "softmax")
    history = fit(model, "sparse_categorical_crossentropy", x, y, [scorer],
                  validation_data=(x_val, y_val.copy()))  # equal, not the same
    assert model.predict_function is None  # no second pass, nothing traced
    pred = model.predict(x_val, verbose=0).argmax(axis=1)
    assert last(history, scorer, "val_f1") == pytest.approx(
        metrics.f1_score(y_val, pred, average="macro"))
    # The model's own evaluate still gives its own numbers.
    twin = build(3, "softmax")
    twin.compile("adam", "sparse_categorical_crossentropy")
    twin.set_weights(model.get_weights())
    for data in ((x_val, y_val), (x, y)):
        assert model.evaluate(*data, verbose=0) == pytest.approx(
            twin.evaluate(*data, verbose=0), rel=1e-5)


def test_predicts_itself_when_fit_validates_on_other_data():
    x, y = blobs(50, 3)
    x_val, y_val = blobs(30, 3, seed=1)
    scorer = SklearnMetrics(validation_data=(x_val, y_val))
    model = build(3, "softmax")
    history = fit(model, "sparse_categorical_crossentropy", x, y, [scorer],
                  validation_data=(x, y))
    pred = model.predict(x_val, verbose=0).argmax(axis=1)
    assert last(history, scorer, "val_f1") == pytest.approx(
        metrics.f1_score(y_val, pred, average="macro"))


def test_event_files_hold_scalars_and_images(tmp_path):
    x, y = blobs(60, 3)
    cb = SklearnMetrics(validation_data=(x, y), log_dir=tmp_path)
    fit(build(3, "softmax"), "sparse_categorical_crossentropy", x, y,
        [cb, keras.callbacks.TensorBoard(tmp_path)],
        validation_data=(x, y))

    scalars = tb_utils.read_scalars(tmp_path / "validation")
    names = [key[len("val_"):] for key in cb.history if key != "epoch"]
    shown = charts(names, "multiclass", None)
    for name, (tag, _) in shown.items():
        points = scalars[tag]
        assert [s for s, _ in points] == [0, 1]
        assert [v for _, v in points] == pytest.approx(cb.history["val_" + name], rel=1e-6)
    # Named by their averaging, each once: f1 is f1_macro, f1_micro the accuracy.
    assert shown["f1"][0] == "sklearn/f1_macro" and "f1_macro" not in shown
    assert "f1_micro" not in shown
    assert [s for s, _ in scalars["epoch_loss"]] == [0, 1]  # Keras's own
    assert not [t for t in scalars if t.startswith("epoch_") and t != "epoch_loss"]
    images = tb_utils.read_image_tags(tmp_path / "validation")
    drawn = [int(np.argmax(cb.history["val_f1"]))]  # the best epoch only
    assert images == {
        "sklearn/confusion_matrix": drawn, "sklearn/roc_curve": drawn,
    }


@pytest.mark.parametrize("image_freq", [None, 2])
def test_images_at_the_best_epoch_and_every_image_freq(tmp_path, image_freq):
    # The documented policy: the best (highest f1) scored epoch, drawn when
    # fit ends; with image_freq=n also epochs n, 2n, ... and the last.
    x, y = blobs(90, 3, seed=1)
    cb = SklearnMetrics(validation_data=(x, y), log_dir=tmp_path,
                        image_freq=image_freq)
    drawn_during_fit = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            cb._writer.flush()
            drawn_during_fit.append(tb_utils.read_image_tags(
                tmp_path / "validation").get("sklearn/roc_curve", []))

    fit(build(3, "softmax"), "sparse_categorical_crossentropy", x, y,
        [cb, Watch()], epochs=5, lr=0.01)
    f1 = cb.history["val_f1"]
    best = int(np.argmax(f1))
    periodic = [] if image_freq is None else [1, 3]
    expected = sorted(set(periodic) | {best} | ({4} if image_freq else set()))
    images = tb_utils.read_image_tags(tmp_path / "validation")
    assert images == {"sklearn/confusion_matrix": expected,
                      "sklearn/roc_curve": expected}
    for shots in tb_utils.read_images(tmp_path / "validation").values():
        for _, width, height, png in shots:  # a whole PNG of the size stated
            with PIL.Image.open(io.BytesIO(png)) as image:
                image.load()
                assert image.format == "PNG" and image.size == (width, height)
                assert 300 <= width <= 800
    # Periodic images come as the epoch is scored; best and last at the end.
    assert drawn_during_fit[-1] == periodic


def test_update_freq(tmp_path):
    x, y = blobs(40, 2)
    cb = SklearnMetrics(validation_data=(x, y), update_freq=2,
                        log_dir=tmp_path, image_freq=1)
    history = fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [cb],
                  epochs=5)
    assert cb.history["epoch"] == [1, 3]
    assert len(history.history["val_f1"]) == 2
    assert [s for s, _ in tb_utils.read_scalars(tmp_path / "validation")[
        "sklearn/f1_binary"]] == [1, 3]
    assert tb_utils.read_image_tags(tmp_path / "validation")[
        "sklearn/roc_curve"] == [1, 3]


def test_every_n_epochs_is_a_deprecated_alias_of_update_freq():
    x, y = blobs(40, 2)
    with pytest.warns(DeprecationWarning, match="use `update_freq`"):
        cb = SklearnMetrics(validation_data=(x, y), every_n_epochs=2)
    fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [cb], epochs=3)
    assert cb.update_freq == 2 and cb.history["epoch"] == [1]
    with pytest.raises(TypeError, match="pass only `update_freq`"):
        SklearnMetrics(validation_data=(x, y), every_n_epochs=2, update_freq=2)


def test_keys_from_compiled_metrics_are_kept(recwarn):
    x, y = blobs(40, 2)
    xv, yv = blobs(30, 2, seed=1)  # SklearnMetrics scores other data
    cb = SklearnMetrics(validation_data=(xv, yv))
    history = fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [cb],
                  validation_data=(x, 1 - y), compile={"metrics": ["accuracy"]})
    def accuracy(x, y):
        pred = (history.model.predict(x, verbose=0).ravel() > 0.5).astype(int)
        return metrics.accuracy_score(y, pred)

    keras_value, ours = accuracy(x, 1 - y), accuracy(xv, yv)
    assert keras_value != pytest.approx(ours)
    assert history.history["val_accuracy"][-1] == pytest.approx(keras_value)
    assert cb.history["val_accuracy"][-1] == pytest.approx(ours)
    assert any("kept Keras's values" in str(w.message) for w in recwarn)


def test_no_warning_when_keras_logs_the_same_value(recwarn):
    x, y = blobs(40, 2)
    xv, yv = blobs(30, 2, seed=1)
    cb = SklearnMetrics(validation_data=(xv, yv))
    history = fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [cb],
                  validation_data=(xv, yv), compile={"metrics": ["accuracy"]})
    assert history.history["val_accuracy"][-1] == pytest.approx(cb.history["val_accuracy"][-1])
    assert not any("kept Keras's values" in str(w.message) for w in recwarn)


def test_missing_class_skips_ranking_metrics():
    x, y = blobs(60, 3)
    keep = y < 2  # class 2 absent from the validation labels
    cb = SklearnMetrics(validation_data=(x[keep], y[keep]))
    with pytest.warns(UserWarning, match=r"class\(es\) \[2\] have no"):
        history = fit(build(3, "softmax"), "sparse_categorical_crossentropy",
                      x, y, [cb])
    assert "val_roc_auc" not in history.history
    assert "val_f1" in history.history


def test_nan_predictions_warn_with_epoch_and_log_nan():
    x, y = blobs(40, 2)
    model = build(1, "sigmoid")
    model.build((None, 4))
    kernel = model.layers[-1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    cb = SklearnMetrics(validation_data=(x, y))
    with pytest.warns(UserWarning, match=r"epoch 1 .*non-finite"):
        history = fit(model, "binary_crossentropy", x, y, [cb], epochs=1,
                      lr=0.0)
    assert np.isnan(history.history["val_f1"][0])
    state = json.loads(json.dumps(cb.get_state(), allow_nan=False))
    assert state["history"]["val_f1"] == [None]


def test_deepcopy_shares_data_and_copies_state():
    x, y = blobs(40, 2)
    cb = SklearnMetrics(validation_data=(x, y), log_dir=None)
    fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [cb], epochs=1)
    clone = copy.deepcopy(cb)
    assert clone._x is cb._x and clone._y is cb._y
    assert clone.model is None and cb.model is not None
    assert clone.history == cb.history and clone.history is not cb.history
    assert clone.get_config() == cb.get_config()
    fit(build(1, "sigmoid"), "binary_crossentropy", x, y, [clone], epochs=1)
    assert clone.history["epoch"] == [0, 0] and cb.history["epoch"] == [0]


def test_state_round_trip_resumes_history():
    x, y = blobs(40, 2)
    cb = SklearnMetrics(validation_data=(x, y))
    model = build(1, "sigmoid")
    fit(model, "binary_crossentropy", x, y, [cb], epochs=2)
    state = json.loads(json.dumps(cb.get_state(), allow_nan=False))

    resumed = SklearnMetrics(validation_data=(x, y))
    resumed.set_state(state)
    np.testing.assert_array_equal(resumed.confusion_matrix, cb.confusion_matrix)
    model.fit(x, y, epochs=3, initial_epoch=2, callbacks=[resumed], verbose=0)
    assert resumed.history["epoch"] == [0, 1, 2]
    assert resumed.history["val_f1"][:2] == cb.history["val_f1"]
    with pytest.raises(TypeError, match="get_state"):
        resumed.set_state([1, 2])


def test_get_config_is_json_able():
    cb = SklearnMetrics(
        validation_data=(np.zeros((4, 4)), np.zeros(4)), task="binary",
        update_freq=3, batch_size=64, log_dir="logs", threshold=0.3,
        prefix="test_", average="micro",
    )
    config = json.loads(json.dumps(cb.get_config()))
    assert config == {
        "task": "binary", "update_freq": 3, "batch_size": 64,
        "log_dir": "logs", "threshold": 0.3, "prefix": "test_",
        "average": "micro", "from_logits": None, "write_images": True,
        "image_freq": None,
    }
