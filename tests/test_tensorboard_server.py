"""What the callbacks log reaches TensorBoard, read back for real.

One tiny model trains once with every callback in `CASES` (the four of this
package: gradient norms, early stopping, learning-rate decay and logging,
scikit-learn metrics; plus Keras's own TensorBoard) writing to one log
directory. Then TensorBoard's own event reader, and separately a real
TensorBoard server on 127.0.0.1 through its HTTP API, must list each expected
tag and give each expected (step, value).

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
import callbacks
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


def gradient_norm_case(log_dir, data):
    callback = callbacks.GradientNormMonitor(log_dir=log_dir)

    def expected(history):
        recorded = callback.history
        steps = [int(s) for s in recorded["step"]]
        scalars = {("train", "gradient_norm/global"):
                   list(zip(steps, recorded["global_norm"].tolist()))}
        for layer, norms in recorded["layer_norm"].items():
            scalars[("train", f"gradient_norm/{layer}")] = list(
                zip([int(s) for s in recorded["layer_step"]], norms.tolist()))
        assert history.history["grad_norm"]  # also in the epoch logs
        return scalars, set()

    return callback, expected


def learning_rate_case(log_dir, data):
    callback = callbacks.LearningRateLogger(log_dir=log_dir)

    def expected(history):
        rates = history.history["learning_rate"]
        assert rates[0] > rates[-1]  # the schedule in `train` decays it
        return {("train", "learning_rate"): list(enumerate(rates))}, set()

    return callback, expected


def early_stopping_case(log_dir, data):
    # Listed before the callback whose key it watches: order must not matter.
    callback = callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=50,
                                       restore_best_weights=True)

    def expected(history):
        assert callback.best_epoch is not None and callback.stop_reason is None
        return {}, set()

    return callback, expected


CASES = [early_stopping_case, gradient_norm_case, sklearn_metrics_case,
         learning_rate_case, keras_tensorboard_case]


def make_data(n=60, classes=3):
    rng = np.random.default_rng(0)
    y = np.arange(2 * n) % classes
    x = (np.eye(classes, 4)[y] * 3 + rng.normal(size=(2 * n, 4))).astype(
        "float32"
    )
    return Data(x[:n], y[:n], x[n:], y[n:])


def has_tags(wanted):
    return lambda served: all(tag in served.get(run, {}) for run, tag in wanted)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train once with every case; return (log_dir, scalars, images)."""
    log_dir = tmp_path_factory.mktemp("tensorboard")
    data = make_data()
    built = [case(log_dir, data) for case in CASES]
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    decay = keras.optimizers.schedules.ExponentialDecay(0.01, 4, 0.5)
    model.compile(keras.optimizers.Adam(decay), "sparse_categorical_crossentropy")
    history = model.fit(
        data.x, data.y, validation_data=(data.x_val, data.y_val), epochs=3,
        batch_size=16, callbacks=[callback for callback, _ in built],
        verbose=0,
    )
    scalars, images = {}, set()
    for _, expected in built:
        case_scalars, case_images = expected(history)
        scalars.update(case_scalars)
        images |= case_images
    assert scalars and images
    return log_dir, scalars, images


def test_event_files_hold_every_callbacks_scalars_and_images(trained):
    log_dir, scalars, images = trained
    for run in {run for run, _ in scalars}:
        written = tb_utils.read_scalars(log_dir / run)
        for (wanted_run, tag), points in scalars.items():
            if wanted_run != run:
                continue
            assert tag in written, (run, tag, sorted(written))
            assert [s for s, _ in written[tag]] == [s for s, _ in points], tag
            assert [v for _, v in written[tag]] == pytest.approx(
                [v for _, v in points], rel=1e-6), tag
    for run, tag in images:
        assert tag in tb_utils.read_image_tags(log_dir / run)


def test_tensorboard_server_serves_callback_scalars_and_images(trained, free_port):
    tmp_path, scalars, images = trained
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
