"""The model recipes, each run end to end (``--quick``) in its own process.

All quick runs start together in one module fixture (they are mostly
TensorFlow start-up, which overlaps well); each test then checks one thing
about one run's outputs: the report, the plots, the TensorBoard logs, the
saved model.
"""

import json
import math

import keras
import matplotlib.image
import numpy as np
import pytest

import zoo  # noqa: F401  (registers the zoo's layers for loading)
from recipe_runs import listed_recipes, run_quick
from tb_utils import read_image_tags, read_scalars
from zoo.data import load_dataset


# Each recipe's --quick data, rebuilt here to score its saved model again.
QUICK_DATA = {
    "digits_cnn": lambda: load_dataset("digits", seed=0),
    "mnist1d_rnn": lambda: load_dataset("mnist1d", seed=0, mnist1d_args={"num_samples": 400}),
    "mnist1d_transformer": lambda: load_dataset(
        "mnist1d", seed=0, mnist1d_args={"num_samples": 400}),
    "tokens_transformer": lambda: load_dataset("tokens", seed=0, num_samples=300),
    "diabetes_regression": lambda: load_dataset("diabetes", seed=0),
}
CLASSIFIERS = ["digits_cnn", "mnist1d_rnn", "mnist1d_transformer", "tokens_transformer"]
ALL = CLASSIFIERS + ["diabetes_regression"]



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``{name: (run folder, output)}`` for every recipe run with --quick."""
    # One recipe runs as a plain script, the others through the CLI.
    return run_quick(tmp_path_factory.mktemp("recipes"), ALL,
                     as_script=("diabetes_regression",))


def _report(run_dir):
    return json.loads((run_dir / "report" / "report.json").read_text())


def test_logdir_is_the_old_name_of_log_dir():
    from recipes.common import parse_args

    for option in ("--log-dir", "--logdir"):
        assert parse_args("recipe", epochs=3, argv=[option, "runs/x"]).log_dir == "runs/x"


def test_list_shows_model_recipes_with_descriptions():
    lines = listed_recipes()
    expected = {"digits_cnn": "CNN", "mnist1d_rnn": "GRU", "mnist1d_transformer": "Transformer",
                "tokens_transformer": "Transformer", "diabetes_regression": "R2"}
    for name, word in expected.items():
        assert name in lines, sorted(lines)
        assert word in lines[name], lines[name]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_report_is_consistent(runs, name):
    run_dir, output = runs[name]
    report = _report(run_dir)
    data = QUICK_DATA[name]()
    assert report["task"] == "multiclass"
    assert report["num_samples"] == len(data.y_test)  # the whole test split, once
    for key in ("accuracy", "f1_macro", "precision_macro", "recall_macro"):
        assert 0.0 <= report[key] <= 1.0, (key, report[key])
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (data.num_classes, data.num_classes)
    assert matrix.sum() == len(data.y_test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(report["accuracy"])
    text = (run_dir / "report" / "report.txt").read_text()
    assert f"{report['accuracy']:.4f}" in text and "macro avg" in text
    assert f"{report['accuracy']:.4f}" in output  # the recipe prints the report


def test_regression_report_is_consistent(runs):
    run_dir, output = runs["diabetes_regression"]
    report = _report(run_dir)
    data = QUICK_DATA["diabetes_regression"]()
    assert report["task"] == "regression"
    assert report["num_samples"] == len(data.y_test)
    assert report["mse"] > 0 and report["mae"] > 0 and report["r2"] <= 1.0
    assert report["rmse"] == pytest.approx(math.sqrt(report["mse"]))
    assert report["mae"] <= report["rmse"]
    # Errors are in the target's units (25..346), not standardized ones.
    assert 10 < report["mae"] < 300
    text = (run_dir / "report" / "report.txt").read_text()
    for key in ("mse", "mae", "rmse", "r2"):
        assert f"{report[key]:.4f}" in text and key in text
    assert f"{report['r2']:.4f}" in output


@pytest.mark.parametrize("name", ALL)
def test_plots_are_non_blank_images(runs, name):
    run_dir, _ = runs[name]
    expected = ["training_curves.png"] + (
        ["predictions.png"] if name == "diabetes_regression"
        else ["confusion_matrix.png", "roc_curve.png"])
    for file in expected:
        image = matplotlib.image.imread(run_dir / "report" / file)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, (file, image.shape)
        assert image[..., :3].std() > 0.01, f"{file} is blank"


@pytest.mark.parametrize("name", ALL)
def test_tensorboard_has_training_and_validation_curves(runs, name):
    run_dir, _ = runs[name]
    epochs = _report(run_dir)["training"]["epochs"]
    train = read_scalars(run_dir / "tensorboard" / "train")
    val = read_scalars(run_dir / "tensorboard" / "validation")
    assert len(train["epoch_loss"]) == epochs
    # The logger charts the rate at each epoch's start; Keras's TensorBoard
    # leaves out its own (one rate chart).
    rates = train["learning_rate/epoch_start"]
    assert len(rates) == epochs and all(v >= 0 for _, v in rates)
    assert "epoch_learning_rate" not in train
    norms = train["gradient_norm_step/00_global"]
    assert norms and all(math.isfinite(v) and v > 0 for _, v in norms)
    assert len(val["epoch_loss"]) == epochs
    score = "sklearn/r2" if name == "diabetes_regression" else "sklearn/f1_macro"
    assert [s for s, _ in val[score]] == list(range(epochs))
    if name != "diabetes_regression":
        images = read_image_tags(run_dir / "tensorboard" / "validation")
        f1 = [v for _, v in val[score]]  # images: the best epoch only
        assert images["sklearn/confusion_matrix"] == [f1.index(max(f1))]


@pytest.mark.parametrize("name", ALL)
def test_saved_model_reloads_safely_and_reproduces_report(runs, name):
    run_dir, _ = runs[name]
    report = _report(run_dir)
    data = QUICK_DATA[name]()
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    pred = model.predict(data.x_test, verbose=0)
    assert np.isfinite(pred).all()
    if name == "diabetes_regression":
        mse = float(np.mean((pred[:, 0] - data.y_test) ** 2))
        assert mse == pytest.approx(report["mse"], rel=1e-4)
    else:
        assert pred.shape == (len(data.y_test), data.num_classes)
        accuracy = float(np.mean(pred.argmax(axis=1) == data.y_test))
        assert accuracy == pytest.approx(report["accuracy"])
