"""What the callbacks log reaches TensorBoard, read back for real.

One tiny model trains once with every callback in `CASES` (this package's:
gradient norms, early stopping, learning-rate decay and logging,
scikit-learn metrics, activation statistics; plus Keras's own TensorBoard)
writing to one log directory. Then TensorBoard's own event reader, and
separately a real TensorBoard server on 127.0.0.1 through its HTTP API, must
list each expected tag and give each expected (step, value); no two tags may
carry the same series (each quantity charted once, Keras's TensorBoard
included), the tags carry their descriptions, the gradient-norm overlay
layout is served and the Graphs dashboard has nothing it cannot show.

To cover another callback, append a case: a function taking
`(log_dir, data)` and returning `(callback, expected)`, where
`expected(history)` (called after training with the `fit` History) returns
`(scalars, images)`: `{(run, tag): [(step, value), ...]}` and a set of
`(run, tag)` image tags. Callbacks run in `CASES` order, so list callbacks
that add log keys before those that read them.
"""

import ast
import collections
import itertools
import pathlib
import re

import keras
import numpy as np
import pytest

import tb_utils
import callbacks
from callbacks import SklearnMetrics
from callbacks._sklearn_charts import image_title

ROOT = pathlib.Path(__file__).resolve().parents[1]
# 3 classes (`make_data`), default averaging: macro. `f1_micro` equals the
# accuracy and `f1` is `f1_macro`: charted once each.
SKLEARN_TAGS = {"accuracy": "accuracy", "precision": "precision_macro",
                "recall": "recall_macro", "f1": "f1_macro",
                "f1_weighted": "f1_weighted", "roc_auc": "roc_auc",
                "average_precision": "average_precision"}

Data = collections.namedtuple("Data", "x y x_val y_val")
Trained = collections.namedtuple("Trained", "log_dir scalars images callbacks")


def sklearn_metrics_case(log_dir, data):
    callback = SklearnMetrics(
        validation_data=(data.x_val, data.y_val), log_dir=log_dir
    )

    def expected(history):
        epochs = callback.history["epoch"]
        scalars = {
            ("validation", "sklearn/" + tag): list(
                zip(epochs, callback.history["val_" + name]))
            for name, tag in SKLEARN_TAGS.items()
        }
        images = {
            ("validation", "sklearn/confusion_matrix"),
            ("validation", "sklearn/roc_curve"),
        }
        return scalars, images

    return callback, expected


def keras_tensorboard_case(log_dir, data):
    callback = keras.callbacks.TensorBoard(log_dir, write_graph=False)

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
        # Per step, global first, then the layers by depth (input side first).
        scalars = {("train", "gradient_norm_step/00_global"):
                   list(zip(steps, recorded["global_norm"].tolist()))}
        for depth, (layer, norms) in enumerate(recorded["layer_norm"].items(), 1):
            scalars[("train", f"gradient_norm_step/{depth:02d}_{layer}")] = list(
                zip([int(s) for s in recorded["layer_step"]], norms.tolist()))
        # Per epoch, what the logs hold.
        for key, tag in (("grad_norm", "global_mean"), ("grad_norm_max", "global_max")):
            scalars[("train", "gradient_norm_epoch/" + tag)] = list(
                enumerate(history.history[key]))
        return scalars, set()

    return callback, expected


def learning_rate_case(log_dir, data):
    callback = callbacks.LearningRateLogger(log_dir=log_dir)

    def expected(history):
        rates = history.history["learning_rate"]
        assert rates[0] > rates[-1]  # the schedule in `train` decays it
        return {("train", "learning_rate/epoch_start"): list(enumerate(rates))}, set()

    return callback, expected


def early_stopping_case(log_dir, data):
    # Listed before the callback whose key it watches: order must not matter.
    callback = callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=50,
                                       restore_best_weights=True)

    def expected(history):
        assert callback.best_epoch is not None and callback.stop_reason is None
        return {}, set()

    return callback, expected


def activation_stats_case(log_dir, data):
    callback = callbacks.ActivationStats(data.x_val, log_dir=log_dir,
                                         histograms=False)

    def expected(history):
        key = next(k for k in history.history if k.startswith("activation_mean/"))
        return {("train", key): list(enumerate(history.history[key]))}, set()

    return callback, expected


CASES = [early_stopping_case, gradient_norm_case, sklearn_metrics_case,
         learning_rate_case, activation_stats_case, keras_tensorboard_case]


def make_data(n=60, classes=3):
    # Unbalanced, overlapping classes: scores that differ from one another
    # (balanced classes make macro and weighted F1 equal) and across epochs.
    rng = np.random.default_rng(0)
    y = rng.choice(classes, size=2 * n, p=[0.55, 0.3, 0.15])
    x = (np.eye(classes, 4)[y] * 1.5 + rng.normal(size=(2 * n, 4))).astype(
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
    return Trained(log_dir, scalars, images, [callback for callback, _ in built])


def test_event_files_hold_every_callbacks_scalars_and_images(trained):
    log_dir, scalars, images, _ = trained
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
    tmp_path, scalars, images, _ = trained
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


def _all_series(log_dir):
    return {(run, tag): points for run in ("train", "validation")
            for tag, points in tb_utils.read_scalars(log_dir / run).items()}


def test_no_two_tags_carry_the_same_series(trained):
    # Keras's TensorBoard ran too: it charts Keras's own keys, not ours.
    series = _all_series(trained.log_dir)
    for (a, first), (b, second) in itertools.combinations(series.items(), 2):
        same = [s for s, _ in first] == [s for s, _ in second] and np.allclose(
            [v for _, v in first], [v for _, v in second], rtol=1e-7, atol=0)
        assert not same, f"{a} and {b} hold the same series {first}"
    tags = {tag for _, tag in series}
    for twice in ("epoch_grad_norm", "epoch_grad_norm_max", "epoch_learning_rate",
                  "epoch_f1", "epoch_f1_macro", "epoch_precision", "epoch_roc_auc"):
        assert twice not in tags
    assert not [t for t in tags if t.startswith("epoch_activation_")]
    assert "epoch_loss" in tags  # Keras's own keys stay Keras's


def test_keras_tensorboard_elsewhere_still_charts_every_key(tmp_path):
    # Only a TensorBoard writing where ours write leaves a key to ours.
    data = make_data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(data.x, data.y, epochs=1, verbose=0, callbacks=[
        callbacks.GradientNormMonitor(log_dir=tmp_path / "ours"),
        keras.callbacks.TensorBoard(tmp_path / "keras", write_graph=False)])
    assert "epoch_grad_norm" in tb_utils.read_scalars(tmp_path / "keras" / "train")
    ours = tb_utils.read_scalars(tmp_path / "ours" / "train")
    assert "gradient_norm_epoch/global_mean" in ours


def test_keras_tensorboard_listed_first_leaves_our_keys_too(tmp_path):
    data = make_data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    board = keras.callbacks.TensorBoard(tmp_path, write_graph=False)
    history = model.fit(data.x, data.y, epochs=2, verbose=0, callbacks=[
        board, callbacks.GradientNormMonitor(log_dir=tmp_path),
        callbacks.LearningRateLogger(log_dir=tmp_path)])
    train = tb_utils.read_scalars(tmp_path / "train")
    assert "epoch_grad_norm" not in train and "epoch_learning_rate" not in train
    assert [v for _, v in train["learning_rate/epoch_start"]] == pytest.approx(
        history.history["learning_rate"])
    assert len(train["epoch_loss"]) == 2
    # Alone in the next fit, the same TensorBoard charts the rate again.
    model.fit(data.x, data.y, epochs=1, verbose=0, callbacks=[board])
    assert "epoch_learning_rate" in tb_utils.read_scalars(tmp_path / "train")


def _served_tags(url, wanted):
    return tb_utils.wait_for_json(url, "/data/plugin/scalars/tags", has_tags(wanted))


def test_tags_are_ordered_and_described(trained, free_port):
    layers = list(trained.callbacks[1].history["layer_norm"])
    with tb_utils.tensorboard_server(trained.log_dir, free_port) as url:
        served = _served_tags(url, trained.scalars)
    train, validation = served["train"], served["validation"]

    steps = sorted(t for t in train if t.startswith("gradient_norm_step/"))
    assert steps == ["gradient_norm_step/00_global"] + [
        f"gradient_norm_step/{i:02d}_{name}" for i, name in enumerate(layers, 1)]
    assert sorted(t for t in train if t.startswith("gradient_norm_epoch/")) == [
        "gradient_norm_epoch/global_max", "gradient_norm_epoch/global_mean"]
    assert "training step" in train["gradient_norm_step/00_global"]["description"]
    assert layers[0] in train[steps[1]]["description"]
    assert "grad_norm" in train["gradient_norm_epoch/global_mean"]["description"]

    rates = [t for t in train if "learning_rate" in t]
    assert rates == ["learning_rate/epoch_start"]  # one learning-rate chart
    assert "start of the epoch" in train[rates[0]]["description"]

    charted = sorted(t for t in validation if t.startswith("sklearn/"))
    assert charted == sorted("sklearn/" + t for t in SKLEARN_TAGS.values())
    for tag in ("precision_macro", "recall_macro", "f1_macro", "f1_weighted"):
        average = tag.rpartition("_")[2]
        assert f"average={average}" in re.sub(
            "&#x27;|&#39;|'", "", validation["sklearn/" + tag]["description"])
    assert "val_f1" in validation["sklearn/f1_macro"]["description"]
    assert "micro" in validation["sklearn/accuracy"]["description"]


def test_gradient_overlay_layout_and_graphs_are_served(trained, free_port):
    with tb_utils.tensorboard_server(trained.log_dir, free_port) as url:
        served = _served_tags(url, trained.scalars)
        layout = tb_utils.wait_for_json(
            url, "/data/plugin/custom_scalars/layout", lambda body: body)
        graphs = tb_utils.get_json(url, "/data/plugin/graphs/info")
        for run, info in graphs.items():  # a graph, if any, must load
            if info.get("run_graph"):
                tb_utils.get_json(url, "/data/plugin/graphs/graph", run=run)
    [category] = [c for c in layout["category"] if c["title"] == "Gradient norms"]
    patterns = [chart["multiline"]["tag"] for chart in category["chart"]]
    assert [["gradient_norm_step/.*"], ["gradient_norm_epoch/.*"]] == patterns
    step_tags = [t for t in served["train"] if re.fullmatch(patterns[0][0], t)]
    assert len(step_tags) == 1 + len(trained.callbacks[1].history["layer_norm"])
    # Keras's TensorBoard as the recipes use it writes no graph.
    assert not [run for run, info in graphs.items() if info.get("run_graph")]


def test_image_steps_are_scored_epochs_named_in_titles(trained):
    scorer = trained.callbacks[2]
    images = tb_utils.read_image_tags(trained.log_dir / "validation")
    steps = images["sklearn/confusion_matrix"]
    assert steps and set(steps) <= set(scorer.history["epoch"])
    # The step TensorBoard shows on the card is the one in the figure title.
    for step in steps:
        assert f"step {step} " in image_title("Confusion matrix", step)


def test_recipes_and_readme_write_no_graph():
    # Keras 3's TensorBoard(write_graph=True) writes a graph TensorBoard's
    # Graphs dashboard fails on ("Malformed GraphDef").
    for path in sorted((ROOT / "recipes").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "TensorBoard":
                graph = [k.value for k in node.keywords if k.arg == "write_graph"]
                assert graph and graph[0].value is False, (path.name, node.lineno)
    readme = (ROOT / "README.md").read_text()
    calls = re.findall(r"keras\.callbacks\.TensorBoard\(([^)]*)\)", readme)
    assert calls and all("write_graph=False" in c for c in calls)
