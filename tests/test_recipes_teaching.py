"""The recipes for what the teaching texts teach (center_loss, losses,
ensemble), each run end to end with ``--quick``, their outputs checked by
content."""

import json
import math

import matplotlib.image
import pytest

from recipe_runs import listed_recipes, result_rows, run_quick

NAMES = ["center_loss", "losses", "ensemble"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``{name: (run folder, output)}`` for every recipe run with --quick."""
    return run_quick(tmp_path_factory.mktemp("teaching"), NAMES)


def _rows(runs, name):
    return result_rows(runs[name][0])


def _check_png(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300, path
    assert image[..., :3].std() > 0.02, f"{path} is blank"


def test_listed_with_one_line_each():
    lines = listed_recipes()
    words = {"center_loss": "class centres", "losses": "cross-entropy",
             "ensemble": "five seeds"}
    for name, word in words.items():
        assert word in lines[name], lines.get(name)


def test_center_loss_compacts_the_classes_and_reports_the_test_accuracy(runs):
    run_dir, output = runs["center_loss"]
    rows = _rows(runs, "center_loss")
    assert list(rows) == ["softmax", "center_loss"]
    assert [rows[v]["weight"] for v in rows] == [0.0, 0.1]
    for row in rows.values():
        assert 0.0 <= row["test_accuracy"] <= 1.0
        assert row["spread_ratio"] == pytest.approx(
            row["intra_class_spread"] / row["between_class_spread"])
    assert rows["center_loss"]["intra_class_spread"] < rows["softmax"]["intra_class_spread"]
    _check_png(run_dir / "report" / "center_loss_features.png")
    _check_png(run_dir / "report" / "curves.png")
    markdown = (run_dir / "report" / "results.md").read_text()
    assert "intra_class_spread" in markdown and "test_accuracy" in markdown
    assert all(line in output for line in markdown.splitlines())  # printed too
    assert (run_dir / "tensorboard" / "center_loss" / "train").is_dir()


def test_losses_mse_gradient_vanishes_from_the_saturated_start(runs):
    run_dir, output = runs["losses"]
    rows = _rows(runs, "losses")
    assert list(rows) == ["mse", "cross_entropy", "mse_saturated", "cross_entropy_saturated"]
    assert [rows[v]["loss_function"] for v in rows] == ["mse", "categorical_crossentropy"] * 2
    first = {v: rows[v]["output_grad_norm_first_step"] for v in rows}
    assert all(math.isfinite(g) and g > 0 for g in first.values())
    assert first["cross_entropy_saturated"] > 100 * first["mse_saturated"]
    # Saturating the softmax shrinks MSE's gradient; cross-entropy's does not shrink.
    assert first["mse_saturated"] < 0.1 * first["mse"]
    assert first["cross_entropy_saturated"] > first["cross_entropy"]
    _check_png(run_dir / "report" / "losses.png")
    assert "| mse_saturated |" in output


def test_ensemble_reports_five_seeds_and_their_average(runs):
    run_dir, output = runs["ensemble"]
    rows = _rows(runs, "ensemble")
    assert list(rows) == [f"seed_{s}" for s in range(5)]
    summary = json.loads((run_dir / "report" / "ensemble.json").read_text())
    assert summary["models"] == 5
    accuracies = [row["test_accuracy"] for row in rows.values()]
    assert summary["test_accuracy"]["single_mean"] == pytest.approx(sum(accuracies) / 5)
    assert 0.0 <= summary["test_accuracy"]["ensemble"] <= 1.0
    # Log loss is convex: the mean of the probabilities never scores worse
    # than the mean of the members' scores.
    log_loss = summary["test_log_loss"]
    assert log_loss["ensemble"] <= log_loss["single_mean"] + 1e-9
    report = json.loads((run_dir / "report" / "ensemble" / "report.json").read_text())
    assert report["accuracy"] == pytest.approx(summary["test_accuracy"]["ensemble"])
    assert report["num_samples"] == 128
    assert "ensemble of 5" in output and "test log loss" in output
