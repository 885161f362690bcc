"""zoo.tuning strategies: the budget-sized warm-up, TPE (Optuna) as an oracle,
pruned trials never best, and best-epoch weights kept in memory."""

import csv
import gc
import glob
import math
import os

import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.engine.trial import TrialStatus

from zoo.data import load_dataset
from zoo.tuning import TpeOracle, ZooHyperModel, make_tuner, resume, run_search
from zoo.tuning.tpe import distribution
from zoo.tuning.pruning import MedianStopping
from zoo.tuning.warmup import initial_trials, tpe_initial_trials

OPTIMUM = {"x": 0.3, "y": 0.7}


@pytest.fixture(scope="module")
def data():
    d = load_dataset("breast_cancer")
    return d.x_train[:160], d.y_train[:160], (d.x_val[:80], d.y_val[:80])


def hypermodel(space):
    return ZooHyperModel("mlp.baseline", (30,), 2, "binary",
                         space=dict({"width": [8], "depth": [1], "batch_size": [32]}, **space),
                         fixed={"optimizer": "adam"}, defaults=False)


def read_csv(path):
    with open(path, newline="") as f:
        return {r["trial_id"]: r for r in csv.DictReader(f)}


def distance(values):
    return math.hypot(values["x"] - OPTIMUM["x"], values["y"] - OPTIMUM["y"])


def build_xy(hp):
    hp.Float("x", 0.0, 1.0)
    hp.Float("y", 0.0, 1.0)
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


def drive(oracle, budget, objective=lambda v: distance(v) ** 2):
    """Run `budget` trials of `oracle` on a cheap objective (no training); the values."""
    oracle.verbose = 0
    proposed = []
    for _ in range(budget):
        trial = oracle.create_trial("tuner0")
        if trial.status != TrialStatus.RUNNING:
            break
        oracle.update_trial(trial.trial_id, {"score": objective(trial.hyperparameters.values)})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        proposed.append(dict(trial.hyperparameters.values))
    return proposed


def search_xy(strategy, seed, budget, tmp_path, **kwargs):
    tuner = make_tuner(build_xy, strategy, "min:score", budget, tmp_path,
                       f"{strategy}-{seed}", seed=seed, progress=False, **kwargs)
    return tuner, drive(tuner.oracle, budget)


# ---- warm-up sized to the budget -----------------------------------------------------


def test_warmup_rule():
    assert [initial_trials(n, 5) for n in (3, 6, 15, 30, 45, 100)] == [2, 2, 5, 10, 15, 15]
    assert initial_trials(None, 4) == 12  # no budget: keras-tuner's 3 x dimensions


def test_bayesian_models_after_its_stated_warmup(tmp_path):
    budget, seeds = 15, (7, 1_007, 2_007)
    warmup = initial_trials(budget, 2)
    assert warmup == 5  # keras-tuner's default would be 3 x 2 = 6
    after_bayes, after_random = [], []
    for seed in seeds:
        tuner, bayes = search_xy("bayesian", seed, budget, tmp_path)
        assert tuner.oracle.num_initial_points == warmup
        assert f"{warmup} random trial(s)" in tuner.warmup_note()
        _, rand = search_xy("random", seed, budget, tmp_path)
        # The warm-up is keras-tuner's random draws, then the model takes over.
        assert bayes[:warmup] == rand[:warmup]
        assert bayes[warmup:] != rand[warmup:]
        after_bayes += [distance(v) for v in bayes[warmup:]]
        after_random += [distance(v) for v in rand[warmup:]]
    assert np.mean(after_bayes) < 0.8 * np.mean(after_random)
    # A given num_initial_points is kept.
    tuner = make_tuner(build_xy, "bayesian", "min:score", budget, tmp_path, "given", seed=1,
                       progress=False, num_initial_points=9)
    assert tuner.oracle.num_initial_points == 9


def test_tpe_models_after_its_stated_warmup(tmp_path):
    budget, seeds = 24, (7, 1_007, 2_007, 3_007, 4_007, 5_007)
    after_tpe, after_random = [], []
    for seed in seeds:
        tuner, tpe = search_xy("tpe", seed, budget, tmp_path)
        warmup = tuner.oracle.warmup_trials()
        assert warmup == tpe_initial_trials(budget) == 10  # Optuna's
        assert f"TPE: {warmup} random trial(s)" in tuner.warmup_note()
        _, rand = search_xy("random", seed, budget, tmp_path)
        after_tpe += [distance(v) for v in tpe[warmup:]]
        after_random += [distance(v) for v in rand[warmup:]]
    assert np.mean(after_tpe) < 0.85 * np.mean(after_random)


def test_tpe_proposes_what_optunas_own_loop_proposes(tmp_path):
    """Same seed, same space, same results: TpeOracle's trials are study.optimize's,
    random warm-up and TPE proposals alike."""
    import optuna

    budget, seed = 15, 11

    def objective(v):
        return distance(v) ** 2 + (0.0 if v["kind"] == "b" else 0.1) + 0.01 * v["n"]

    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Choice("kind", ["a", "b"])
    hp.Int("n", 1, 4)
    hp.Float("y", 0.0, 1.0)
    oracle = TpeOracle(kt.Objective("score", "min"), max_trials=budget, hyperparameters=hp,
                       seed=seed)
    oracle._set_project_dir(os.fspath(tmp_path), "tpe")
    assert oracle.warmup_trials() == 10
    ours = drive(oracle, budget, objective)

    def suggest(trial):  # in the order keras-tuner declares them
        v = {"x": trial.suggest_float("x", 0.0, 1.0),
             "kind": trial.suggest_categorical("kind", ["a", "b"]),
             "n": trial.suggest_int("n", 1, 4),
             "y": trial.suggest_float("y", 0.0, 1.0)}
        return objective(v)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(suggest, n_trials=budget)
    assert ours == [t.params for t in study.trials]


def test_median_stopping_decides_as_optunas_median_pruner(tmp_path):
    """At every epoch, the last included, and on the best value so far."""
    import optuna

    rng = np.random.default_rng(3)
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = kt.oracles.RandomSearchOracle(kt.Objective("score", "min"), max_trials=40,
                                           hyperparameters=hp, seed=1)
    oracle._set_project_dir(os.fspath(tmp_path), "median")
    oracle.verbose = 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner())
    rule, decisions, pruned_at, epochs = MedianStopping(), [], [], 5
    for _ in range(40):
        trial, asked = oracle.create_trial("tuner0"), study.ask()
        # Noisy, non-monotone curves: the best so far is not the last value.
        curve = (rng.uniform(0.3, 1.0) - rng.uniform(0.0, 0.1) * np.arange(epochs)
                 + rng.normal(0.0, 0.1, epochs))
        for epoch, value in enumerate(curve):
            ours = rule.check(oracle, trial.trial_id, epoch, float(value))
            asked.report(float(value), epoch)
            assert ours == asked.should_prune(), (trial.trial_id, epoch)
            metrics = {"score": float(value)}
            if ours:
                metrics["tuning/pruned_epoch"] = float(epoch)
            oracle.update_trial(trial.trial_id, metrics, step=epoch)
            decisions.append(ours)
            if ours:
                pruned_at.append(epoch)
                break
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        if ours:
            study.tell(asked, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(asked, float(min(curve)))
    # Both kinds of decision, at the first and at the last epoch.
    assert 5 < len(pruned_at) < 35 and {0, epochs - 1} <= set(pruned_at)


# ---- TPE: the space, resume ------------------------------------------------------------


def mixed_space():
    hp = kt.HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Float("decay", 0.01, 1.0, sampling="reverse_log")
    hp.Int("units", 8, 64, step=8)
    hp.Int("filters", 2, 32, sampling="log")
    hp.Int("heads", 1, 16, step=2, sampling="log")
    hp.Choice("optimizer", ["adam", "sgd"])
    hp.Boolean("batch_norm")
    hp.Fixed("activation", "relu")
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.0, 0.99)
    return hp


def test_tpe_maps_every_keras_tuner_hyperparameter(tmp_path):
    hp = mixed_space()
    oracle = TpeOracle(kt.Objective("score", "max"), max_trials=14, hyperparameters=hp,
                       seed=3, num_initial_points=4)
    oracle._set_project_dir(os.fspath(tmp_path), "mixed")
    proposed = drive(oracle, 14, objective=lambda v: -abs(math.log10(v["lr"]) + 2))
    assert len(proposed) == 14
    for values in proposed:
        assert 1e-4 <= values["lr"] <= 1e-1
        assert round(values["dropout"] * 10, 6) == round(values["dropout"] * 10)
        assert 0.01 <= values["decay"] <= 1.0
        assert values["units"] in range(8, 65, 8)
        assert 2 <= values["filters"] <= 32 and isinstance(values["filters"], int)
        assert values["heads"] in (1, 2, 4, 8, 16)
        assert values["optimizer"] in ("adam", "sgd") and values["batch_norm"] in (False, True)
        assert values["activation"] == "relu"
        # A conditional hyperparameter is asked only where it is active.
        assert ("momentum" in values) == (values["optimizer"] == "sgd")
    assert len(oracle.study.trials) == 14
    dists = {h.name: distribution(h) for h in hp.space if h.name != "activation"}
    assert dists["lr"].log and dists["filters"].log and dists["units"].step == 8
    assert dists["heads"].choices == (1, 2, 4, 8, 16)  # a multiplicative grid
    assert (dists["decay"].low, dists["decay"].high) == (0.0, 1.0)  # keras-tuner's [0, 1)
    with pytest.raises(ValueError, match="one objective"):
        TpeOracle([kt.Objective("a", "max"), kt.Objective("b", "min")], hyperparameters=hp)


def test_tpe_resume_replays_the_finished_trials(tmp_path):
    """A reloaded oracle rebuilds its study and proposes what the running one would."""
    def make():
        hp = kt.HyperParameters()
        hp.Float("x", 0.0, 1.0)
        hp.Float("y", 0.0, 1.0)
        oracle = TpeOracle(kt.Objective("score", "min"), max_trials=12, hyperparameters=hp,
                           seed=5)
        oracle._set_project_dir(os.fspath(tmp_path), "resume")
        return oracle

    running = make()
    first = drive(running, 7)
    # A pruned trial (as the tuner marks one) is replayed as PRUNED.
    trial = running.create_trial("tuner0")
    running.update_trial(trial.trial_id, {"score": 0.9}, step=0)
    running.update_trial(trial.trial_id, {"score": 0.8, "tuning/pruned_epoch": 1.0}, step=1)
    trial.status = TrialStatus.COMPLETED
    running.end_trial(trial)

    reloaded = make()
    reloaded.reload()
    resume.reconcile(reloaded)  # as the tuners of zoo.tuning reload
    states = [t.state.name for t in reloaded.study.trials]
    assert states == ["COMPLETE"] * 7 + ["PRUNED"]
    assert [t.params for t in reloaded.study.trials[:7]] == [
        {"x": v["x"], "y": v["y"]} for v in first]
    assert reloaded.study.trials[7].intermediate_values == {0: 0.9, 1: 0.8}
    assert drive(reloaded, 3) == drive(running, 3)


# ---- real searches ---------------------------------------------------------------------


def test_tpe_real_search_resumes(data, tmp_path, capsys):
    x, y, val = data
    hm = hypermodel({"learning_rate": (1e-3, 1e-1, "log")})
    run = dict(hypermodel=hm, strategy="tpe", objective="val_loss", log_dir=tmp_path,
               project_name="tpe", x=x, y=y, validation_data=val, epochs=1, seed=2)
    first = run_search(max_trials=2, **run)
    assert "TPE: 2 random trial(s)" in capsys.readouterr().out
    assert type(first.tuner).__name__ == "TpeSearch" and first.counts["COMPLETED"] == 2
    second = run_search(max_trials=3, progress=False, **run)  # resumed, one more trial
    rows = read_csv(second.paths["csv"])
    assert len(rows) == 3 and {r["status"] for r in rows.values()} == {"COMPLETED"}
    assert len(second.tuner.oracle.study.trials) == 3
    assert gc.get_freeze_count() == 0  # the search unfroze what it froze


class PruneTrial:
    """A pruning rule that stops trial `trial_id` after epoch `epoch`."""

    def __init__(self, trial_id, epoch):
        self.trial_id, self.epoch = trial_id, epoch

    def check(self, oracle, trial_id, epoch, value):
        return trial_id == self.trial_id and epoch >= self.epoch


class SeenCheckpoints(keras.callbacks.Callback):
    """Records the checkpoint files that exist at each epoch end (shared by the copies)."""

    seen = []

    def __init__(self, project):
        super().__init__()
        self.project = project

    def on_epoch_end(self, epoch, logs=None):
        files = glob.glob(os.path.join(self.project, "trial_*", "checkpoint.weights.h5"))
        SeenCheckpoints.seen.append(sorted(os.path.basename(os.path.dirname(f)) for f in files))


def test_pruned_trial_with_the_best_partial_score_is_not_the_best(data, tmp_path, capsys):
    x, y, val = data
    # Grid order: a useless learning rate trains 3 epochs; a good one is stopped
    # after 2, with a much better val_loss than the first trial ever reached.
    hm = hypermodel({"learning_rate": [1e-6, 0.05]})
    SeenCheckpoints.seen = []
    result = run_search(hm, "grid", "val_loss", 2, tmp_path, "p", x, y, val, 3,
                        prune=PruneTrial("1", epoch=1), seed=1,
                        callbacks=[SeenCheckpoints(os.path.join(tmp_path, "p"))])
    out = capsys.readouterr().out
    rows = read_csv(result.paths["csv"])
    done, pruned = rows["0"], rows["1"]
    assert done["status"] == "COMPLETED" and done["epochs"] == "3"
    # The table shows what the pruned trial reached and when.
    assert pruned["status"] == "PRUNED" and pruned["pruned_epoch"] == "1"
    assert pruned["epochs"] == "2" and pruned["best_epoch"] in ("0", "1")
    assert float(pruned["score"]) < float(done["score"])
    # ...yet the best is the completed trial, everywhere.
    assert result.best["trial_id"] == "0" and result.best["model_trial_id"] == "0"
    assert result.best_hyperparameters["learning_rate"] == 1e-6
    assert result.tuner.get_best_hyperparameters()[0]["learning_rate"] == 1e-6
    ranked = [line.split() for line in result.summary.splitlines()[2:]]
    assert [(r[1], r[2]) for r in ranked] == [("0", "COMPLETED"), ("1", "PRUNED")]
    last = out.strip().splitlines()
    assert any(f"best={float(done['score']):.4f}" in line and " 1 PRUNED" in line
               for line in last)
    # No checkpoint during the first trial's epochs: it is written at the trial's end,
    # and only for the best trial (the pruned one is not).
    assert SeenCheckpoints.seen[:3] == [[], [], []]
    assert SeenCheckpoints.seen[3:] == [["trial_0"], ["trial_0"]]
    assert not os.path.exists(os.path.join(tmp_path, "p", "trial_1", "checkpoint.weights.h5"))
    with pytest.raises(FileNotFoundError, match="checkpoints='all'"):
        result.tuner.load_model(result.tuner.oracle.get_trial("1"))
    # The saved best model is trial 0 at its best epoch.
    best = result.best_model().predict(val[0], verbose=0)
    np.testing.assert_allclose(best, result.tuner.get_best_models(1)[0].predict(val[0], verbose=0),
                               rtol=1e-5)


def test_the_rule_applies_at_the_last_epoch_too(data, tmp_path):
    # As in Optuna's loop: a one-epoch trial can be pruned, at its only epoch.
    x, y, val = data
    result = run_search(hypermodel({"learning_rate": [0.05, 1e-6]}), "grid", "val_loss", 2,
                        tmp_path, "p", x, y, val, 1, prune=PruneTrial("1", epoch=0), seed=1,
                        progress=False)
    rows = read_csv(result.paths["csv"])
    assert rows["0"]["status"] == "COMPLETED"
    assert rows["1"]["status"] == "PRUNED" and rows["1"]["pruned_epoch"] == "0"


def test_checkpoints_all_keeps_every_trial(data, tmp_path):
    x, y, val = data
    result = run_search(hypermodel({"learning_rate": [0.05, 1e-6]}), "grid", "val_loss", 2,
                        tmp_path, "p", x, y, val, 1, seed=1, progress=False,
                        checkpoints="all")
    for trial_id in ("0", "1"):
        assert os.path.exists(os.path.join(result.project_dir, f"trial_{trial_id}",
                                           "checkpoint.weights.h5"))
    assert len(result.tuner.get_best_models(2)) == 2
    with pytest.raises(ValueError, match="checkpoints"):
        make_tuner(build_xy, "random", "min:score", 2, tmp_path, "bad", checkpoints="some")
