"""zoo.tuning: real (tiny) keras-tuner searches, their files, resume and CLI."""

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import time

import keras
import keras_tuner as kt
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

import callbacks
from tests import tb_utils
from tests.tb_utils import read_scalars
from zoo.data import load_dataset
from zoo.tuning import (
    MedianStopping,
    Project,
    ProjectInUseError,
    ZooHyperModel,
    default_space,
    make_tuner,
    resolve_objective,
    run_search,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"width": [8], "depth": [1], "batch_size": [32]}


@pytest.fixture(scope="module")
def data():
    d = load_dataset("breast_cancer")
    return d.x_train[:160], d.y_train[:160], (d.x_val[:80], d.y_val[:80])


def hypermodel(space=None, fixed=None, defaults=False):
    return ZooHyperModel("mlp.baseline", (30,), 2, "binary", space=dict(TINY, **(space or {})),
                         fixed=fixed, defaults=defaults)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def search(data, tmp_path, strategy="random", objective="val_loss", max_trials=2, epochs=1,
           name="p", **kwargs):
    x, y, val = data
    kwargs.setdefault("seed", 1)
    kwargs.setdefault("progress", False)
    hm = kwargs.pop("hm", None) or hypermodel({"learning_rate": [0.01, 0.05]})
    return run_search(hm, strategy, objective, max_trials, tmp_path, name, x, y, val, epochs,
                      **kwargs)


@pytest.fixture(scope="module")
def f1_search(data, tmp_path_factory):
    """A 3-trial random search on val_f1 (SklearnMetrics), shared by the result tests."""
    keras.utils.set_random_seed(0)
    hm = hypermodel({"learning_rate": (1e-3, 1e-1, "log"), "optimizer": ["adam", "rmsprop"],
                     "depth": (1, 2)})
    return search(data, tmp_path_factory.mktemp("f1"), objective="val_f1", max_trials=3,
                  epochs=2, hm=hm, callbacks=[callbacks.SklearnMetrics(data[2])])


# ---- strategies and objectives ---------------------------------------------------------


@pytest.mark.parametrize("strategy", ["grid", "random", "bayesian", "hyperband"])
def test_each_strategy_runs_its_trial_budget(data, tmp_path, strategy):
    result = search(data, tmp_path, strategy, epochs=2 if strategy == "hyperband" else 1)
    assert type(result.tuner).__name__ == {
        "grid": "GridSearch", "random": "RandomSearch", "bayesian": "BayesianOptimization",
        "hyperband": "Hyperband"}[strategy]
    rows = read_csv(result.paths["csv"])
    assert len(rows) == 2 and {r["status"] for r in rows} == {"COMPLETED"}
    if strategy == "grid":  # the grid is exactly the two learning rates
        assert sorted(float(r["learning_rate"]) for r in rows) == [0.01, 0.05]
    # val_loss is minimized: the best trial has the lowest score.
    assert result.best["direction"] == "min"
    assert result.best["score"] == pytest.approx(min(float(r["score"]) for r in rows))


def test_unknown_strategy_is_refused_before_training(data, tmp_path):
    with pytest.raises(ValueError, match=r"`strategy` must be one of .*'random'.*; got 'randm'. Did you mean 'random'"):
        search(data, tmp_path, "randm")
    assert not os.path.exists(tmp_path / "p")


def test_objective_direction():
    cases = {
        "min": ["val_loss", "loss", "val_rmse", "val_mae", "val_mean_squared_error",
                "val_hamming_loss", "min:val_f1"],
        "max": ["val_f1", "val_f1_macro", "val_accuracy", "val_acc", "val_auc", "val_roc_auc",
                "val_precision", "val_recall", "val_r2", "val_average_precision",
                "max:val_custom"],
    }
    for direction, names in cases.items():
        for name in names:
            objective = resolve_objective(name)
            assert (objective.name, objective.direction) == (name.split(":")[-1], direction)


def test_objective_errors_and_override():
    custom = kt.Objective("val_thing", "max")
    assert resolve_objective(custom) is custom
    with pytest.raises(ValueError, match=r"'max:val_thing' or 'min:val_thing'"):
        resolve_objective("val_thing")
    with pytest.raises(ValueError, match="objective direction"):
        resolve_objective("best:val_f1")
    with pytest.raises(TypeError, match="objective"):
        resolve_objective(3)


def test_val_f1_objective_from_sklearn_metrics(f1_search):
    best = f1_search.best
    assert best["objective"] == "val_f1" and best["direction"] == "max"
    rows = f1_search.rows
    assert len(rows) == 3 and all(0.0 <= r["score"] <= 1.0 for r in rows)
    assert best["score"] == pytest.approx(max(r["score"] for r in rows))
    # The whole curve is kept, not only keras-tuner's best epoch.
    trial = f1_search.tuner.oracle.get_trial(best["trial_id"])
    assert [o.step for o in trial.metrics.get_history("val_f1")] == [0, 1]


def test_objective_missing_from_logs_is_a_clear_error(data, tmp_path):
    with pytest.raises(ValueError, match=r"'val_f1' is not in the epoch logs.*SklearnMetrics"):
        search(data, tmp_path, objective="val_f1", max_trials=1)


# ---- search space ----------------------------------------------------------------------


def test_default_space_per_family():
    mlp, rnn = default_space("mlp.baseline"), default_space("rnn.lstm")
    for key in ("depth", "width", "activation", "dropout", "l2", "optimizer", "learning_rate",
                "batch_size"):
        assert key in mlp
    assert set(mlp["optimizer"]) == {"sgd", "momentum", "nag", "adagrad", "rmsprop",
                                     "adadelta", "adam"}
    assert mlp["learning_rate"] == (1e-4, 1e-1, "log")
    assert rnn["activation"] == ["tanh", "relu"]


def test_every_zoo_model_has_a_hypermodel():
    import zoo

    for name in zoo.list_models():
        info = zoo.describe(name)
        fixed = {"vocab_size": 20} if "vocab_size" in info.options else None
        hm = ZooHyperModel(name, info.example_input_shape, 3, fixed=fixed)
        hp = kt.HyperParameters()
        model = hm.build(hp)
        assert model.output_shape == (None, 3), name
        assert {"depth", "width", "optimizer", "learning_rate", "batch_size"} <= set(hp.values)


def test_space_is_narrowed_extended_and_fixed():
    hm = ZooHyperModel(
        "mlp.baseline", (30,), 2, "binary",
        space={"learning_rate": (1e-4, 1e-1, "log"), "optimizer": ["adam", "sgd"],
               "width": [16, 32], "batch_norm": [True, False], "l2": None},
        fixed={"activation": "tanh"},
    )
    space = hm.space
    assert space["optimizer"] == ["adam", "sgd"] and space["width"] == [16, 32]
    assert space["batch_norm"] == [True, False]  # extended
    assert "l2" not in space and "activation" not in space  # removed, fixed
    assert "dropout" in space  # the rest of the default space stays
    hp = kt.HyperParameters()
    model = hm.build(hp)
    assert set(hp.values) == set(space)
    assert hp.values["batch_norm"] is False  # a real bool (the model default)
    assert hp.values["learning_rate"] == pytest.approx(1e-3)  # the default is Keras's
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Activation)]
    assert hidden and {layer.activation.__name__ for layer in hidden} == {"tanh"}
    only = ZooHyperModel("mlp.baseline", (30,), 2, "binary", space={"width": [4, 8]},
                         defaults=False)
    assert only.space == {"width": [4, 8]}


def test_unknown_keys_list_the_allowed_ones():
    with pytest.raises(ValueError, match=r"Unknown `space` key\(s\) \['widht'\].*'width'.*"
                                         r"Allowed keys: \[.*'learning_rate'"):
        ZooHyperModel("mlp.baseline", (30,), 2, "binary", space={"widht": [8]})
    with pytest.raises(ValueError, match=r"Unknown `fixed` key\(s\) \['lr'\]"):
        ZooHyperModel("mlp.baseline", (30,), 2, "binary", fixed={"lr": 0.1})


def test_bad_space_values_are_refused():
    cases = [
        ({"activation": ["relux"]}, None, ValueError, r"space\['activation'\].*relux"),
        ({"optimizer": ["adamm"]}, None, ValueError, r"space\['optimizer'\].*'adam'"),
        ({"learning_rate": (0.0, 0.1, "log")}, None, ValueError, "must be a number > 0"),
        ({"dropout": (0.5, 0.1)}, None, ValueError, "low < high"),
        ({"width": 16}, None, TypeError, r"fixed=\{'width': value\}"),
        ({"activation": ("relu", "tanh")}, None, TypeError, "list of choices"),
        ({"width": [8]}, {"width": 8}, ValueError, "both `space` and `fixed`"),
        (None, {"dropout": 1.5}, ValueError, r"fixed\['dropout'\]"),
    ]
    for space, fixed, error, match in cases:
        with pytest.raises(error, match=match):
            ZooHyperModel("mlp.baseline", (30,), 2, "binary", space=space, fixed=fixed)


def test_required_model_option_must_be_fixed():
    with pytest.raises(ValueError, match=r"needs \['vocab_size'\].*fixed"):
        ZooHyperModel("rnn.gru_tokens", (12,), 4, "multiclass")
    hm = ZooHyperModel("rnn.gru_tokens", (12,), 4, "multiclass", fixed={"vocab_size": 20})
    assert hm.build(kt.HyperParameters()).output_shape == (None, 4)


# ---- pruning ---------------------------------------------------------------------------


def test_median_rule():
    rule = MedianStopping(warmup_epochs=1, min_trials=2)
    assert rule.should_stop(0.9, 1, [0.2, 0.3, 0.4], "min")
    assert not rule.should_stop(0.25, 1, [0.2, 0.3, 0.4], "min")
    assert not rule.should_stop(0.9, 0, [0.2, 0.3], "min")  # warm-up
    assert not rule.should_stop(0.9, 1, [0.2], "min")  # too few trials
    assert rule.should_stop(float("nan"), 1, [0.2, 0.3], "max")
    assert rule.get_config() == {"warmup_epochs": 1, "min_trials": 2}
    with pytest.raises(TypeError, match="min_trials"):
        MedianStopping(min_trials=1.5)


def test_pruning_stops_a_clearly_bad_trial(data, tmp_path):
    # Grid order: two good learning rates complete, then a useless one.
    hm = hypermodel({"learning_rate": [0.03, 0.05, 1e-7]}, fixed={"optimizer": "adam"})
    result = search(data, tmp_path, "grid", max_trials=3, epochs=3, hm=hm,
                    prune=MedianStopping(warmup_epochs=1, min_trials=2))
    rows = {float(r["learning_rate"]): r for r in read_csv(result.paths["csv"])}
    assert rows[0.03]["status"] == rows[0.05]["status"] == "COMPLETED"
    assert rows[0.03]["epochs"] == "3"
    bad = rows[1e-7]
    assert bad["status"] == "PRUNED" and bad["pruned_epoch"] == "1" and bad["epochs"] == "2"
    assert bad["score"] != ""  # it keeps its score
    assert result.counts["PRUNED"] == 1 and "1 pruned" in result.summary


def test_hyperband_with_pruning_ranks_only_completed_trials(data, tmp_path):
    # Hyperband continues a trial's model in a later trial (from epoch
    # `tuner/initial_epoch`); pruning cuts trials of both kinds. Learning
    # rates down to 1e-5 make some trials clearly worse than the median.
    hm = hypermodel({"learning_rate": (1e-5, 0.1, "log")})
    result = search(data, tmp_path, "hyperband", max_trials=8, epochs=4, hm=hm, seed=0,
                    prune=MedianStopping(warmup_epochs=1, min_trials=1))
    rows = read_csv(result.paths["csv"])
    pruned = [r for r in rows if r["status"] == "PRUNED"]
    completed = [r for r in rows if r["status"] == "COMPLETED"]
    assert pruned and completed and len(rows) == result.counts["total"]
    assert result.best["trial_id"] in {r["trial_id"] for r in completed}
    assert float(result.best["score"]) == min(float(r["score"]) for r in completed)
    for row in rows:  # epochs count from the first model of the chain
        start, last = int(row["tuner/initial_epoch"]), int(row["epochs"]) - 1
        assert start <= int(row["best_epoch"]) <= start + last, row
        if row["status"] == "PRUNED":
            assert int(row["pruned_epoch"]) == start + last, row
    assert os.path.exists(result.paths["best_model"])


# ---- results files ---------------------------------------------------------------------


def test_results_files(f1_search, data):
    paths = f1_search.paths
    with open(paths["best_hyperparameters"]) as f:
        best = json.load(f)
    assert best["model"] == "mlp.baseline" and best["strategy"] == "random"
    assert {"learning_rate", "optimizer", "width"} <= set(best["hyperparameters"])
    assert best["trials"]["total"] == 3
    rows = read_csv(paths["csv"])
    assert [r["trial_id"] for r in rows] == sorted(r["trial_id"] for r in rows)
    assert {r["status"] for r in rows} == {"COMPLETED"}
    assert all(float(r["duration_seconds"]) > 0 for r in rows)
    assert {"learning_rate", "optimizer", "width", "depth", "batch_size"} <= set(rows[0])
    # The saved model is the best trial at its best epoch, loadable in safe mode.
    reloaded = keras.saving.load_model(paths["best_model"], safe_mode=True)
    x_val = data[2][0]
    expected = f1_search.tuner.get_best_models(1)[0].predict(x_val, verbose=0)
    np.testing.assert_allclose(reloaded.predict(x_val, verbose=0), expected, rtol=1e-5)


def _hparams_data(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    content = acc.PluginTagToContent("hparams")
    data = [plugin_data_pb2.HParamsPluginData.FromString(c) for c in content.values()]
    return {d.WhichOneof("data"): d for d in data}  # experiment, session_start_info...


def test_hparams_dashboard(f1_search):
    logdir = f1_search.paths["tensorboard"]
    assert not glob.glob(os.path.join(logdir, "events.*"))  # no empty run "."
    for row in f1_search.rows:
        run = os.path.join(logdir, f"trial_{row['trial_id']}")
        written = _hparams_data(run)
        config, start = written["experiment"], written["session_start_info"]
        end = written["session_end_info"]
        infos = [h.name for h in config.experiment.hparam_infos]
        # Searched first (TensorBoard shows the first five), then the fixed ones.
        assert infos == ["depth", "learning_rate", "optimizer",
                         "batch_size", "status", "width"]
        assert [h.differs for h in config.experiment.hparam_infos] == [True] * 3 + [False] * 3
        assert [m.name.tag for m in config.experiment.metric_infos] == [
            "score", "val_f1", "epochs"]
        values = start.session_start_info.hparams
        assert values["optimizer"].string_value == row["optimizer"]
        assert values["learning_rate"].number_value == pytest.approx(row["learning_rate"])
        assert values["status"].string_value == "COMPLETED"
        assert end.session_end_info.status == api_pb2.STATUS_SUCCESS
        scalars = read_scalars(run)
        assert [step for step, _ in scalars["val_f1"]] == [0, 1]
        assert scalars["score"][0][1] == pytest.approx(row["score"])
        assert scalars["epochs"][0][1] == 2


def _served_hparams(logdir, port, runs):
    """The experiment and session groups a live TensorBoard serves for `logdir`."""
    with tb_utils.tensorboard_server(logdir, port) as url:
        tb_utils.wait_for_json(url, "/data/runs", lambda served: sorted(served) == runs)
        experiment = tb_utils.post_json(url, "/data/plugin/hparams/experiment", {
            "experimentName": "", "includeMetrics": True, "hparamsLimit": 1000})
        groups = tb_utils.post_json(url, "/data/plugin/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 100, "includeMetrics": True,
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                                "STATUS_RUNNING"],
            "colParams": [{"hparam": h["name"], "includeInResult": True}
                          for h in experiment["hparamInfos"]]})
    return experiment, groups["sessionGroups"]


def test_hparams_served_with_domains_objective_first(f1_search, free_port):
    logdir = f1_search.paths["tensorboard"]
    runs = sorted(f"trial_{r['trial_id']}" for r in f1_search.rows)  # and no "."
    experiment, groups = _served_hparams(logdir, free_port, runs)
    infos = {h["name"]: h for h in experiment["hparamInfos"]}
    assert [h["name"] for h in experiment["hparamInfos"]][:3] == [
        "depth", "learning_rate", "optimizer"]
    assert infos["depth"]["domainDiscrete"] == [1, 2]  # an integer range, listed
    assert "integer" in infos["depth"]["description"]
    assert infos["learning_rate"]["domainInterval"] == pytest.approx(
        {"minValue": 1e-3, "maxValue": 1e-1})
    assert "log scale" in infos["learning_rate"]["description"]
    # The dashboard prints 2 as 2.0000 and a range filter as -infinity..+infinity.
    assert infos["depth"]["displayName"] == "depth (int)"
    assert infos["learning_rate"]["displayName"] == "learning_rate (0.001 to 0.1, log)"
    assert sorted(infos["optimizer"]["domainDiscrete"]) == ["adam", "rmsprop"]
    assert infos["width"]["domainDiscrete"] == [8]
    assert experiment["metricInfos"][0]["name"]["tag"] == "score"
    assert "objective" in experiment["metricInfos"][0]["displayName"]
    assert len(groups) == 3
    for group in groups:
        [session] = group["sessions"]
        assert session["status"] == "STATUS_SUCCESS"
        assert group["hparams"]["status"] == "COMPLETED"


class _RunningTrialCurves(keras.callbacks.Callback):
    """Reads, at each epoch's end, the curve of the trial running (the run
    folder without an HParams session yet)."""

    def __init__(self, logdir):
        super().__init__()
        self.logdir = logdir
        self.seen = []  # (epoch, steps of val_loss already in the running trial's run)

    def __deepcopy__(self, memo):
        return self  # keras-tuner copies the callbacks of each trial: keep one record

    def on_epoch_end(self, epoch, logs=None):
        for run in sorted(glob.glob(os.path.join(self.logdir, "trial_*"))):
            if "session_start_info" not in _hparams_data(run):  # still running
                self.seen.append((epoch, [s for s, _ in read_scalars(run).get("val_loss", [])]))


def test_hparams_statuses_and_live_curves_of_a_pruned_search(data, tmp_path, free_port):
    hm = hypermodel({"learning_rate": [0.03, 0.05, 1e-7]}, fixed={"optimizer": "adam"})
    watcher = _RunningTrialCurves(str(tmp_path / "p" / "tensorboard"))
    result = search(data, tmp_path, "grid", max_trials=3, epochs=3, hm=hm,
                    prune=MedianStopping(warmup_epochs=1, min_trials=2), callbacks=[watcher])
    seen = watcher.seen
    # The tuner writes an epoch after the user's callbacks: at epoch 2's end,
    # epochs 0 and 1 are already on disk, before the trial ends.
    assert (2, [0, 1]) in seen
    runs = sorted(f"trial_{r['trial_id']}" for r in result.rows)
    experiment, groups = _served_hparams(result.paths["tensorboard"], free_port, runs)
    assert experiment["hparamInfos"][0]["name"] == "learning_rate"
    assert experiment["hparamInfos"][0]["differs"] is True
    assert {h["name"]: h["differs"] for h in experiment["hparamInfos"]}["optimizer"] is False
    status = {g["hparams"]["learning_rate"]: g["hparams"]["status"] for g in groups}
    assert status == {0.03: "COMPLETED", 0.05: "COMPLETED", 1e-7: "PRUNED"}
    epochs = {g["hparams"]["learning_rate"]: {m["name"]["tag"]: m["value"]
                                              for m in g["metricValues"]}["epochs"]
              for g in groups}
    assert epochs == {0.03: 3, 0.05: 3, 1e-7: 2}


# ---- project safety and resume ---------------------------------------------------------


def test_overwrite_refuses_foreign_folders_and_clears_its_own(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="did not create"):
        Project(tmp_path, "mine").open(overwrite=True)
    assert (foreign / "notes.txt").read_text() == "keep me"

    with Project(tmp_path, "ours", {"model": "m"}).open():
        (tmp_path / "ours" / "trial_0").mkdir()
    with Project(tmp_path, "ours", {"model": "m"}).open(overwrite=True) as project:
        assert not (tmp_path / "ours" / "trial_0").exists()
        assert project.owner()["model"] == "m"
    with pytest.raises(ValueError, match=r"model: 'm' there, 'other' now"):
        Project(tmp_path, "ours", {"model": "other"}).open()


def test_resume_is_refused_when_trials_would_not_be_comparable(tmp_path):
    job = {"model": "m", "dataset": "digits", "data": "beef", "epochs": 5, "max_trials": 4,
           "space": {"learning_rate": ("float", 1e-4, 1e-1, "log"), "units": [16, 32]},
           "fixed": {"dropout": 0.1}}
    with Project(tmp_path, "p", job).open():
        pass
    with Project(tmp_path, "p", dict(job, max_trials=10)).open():
        pass  # the same search, with more trials: it goes on
    for change, expected in [
            ({"epochs": 20}, r"epochs: 5 there, 20 now"),
            ({"dataset": "mine"}, r"dataset: 'digits' there, 'mine' now"),
            ({"data": "f00d"}, r"data: 'beef' there, 'f00d' now"),
            ({"space": dict(job["space"], units=[16, 64])},
             r"space: \{'units': \[16, 32\]\} there, \{'units': \[16, 64\]\} now"),
            ({"fixed": {}}, r"fixed: \{'dropout': 0.1\} there, \{\} now")]:
        with pytest.raises(ValueError, match=expected + r".*`overwrite=True` "
                                             r"\(`--overwrite`\) to start afresh"):
            Project(tmp_path, "p", dict(job, **change)).open()
    assert Project(tmp_path, "p").owner()["epochs"] == 5


def test_tune_rerun_with_other_epochs_is_refused_before_any_trial(tmp_path, capsys):
    from recipes import tuning_cli

    argv = ["mlp.baseline", "--quick", "--max-trials", "1", "--epochs", "1",
            "--log-dir", str(tmp_path)]
    assert tuning_cli.main(argv) == 0
    project = tmp_path / "mlp.baseline-random"

    def files():  # all but the lock, which each run takes
        return {p: p.stat().st_mtime_ns for p in project.rglob("*")
                if p.is_file() and p.name != ".zoo_tuning.lock"}

    before = files()
    with pytest.raises(SystemExit) as info:
        tuning_cli.main(argv[:-3] + ["2", "--log-dir", str(tmp_path)])
    message = str(info.value.code)
    assert message.startswith("error: The tuning project") and "epochs: 1 there, 2 now" in message
    assert "`--overwrite`" in message and "`--project-name`" in message
    assert files() == before and len(before) > 5


def test_directory_is_a_deprecated_alias_of_log_dir(data, tmp_path):
    from recipes.tuning_cli import build_parser

    x, y, val = data
    with pytest.warns(DeprecationWarning, match=r"run_search\(directory=...\).*use `log_dir`"):
        result = run_search(hypermodel(), "random", "val_loss", 1, directory=tmp_path,
                            project_name="old", x=x, y=y, validation_data=val, epochs=1,
                            progress=False)
    assert result.project_dir == os.path.join(tmp_path, "old") and len(result.rows) == 1
    with pytest.warns(DeprecationWarning, match=r"make_tuner\(directory=...\)"):
        tuner = make_tuner(hypermodel(), "random", "val_loss", 1, directory=tmp_path,
                           project_name="tuner")
    assert tuner.project_dir == os.path.join(tmp_path, "tuner")
    with pytest.warns(DeprecationWarning, match=r"Project\(directory=...\)"):
        assert Project(directory=tmp_path, project_name="p").log_dir == os.fspath(tmp_path)
    for old in ("--directory", "--logdir"):  # the command line's old names
        assert build_parser().parse_args(["mlp.baseline", old, "d"]).log_dir == "d"


def test_stale_oracle_state_does_not_rerun_a_finished_trial(data, tmp_path):
    result = search(data, tmp_path, max_trials=2, epochs=1)
    project = result.project_dir
    with open(os.path.join(project, "trial_1", "trial.json")) as f:
        finished = f.read()
    # The state of a job killed after `end_trial` wrote the trial but before
    # the oracle was saved: trial 1 still ongoing, its end not recorded.
    with open(os.path.join(project, "oracle.json")) as f:
        oracle = json.load(f)
    oracle["ongoing_trials"] = {"tuner0": "1"}
    oracle["end_order"].remove("1")
    with open(os.path.join(project, "oracle.json"), "w") as f:
        json.dump(oracle, f)
    again = search(data, tmp_path, max_trials=2, epochs=1)
    assert again.tuner.reconciled["ended"] == ["1"]
    with open(os.path.join(project, "trial_1", "trial.json")) as f:
        assert f.read() == finished  # not re-run
    assert [r["trial_id"] for r in again.rows] == ["0", "1"]


def _wait_for(predicate, process, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"the search exited early:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the search")
        time.sleep(0.1)


def _trial_files(project):
    out = {}
    for name in os.listdir(project):
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            try:
                with open(path) as f:
                    out[name[len("trial_"):]] = json.load(f)
            except ValueError:  # being written
                pass
    return out


def test_sigkill_mid_trial_then_resume(tmp_path, data):
    command = [sys.executable, "-m", "recipes", "tune", "mlp.baseline", "--strategy", "random",
               "--max-trials", "3", "--epochs", "10", "--quick", "--seed", "2",
               "--log-dir", str(tmp_path), "--project-name", "job",
               "--space", "width=8,16", "--space", "depth=1:2", "--fixed", "batch_size=32"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    project = os.path.join(tmp_path, "job")
    csv_path = os.path.join(project, "trials.csv")
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)

    def one_done_one_early():
        # A finished trial, and one that has run at most 4 of its 10 epochs.
        if not os.path.exists(csv_path):
            return False
        done = {r["trial_id"] for r in read_csv(csv_path) if r["status"] == "COMPLETED"}
        early = [t for t, s in _trial_files(project).items()
                 if s["status"] == "RUNNING" and t not in done
                 and len(s["metrics"]["metrics"].get("val_f1", {}).get("observations", [])) <= 4]
        return bool(done) and bool(early)

    try:
        _wait_for(one_done_one_early, first, timeout=240)
        # While it runs, nobody else may use or overwrite its project.
        x, y, val = data
        for overwrite in (True, False):
            with pytest.raises(ProjectInUseError, match="in use by another process"):
                run_search(hypermodel(), "random", "val_f1", 3, tmp_path, "job", x, y, val, 1,
                           overwrite=overwrite)
        _wait_for(one_done_one_early, first, timeout=240)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.stdout.close()
    before = {t: s for t, s in _trial_files(project).items() if s["status"] == "COMPLETED"}
    assert before
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    rows = read_csv(csv_path)
    ids = [r["trial_id"] for r in rows]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 3  # each once, the whole budget
    assert {r["status"] for r in rows} == {"COMPLETED"}
    after = _trial_files(project)
    for trial_id, state in before.items():
        assert after[trial_id] == state  # finished trials are kept, not re-run
    with open(os.path.join(project, "oracle.json")) as f:
        assert set(json.load(f)["run_times"].values()) == {1}  # every trial ran to its end once
    for state in after.values():  # the interrupted trial's curve is from one run only
        for obs in state["metrics"]["metrics"]["val_f1"]["observations"]:
            assert len(obs["value"]) == 1
        assert state["metrics"]["metrics"]["val_f1"]["observations"][-1]["step"] == 9
    assert "re-running interrupted trial(s)" in second.stdout
    assert "[trial 3/3]" in second.stdout and "on the test split" in second.stdout


# ---- command line ----------------------------------------------------------------------


def test_cli_end_to_end(tmp_path, capsys):
    from recipes.__main__ import main

    code = main(["tune", "mlp.baseline", "--strategy", "grid", "--max-trials", "2", "--quick",
                 "--epochs", "1", "--log-dir", str(tmp_path), "--no-default-space",
                 "--space", "learning_rate=0.01,0.1", "--fixed", "width=8", "--prune"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[trial 1/2]" in out and "[trial 2/2]" in out
    assert "Objective: val_f1 (max). Trials: 2" in out
    assert "on the test split" in out and "accuracy" in out
    project = tmp_path / "mlp.baseline-grid"
    assert (project / "report" / "report.json").exists()
    rows = read_csv(project / "trials.csv")
    assert sorted(float(r["learning_rate"]) for r in rows) == [0.01, 0.1]
    from recipes.catalog import list_recipes

    assert "tuning_cli" not in [r.name for r in list_recipes()]


def test_cli_bad_input_is_a_clear_error(tmp_path, capsys):
    from recipes.tuning_cli import main

    with pytest.raises(SystemExit, match=r"error: Unknown `space` key\(s\) \['widht'\]"):
        main(["mlp.baseline", "--log-dir", str(tmp_path), "--space", "widht=8"])
    with pytest.raises(SystemExit, match="reads image inputs"):
        main(["cnn.simple", "--log-dir", str(tmp_path), "--dataset", "breast_cancer"])
    with pytest.raises(SystemExit):
        main(["mlp.baseline", "--strategy", "genetic"])
    assert "invalid choice: 'genetic'" in capsys.readouterr().err


def test_import_zoo_stays_light():
    code = ("import sys, zoo; print('keras_tuner' in sys.modules, 'zoo.tuning' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


@pytest.mark.slow
def test_memory_is_bounded_over_20_trials():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tuning_memory.py"),
                          "--trials", "20", "--warmup", "5"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 0, out.stderr[-3000:]
    growth = float(out.stdout.strip().splitlines()[-1].split("=")[1])
    print(out.stdout.strip().splitlines()[-2:])
    assert growth < 150

