"""The study recipes (optimizers, lr_schedules, gradients, batch_size,
regularization), each run end to end with ``--quick`` in its own process.

All five start together in one module fixture (mostly TensorFlow start-up,
which overlaps); each test then checks the content of one run's outputs:
the results table, the plots, the TensorBoard runs, and what the study is
about (gradient norms, clipping, learning rates, the chosen variant).
"""

import csv
import json
import math
import re

import matplotlib.image
import numpy as np
import pytest

from recipes.common import RunDirs
from recipes.compare import Study, subset
from recipe_runs import listed_recipes, result_rows, run_quick
from tb_utils import read_scalars
from zoo.data import load_dataset


VARIANTS = {
    "optimizers": ["sgd", "full_batch_gd", "momentum", "nag", "adagrad", "rmsprop",
                   "adadelta", "adam", "lbfgs"],
    "lr_schedules": ["constant", "step", "exponential", "polynomial", "cosine_warmup",
                     "cyclic", "one_cycle", "plateau", "lr_finder"],
    "gradients": ["sigmoid", "tanh", "relu_he", "init_too_small", "init_too_large",
                  "sigmoid_batch_norm", "sigmoid_residual", "exploding", "exploding_clipped",
                  "exploding_clipvalue"],
    "batch_size": ["online", "mini_batch", "full_batch"],
    "regularization": ["none", "l1", "l2", "dropout", "early_stopping"],
    "augmentation": ["none", "augmented"],
}
PLOTS = {
    "optimizers": ["optimizers.png", "test/confusion_matrix.png"],
    "lr_schedules": ["lr_schedules.png", "lr_finder.png"],
    "gradients": ["first_vs_last_layer.png", "curves.png"]
    + [f"gradients_{v}.png" for v in VARIANTS["gradients"]],
    "batch_size": ["batch_size_epochs.png", "batch_size_time.png"],
    "regularization": ["train_vs_val_loss.png", "train_vs_val_accuracy.png", "validation.png"],
    "augmentation": ["train_vs_val_accuracy.png", "validation.png"],
}
# Variants that are meant to blow up; every number of the others must be finite.
DIVERGING = {("gradients", "exploding"), ("gradients", "init_too_large")}
ALWAYS_NUMBERS = ("final_loss", "val_loss", "val_accuracy", "seconds", "seconds_per_epoch")
WITH_TEST_REPORT = ["optimizers", "lr_schedules", "batch_size", "regularization",
                    "augmentation"]



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``{name: (run folder, output)}`` for every study recipe run with --quick."""
    return run_quick(tmp_path_factory.mktemp("studies"), VARIANTS)


def _table(runs, name):
    return result_rows(runs[name][0])


def test_list_shows_the_studies_not_the_helper():
    lines = listed_recipes()
    assert "compare" not in lines
    words = {"optimizers": "Adadelta", "lr_schedules": "LR finder", "gradients": "clipping",
             "batch_size": "full-batch", "regularization": "dropout",
             "augmentation": "rotations"}
    for name, word in words.items():
        assert word in lines[name], lines.get(name)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_results_table_has_one_finite_row_per_variant(runs, name):
    rows = _table(runs, name)
    assert list(rows) == VARIANTS[name]
    for variant, row in rows.items():
        assert row["epochs"] >= 1
        if (name, variant) in DIVERGING:
            continue
        for key in ALWAYS_NUMBERS:
            assert math.isfinite(row[key]), (variant, key, row[key])
        assert 0.0 <= row["val_accuracy"] <= 1.0
    # The CSV and Markdown tables hold the same variants.
    with open(runs[name][0] / "report" / "results.csv", newline="") as f:
        assert [r["variant"] for r in csv.DictReader(f)] == VARIANTS[name]
    markdown = (runs[name][0] / "report" / "results.md").read_text()
    assert all(f"| {v} |" in markdown for v in VARIANTS[name])
    assert all(line in runs[name][1] for line in markdown.splitlines())  # printed too


@pytest.mark.parametrize("name", list(VARIANTS))
def test_plots_are_non_blank_pngs(runs, name):
    for png in PLOTS[name]:
        image = matplotlib.image.imread(runs[name][0] / "report" / png)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300, png
        assert image[..., :3].std() > 0.02, f"{png} is blank"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_variant_has_its_own_tensorboard_run(runs, name):
    epochs = 2  # --quick
    for variant in VARIANTS[name]:
        train = read_scalars(runs[name][0] / "tensorboard" / variant / "train")
        validation = read_scalars(runs[name][0] / "tensorboard" / variant / "validation")
        if (name, variant) not in DIVERGING:
            assert [step for step, _ in train["epoch_loss"]] == list(range(epochs))
            assert [step for step, _ in validation["epoch_loss"]] == list(range(epochs))
        # One rate chart: the logger's where a study has one (lr_schedules),
        # else Keras's (the rate after each epoch, 0 at a cosine's end).
        rates = train.get("learning_rate/epoch_start", train.get("epoch_learning_rate"))
        assert rates and all(v >= 0 for _, v in rates)
        if name == "gradients":
            assert train["gradient_norm_step/00_global"]


def test_gradients_sigmoid_vanishes_and_fixes_restore_the_first_layer(runs):
    rows = _table(runs, "gradients")
    sigmoid = rows["sigmoid"]["first_layer_median"]
    # Twelve sigmoids scale the gradient by <= 0.25 each: orders of magnitude.
    for fix in ("relu_he", "sigmoid_batch_norm", "sigmoid_residual"):
        assert rows[fix]["first_layer_median"] > 1000 * sigmoid, fix
    # The output layer is healthy in all of them: the loss is not the problem.
    assert rows["sigmoid"]["last_layer_median"] > 0.01
    # Printed per variant: first and last layer min / median / max.
    output = runs["gradients"][1]
    assert re.search(r"first layer dense\s+min [\d.e+-]+\s+median [\d.e+-]+\s+max", output)
    assert re.search(r"last layer head_multiclass\s+min", output)


def test_gradients_init_scale_vanishes_when_too_small_and_explodes_when_too_large(runs):
    rows = _table(runs, "gradients")
    he = rows["relu_he"]["first_layer_median"]
    assert rows["init_too_small"]["first_layer_median"] < 1e-3 * he
    large = rows["init_too_large"]
    assert large["exploding_reports"] >= 1
    assert large["grad_norm_max"] is None or large["grad_norm_max"] > 1e3


def test_gradients_clipping_tames_the_exploding_setup(runs):
    rows = _table(runs, "gradients")
    exploding, clipped = rows["exploding"], rows["exploding_clipped"]
    assert exploding["exploding_reports"] >= 1
    assert exploding["grad_norm_max"] is None or exploding["grad_norm_max"] > 1e3
    assert "Exploding gradients" in runs["gradients"][1]
    # With global_clipnorm=1 plain SGD moves the weights by at most lr * 1.
    assert clipped["clipnorm"] == 1.0
    assert clipped["exploding_reports"] == 0
    assert 0 < clipped["largest_update"] <= clipped["learning_rate"] * 1.001
    assert exploding["largest_update"] is None or exploding["largest_update"] > 10 * 0.3
    assert all(math.isfinite(clipped[k]) for k in ("final_loss", "val_loss", "grad_norm_max"))


def test_gradients_tanh_passes_more_gradient_and_converges_faster_than_sigmoid(runs):
    rows = _table(runs, "gradients")
    sigmoid, tanh = rows["sigmoid"], rows["tanh"]
    # Slope up to 1 instead of 0.25: twelve tanh layers keep the gradient alive.
    assert tanh["first_layer_median"] > 1e4 * sigmoid["first_layer_median"]
    assert tanh["vanishing_reports"] == 0
    # Same start, rate and batches: tanh's training loss falls further.
    assert tanh["final_loss"] < sigmoid["final_loss"]


def test_gradients_clipvalue_bounds_every_entry_of_the_step(runs):
    row = _table(runs, "gradients")["exploding_clipvalue"]
    assert row["clipvalue"] == 0.01 and row["clipnorm"] is None
    assert row["exploding_reports"] == 0 and math.isfinite(row["final_loss"])
    # Each of the 14,026 weights moves by at most lr * clipvalue per step.
    weights = 64 * 32 + 32 + 11 * (32 * 32 + 32) + 32 * 10 + 10
    assert 0 < row["largest_update"] <= row["learning_rate"] * 0.01 * math.sqrt(weights) * 1.001


def test_gradients_activation_stats_find_the_relus_the_explosion_killed(runs):
    rows = _table(runs, "gradients")
    # The step that blew up drove every hidden ReLU below 0 on every sample.
    assert rows["exploding"]["dead_layers"] == 12 and rows["exploding"]["max_dead_fraction"] == 1
    assert rows["exploding_clipped"]["dead_layers"] < 12
    assert rows["sigmoid"]["dead_layers"] == 0 and rows["sigmoid"]["max_dead_fraction"] == 0
    assert re.search(r"activations: activation dead, activation_1 dead", runs["gradients"][1])
    train = read_scalars(runs["gradients"][0] / "tensorboard" / "exploding" / "train")
    assert train["dead_fraction/activation"][-1][1] == 1.0
    assert "saturated_fraction/activation" in read_scalars(
        runs["gradients"][0] / "tensorboard" / "sigmoid" / "train")


def test_lr_schedules_follow_their_rates(runs):
    run_dir, output = runs["lr_schedules"]
    rows = _table(runs, "lr_schedules")

    def rates(variant):
        train = read_scalars(run_dir / "tensorboard" / variant / "train")
        return [v for _, v in train["learning_rate/epoch_start"]]

    assert rates("constant") == pytest.approx([0.02, 0.02])
    assert rates("step") == pytest.approx([0.02, 0.01])  # halved after a third (1 epoch)
    assert rates("exponential") == pytest.approx([0.02, 0.018])  # x0.9 per epoch
    # Polynomial, power 2, to 0.0002 over 8 steps: after 4 (one epoch), a quarter of the way.
    assert rates("polynomial") == pytest.approx([0.02, 0.0198 * 0.25 + 0.0002])
    assert rates("cosine_warmup")[0] < rates("cosine_warmup")[1]  # warming up
    suggested = float(re.search(r"suggested rate ([\d.e+-]+)", output).group(1))
    assert rows["lr_finder"]["final_learning_rate"] == pytest.approx(suggested, rel=1e-2)


def test_optimizers_use_their_own_rates_and_full_batch(runs):
    rows = _table(runs, "optimizers")
    assert rows["full_batch_gd"]["batch_size"] == 128  # the whole --quick training slice
    assert rows["adadelta"]["learning_rate"] == 1.0
    assert rows["adam"]["learning_rate"] == pytest.approx(1e-3)


def test_optimizers_add_lbfgs_labelled_second_order(runs):
    rows = _table(runs, "optimizers")
    assert {rows[v]["order"] for v in VARIANTS["optimizers"][:-1]} == {"first"}
    lbfgs = rows["lbfgs"]
    assert lbfgs["order"] == "second (quasi-Newton)" and lbfgs.get("learning_rate") is None
    assert lbfgs["batch_size"] == 128 and lbfgs["evaluations"] >= lbfgs["epochs"] == 2
    # From the same start, two L-BFGS iterations descend further than two
    # full-batch gradient steps.
    assert lbfgs["final_loss"] < rows["full_batch_gd"]["final_loss"]


def test_batch_size_counts_steps_and_times_them(runs):
    rows = _table(runs, "batch_size")
    assert [rows[v]["steps_per_epoch"] for v in VARIANTS["batch_size"]] == [64, 2, 1]
    assert all(rows[v]["ms_per_step"] > 0 for v in rows)


def test_regularization_gap_is_train_minus_validation(runs):
    for row in _table(runs, "regularization").values():
        assert row["accuracy_gap"] == pytest.approx(row["train_accuracy"] - row["val_accuracy"])


def test_augmentation_table_has_the_gap_and_the_test_score(runs):
    run_dir, output = runs["augmentation"]
    rows = _table(runs, "augmentation")
    for row in rows.values():
        assert row["accuracy_gap"] == pytest.approx(row["train_accuracy"] - row["val_accuracy"])
        assert 0.0 <= row["test_accuracy"] <= 1.0
    # The chosen variant's test score is the one of its test report.
    chosen = re.search(r"Best on validation: (\S+)", output).group(1)
    report = json.loads((run_dir / "report" / "test" / "report.json").read_text())
    assert rows[chosen]["test_accuracy"] == pytest.approx(report["accuracy"])


@pytest.mark.parametrize("name", WITH_TEST_REPORT)
def test_variant_chosen_on_validation_is_scored_once_on_test(runs, name):
    run_dir, output = runs[name]
    rows = _table(runs, name)
    chosen = re.search(r"Best on validation: (\S+)", output).group(1)
    best = max(r["val_accuracy"] for r in rows.values() if r["val_accuracy"] is not None)
    assert rows[chosen]["val_accuracy"] == best
    report = json.loads((run_dir / "report" / "test" / "report.json").read_text())
    assert report["num_samples"] == 64 and 0.0 <= report["accuracy"] <= 1.0


def test_study_rejects_bad_variants_before_building(tmp_path):
    dirs = RunDirs(tmp_path, tmp_path / "tb", tmp_path, tmp_path / "backup", tmp_path / "m")
    study = Study(dirs)
    with pytest.raises(ValueError, match="Variant name"):
        study.start("no spaces/slashes")
    with pytest.raises(ValueError, match="mode"):
        Study(dirs, mode="biggest")
    with pytest.raises(ValueError, match="x must be"):
        study.plot(tmp_path / "p.png", x="steps")


def test_study_starts_variants_alike_and_records_what_the_recipe_trained(tmp_path):
    import keras

    from recipes.compare import EpochTimer

    dirs = RunDirs(tmp_path, tmp_path / "tb", tmp_path, tmp_path / "backup", tmp_path / "m")
    study = Study(dirs, monitor="val_loss", mode="min", seed=3)
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.arange(16) % 2
    initial = {}
    for name in ("a", "b"):
        study.start(name)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        initial[name] = model.get_weights()
        timer = EpochTimer()
        fit = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[timer])
        run = study.record(name, model, fit.history, timer, validation_data=(x, y))
        assert run.history["val_loss"] == pytest.approx(fit.history["val_loss"])
        assert len(run.epoch_seconds) == 2 and run.seconds > 0
        assert run.scores["val_loss"] == pytest.approx(model.evaluate(x, y, verbose=0))
    # Reseeded before each build: the same initial weights.
    for first, second in zip(initial["a"], initial["b"]):
        np.testing.assert_array_equal(first, second)
    assert [row["variant"] for row in study.rows()] == ["a", "b"]
    with pytest.raises(ValueError, match="already trained"):
        study.start("a")


def test_out_dir_is_a_deprecated_alias_of_log_dir(tmp_path):
    study = Study(RunDirs(tmp_path, tmp_path / "tb", tmp_path, tmp_path / "backup",
                          tmp_path / "m"))
    with pytest.warns(DeprecationWarning, match=r"Study.save\(out_dir=...\).*use `log_dir`"):
        study.save(out_dir=tmp_path, name="old")
    assert json.loads((tmp_path / "old.json").read_text()) == []


def test_subset_cuts_every_split_and_keeps_metadata():
    data = subset(load_dataset("digits", seed=0), train=10, val=5)
    assert data.sizes() == {"train": 10, "val": 5, "test": 270}
    assert data.num_classes == 10 and data.input_shape == (8, 8, 1)
