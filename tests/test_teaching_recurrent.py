"""Recurrent memory: the long-range memory task (`make_memory_task`, the
`memory` data set) and the `rnn_memory` recipe run with `--quick`, its
outputs checked by content."""

import json
import math
import pathlib

import matplotlib.image
import numpy as np
import pytest

from recipe_runs import listed_recipes, run_quick
from tb_utils import read_scalars
from zoo.data import first_marker, load_dataset, make_memory_task

CELLS = ["simple_rnn", "lstm", "gru"]
BANDS = ["acc_len_5_49", "acc_len_50_99", "acc_len_100_149", "acc_len_150_200"]


def test_memory_task_label_is_the_first_token_and_the_rest_is_filler():
    x, y = make_memory_task(num_samples=600, num_classes=3, vocab_size=9, min_len=50,
                            max_len=200, seed=0)
    assert x.shape == (600, 200) and x.dtype == np.int32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], y + 1)
    np.testing.assert_array_equal(first_marker(x, num_classes=3), y)
    lengths = (x != 0).sum(axis=1)
    assert lengths.min() >= 50 and lengths.max() <= 200 and len(np.unique(lengths)) > 50
    for row, n in zip(x, lengths):
        assert (row[1:n] >= 4).all() and (row[1:n] < 9).all()  # filler only after the marker
        assert (row[n:] == 0).all()  # padding at the end only
    assert np.bincount(y).min() > 150  # balanced classes
    # Only the first token tells: every class has the same filler frequencies.
    counts = np.stack([np.bincount(r[1:], minlength=9)[4:] for r in x])
    shares = np.stack([counts[y == c].sum(axis=0) / counts[y == c].sum() for c in range(3)])
    np.testing.assert_allclose(shares, 0.2, atol=0.01)


def test_memory_task_is_seeded():
    # Its argument checks are tested with make_order_task's, in test_data.py.
    a, _ = make_memory_task(50, seed=3)
    np.testing.assert_array_equal(a, make_memory_task(50, seed=3)[0])
    assert not np.array_equal(a, make_memory_task(50, seed=4)[0])
    fixed, _ = make_memory_task(20, min_len=30, max_len=30)
    assert (fixed != 0).all()


def test_memory_dataset_metadata():
    data = load_dataset("memory", seed=0, num_samples=300, max_len=80)
    assert (data.task, data.num_classes, data.vocab_size, data.max_len) == \
        ("multiclass", 4, 10, 80)
    assert data.input_kind == "tokens" and data.x_train.shape[1] == 80
    np.testing.assert_array_equal(first_marker(data.x_test), data.y_test)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``(run folder, output)`` of ``rnn_memory --quick``."""
    return run_quick(tmp_path_factory.mktemp("recurrent"), ["rnn_memory"])["rnn_memory"]


def _rows(run):
    rows = json.loads((run[0] / "report" / "results.json").read_text())
    return {row["variant"]: row for row in rows}


def test_rnn_memory_is_listed_and_in_the_readme_table():
    assert "LSTM" in listed_recipes()["rnn_memory"]
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "\n| `rnn_memory` | " in readme


def test_rnn_memory_table_has_accuracy_by_length_and_gradient_norms(run):
    rows = _rows(run)
    assert list(rows) == CELLS
    for cell, row in rows.items():
        # EarlyStopping(stopping_threshold=0.99) ends a run only at 99%.
        assert row["stopped_by"] in (None, "threshold")
        assert row["epochs"] == 2 or row["best_val_accuracy"] >= 0.99
        assert 0.0 <= row["test_accuracy"] <= 1.0
        bands = [row[band] for band in BANDS]
        assert all(b is None or 0.0 <= b <= 1.0 for b in bands), (cell, bands)
        assert sum(b is not None for b in bands) >= 3  # 60 test sequences over 5..200
        # Per-layer norms from GradientNormMonitor's summary: positive, finite.
        for key in ("grad_rnn_median", "grad_head_median", "grad_step200"):
            assert math.isfinite(row[key]) and row[key] > 0, (cell, key)
    markdown = (run[0] / "report" / "results.md").read_text()
    assert all(f"| {cell} |" in markdown for cell in CELLS)
    assert all(line in run[1] for line in markdown.splitlines())  # printed too


def test_simple_rnn_gradient_vanishes_through_time(run):
    curves = json.loads((run[0] / "report" / "gradient_through_time.json").read_text())
    assert list(curves) == CELLS
    rows = _rows(run)
    for cell in CELLS:
        init, trained = np.array(curves[cell]["init"]), np.array(curves[cell]["trained"])
        assert init.shape == trained.shape == (200,)
        assert rows[cell]["grad_step1"] == pytest.approx(trained[0])
        assert rows[cell]["grad_step200"] == pytest.approx(trained[-1])
    # Before training, what reaches the marker (step 1) of a SimpleRNN is
    # orders of magnitude below what reaches the last step, and it shrinks
    # steadily with the distance to the answer.
    simple = np.array(curves["simple_rnn"]["init"])
    assert simple[0] < 1e-4 * simple[-1]
    assert simple[49] < simple[149] < simple[-1]
    kept = rows["simple_rnn"]["kept_100_steps_init"]
    assert kept == pytest.approx(simple[9] / simple[109]) and kept < 1e-3


def test_rnn_memory_plots_and_tensorboard(run):
    for png in ("gradient_through_time.png", "curves.png"):
        image = matplotlib.image.imread(run[0] / "report" / png)
        assert image.shape[0] > 200 and image.shape[1] > 300, png
        assert image[..., :3].std() > 0.02, f"{png} is blank"
    for cell in CELLS:
        scalars = read_scalars(run[0] / "tensorboard" / cell / "train")
        assert scalars["gradient_norm_step/00_global"], cell
        assert [step for step, _ in scalars["epoch_loss"]] == [0, 1]
