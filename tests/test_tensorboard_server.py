"""A real `tensorboard` server on 127.0.0.1 serves what the callbacks log.

One tiny model trains once with every callback in `CASES` writing to one
log directory; then a TensorBoard server reads that directory and its HTTP
API must list each expected tag and serve each expected (step, value).

To cover another callback, append a case: a function taking
`(log_dir, data)` and returning `(callback, expected)`, where
`expected(history)` (called after training with the `fit` History) returns
`(scalars, images)`: `{(run, tag): [(step, value), ...]}` and a set of
`(run, tag)` image tags. Callbacks run in `CASES` order, so list callbacks
that add log keys before those that read them.
"""

import collections

import keras
import numpy as np
import pytest

import tb_utils
from callbacks import SklearnMetrics

Data = collections.namedtuple("Data", "x y x_val y_val")


def sklearn_metrics_case(log_dir, data):
    callback = SklearnMetrics(
        validation_data=(data.x_val, data.y_val), log_dir=log_dir
    )

    def expected(history):
        epochs = callback.history["epoch"]
        scalars = {
            ("validation", "sklearn/" + key[len("val_"):]): list(
                zip(epochs, values)
            )
            for key, values in callback.history.items()
            if key != "epoch"
        }
        images = {
            ("validation", "sklearn/confusion_matrix"),
            ("validation", "sklearn/roc_curve"),
        }
        return scalars, images

    return callback, expected


def keras_tensorboard_case(log_dir, data):
    callback = keras.callbacks.TensorBoard(log_dir)

    def expected(history):
        scalars = {
            ("train", "epoch_loss"): list(enumerate(history.history["loss"])),
            ("validation", "epoch_loss"): list(
                enumerate(history.history["val_loss"])
            ),
        }
        return scalars, set()

    return callback, expected


CASES = [sklearn_metrics_case, keras_tensorboard_case]


def make_data(n=60, classes=3):
    rng = np.random.default_rng(0)
    y = np.arange(2 * n) % classes
    x = (np.eye(classes, 4)[y] * 3 + rng.normal(size=(2 * n, 4))).astype(
        "float32"
    )
    return Data(x[:n], y[:n], x[n:], y[n:])


def has_tags(wanted):
    return lambda served: all(tag in served.get(run, {}) for run, tag in wanted)


def test_tensorboard_server_serves_callback_scalars_and_images(
    tmp_path, free_port
):
    data = make_data()
    built = [case(tmp_path, data) for case in CASES]
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(
        data.x, data.y, validation_data=(data.x_val, data.y_val), epochs=2,
        batch_size=16, callbacks=[callback for callback, _ in built],
        verbose=0,
    )
    scalars, images = {}, set()
    for _, expected in built:
        case_scalars, case_images = expected(history)
        scalars.update(case_scalars)
        images |= case_images
    assert scalars and images

    with tb_utils.tensorboard_server(tmp_path, free_port) as url:
        assert url.startswith("http://127.0.0.1:")
        tb_utils.wait_for_json(url, "/data/plugin/scalars/tags",
                               has_tags(scalars))
        for (run, tag), points in scalars.items():
            served = tb_utils.get_json(
                url, "/data/plugin/scalars/scalars", run=run, tag=tag
            )  # [[wall_time, step, value], ...]
            assert [step for _, step, _ in served] == [s for s, _ in points]
            assert [value for _, _, value in served] == pytest.approx(
                [v for _, v in points], rel=1e-6
            ), (run, tag)
        tb_utils.wait_for_json(url, "/data/plugin/images/tags",
                               has_tags(images))
        runs = tb_utils.get_json(url, "/data/runs")
        assert {"train", "validation"} <= set(runs)
