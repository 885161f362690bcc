"""zoo.tuning.lipo: the LIPO oracle on synthetic objectives, and a real tiny search."""

import json
import math
import os

import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.engine.trial import TrialStatus

from zoo.data import load_dataset
from zoo.tuning import LipoOracle, ZooHyperModel, run_search
from zoo.tuning.lipo import CENTRE, RANDOM, TRUST_REGION, UPPER_BOUND
from zoo.tuning._lipschitz import UpperBound

# keras-tuner seeds its random sampling with seed, seed + 1, ...: nearby seeds share
# most of their draws, so the repeats use seeds far apart.
SEEDS = (11, 2_002, 30_003, 400_004, 5_000_005)


def drive(oracle, objective, budget, tmp_path):
    """Run `budget` trials of `oracle` on `objective(values)`; the best score."""
    oracle.verbose = 0
    oracle._set_project_dir(os.fspath(tmp_path), f"{type(oracle).__name__}-{oracle.seed}")
    best, trials = -math.inf, []
    for _ in range(budget):
        trial = oracle.create_trial("tuner0")
        if trial.status != TrialStatus.RUNNING:
            break
        score = objective(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"score": score})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
        best = max(best, score)
        trials.append(dict(trial.hyperparameters.values))
    return best, trials


def branin(values):
    """Minus the Branin function over a log-scale rate and a linear x (max -0.398)."""
    x1 = -5 + 15 * (math.log10(values["learning_rate"]) + 5) / 5
    x2 = 15 * values["x"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return -((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)


def branin_space():
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-5, 1.0, sampling="log")
    hp.Float("x", 0.0, 1.0)
    return hp


def test_proposals_respect_bounds_log_int_step_and_choices(tmp_path):
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-5, 1e-1, sampling="log")
    hp.Int("units", 3, 17)
    hp.Int("filters", 2, 64, sampling="log")
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Choice("activation", ["relu", "tanh", "elu"])
    hp.Boolean("batch_norm")
    hp.Fixed("depth", 2)

    def objective(v):
        return (-(math.log10(v["learning_rate"]) + 2) ** 2 - abs(v["units"] - 9) / 4
                - abs(math.log2(v["filters"]) - 4) - v["dropout"]
                - (v["activation"] != "tanh") + v["batch_norm"])

    oracle = LipoOracle(kt.Objective("score", "max"), max_trials=30, hyperparameters=hp,
                        seed=3)
    best, trials = drive(oracle, objective, 30, tmp_path)
    assert len(trials) == 30
    for v in trials:
        assert 1e-5 <= v["learning_rate"] <= 1e-1
        assert isinstance(v["units"], int) and 3 <= v["units"] <= 17
        assert isinstance(v["filters"], int) and 2 <= v["filters"] <= 64
        assert 0.0 <= v["dropout"] <= 0.5 and v["dropout"] * 10 == pytest.approx(
            round(v["dropout"] * 10))  # on its step grid
        assert v["activation"] in ("relu", "tanh", "elu")
        assert isinstance(v["batch_norm"], bool) and v["depth"] == 2
    # The first trial is the centre of the cube: the log-scale rate's is the
    # geometric mean of its bounds, not their average.
    assert trials[0]["learning_rate"] == pytest.approx(1e-3)
    kinds = [oracle.requests[t]["kind"] for t in sorted(oracle.requests)]
    assert kinds[0] == CENTRE and set(kinds[1:6]) == {RANDOM}  # up to max(3, dims) results
    assert UPPER_BOUND in kinds and TRUST_REGION in kinds  # then both LIPO steps
    assert len({json.dumps(v, sort_keys=True) for v in trials}) == 30  # no repeats


def test_lipo_beats_random_search_on_a_smooth_function(tmp_path):
    budget = 20
    lipo = [drive(LipoOracle(kt.Objective("score", "max"), budget,
                             hyperparameters=branin_space(), seed=s), branin, budget,
                  tmp_path)[0] for s in SEEDS]
    random = [drive(kt.oracles.RandomSearchOracle(kt.Objective("score", "max"), budget,
                                                  hyperparameters=branin_space(), seed=s),
                    branin, budget, tmp_path)[0] for s in SEEDS]
    assert np.median(lipo) > np.median(random) + 0.5, (lipo, random)
    assert np.median(lipo) > -1.0  # near the optimum, -0.398


def test_minimized_objective_is_searched_downhill(tmp_path):
    oracle = LipoOracle(kt.Objective("loss", "min"), 15, hyperparameters=branin_space(),
                        seed=5)
    oracle.verbose = 0
    oracle._set_project_dir(os.fspath(tmp_path), "min")
    losses = []
    for _ in range(15):
        trial = oracle.create_trial("tuner0")
        loss = -branin(trial.hyperparameters.values)
        losses.append(loss)
        oracle.update_trial(trial.trial_id, {"loss": loss})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)
    assert min(losses) < 2.0 and oracle.get_best_trials(1)[0].score == min(losses)


def test_upper_bound_is_above_every_trial_and_slopes_follow_the_data():
    rng = np.random.default_rng(0)
    points = rng.random((25, 3))
    points[:, 2] = rng.integers(0, 3, 25)  # a categorical dimension
    values = -10 * (points[:, 0] - 0.5) ** 2 + 0.01 * points[:, 1]  # flat along dim 1
    bound = UpperBound(points, values, np.array([False, False, True]))
    assert np.all(bound(points) >= values - 1e-9)
    assert bound.slopes[0] > 10 * bound.slopes[1]  # steep along 0, flat along 1


def test_state_is_saved_and_restored(tmp_path):
    oracle = LipoOracle(kt.Objective("score", "max"), 8, hyperparameters=branin_space(), seed=1)
    drive(oracle, branin, 8, tmp_path)
    state = json.loads(json.dumps(oracle.get_state()))  # what oracle.json holds
    again = LipoOracle(kt.Objective("score", "max"), 8, hyperparameters=branin_space(), seed=1)
    again.trials = oracle.trials
    again.set_state(state)
    assert again.requests == oracle.requests and again._trust_next == oracle._trust_next
    assert again._radius(_cube(again)) == oracle._radius(_cube(oracle))


def _cube(oracle):
    from zoo.tuning.lipo import _Cube

    return _Cube(oracle.hyperparameters)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="num_random_samples"):
        LipoOracle(kt.Objective("score", "max"), num_random_samples=0)
    with pytest.raises(ValueError, match="random_search_probability"):
        LipoOracle(kt.Objective("score", "max"), random_search_probability=1.5)


def test_run_search_with_lipo_and_resume(tmp_path):
    data = load_dataset("breast_cancer")
    x, y, val = data.x_train[:160], data.y_train[:160], (data.x_val[:80], data.y_val[:80])
    hm = ZooHyperModel("mlp.baseline", (30,), 2, "binary", defaults=False,
                       space={"width": [4, 8], "depth": [1], "batch_size": [32],
                              "learning_rate": (1e-3, 1e-1, "log")})
    result = run_search(hm, "lipo", "val_loss", 4, tmp_path, "p", x, y, val, 1, seed=1,
                        progress=False)
    assert type(result.tuner).__name__ == "LipoSearch"
    assert type(result.tuner.oracle).__name__ == "LipoOracle"
    assert [r["status"] for r in result.rows] == ["COMPLETED"] * 4
    rates = [float(r["learning_rate"]) for r in result.rows]
    assert all(1e-3 <= rate <= 1e-1 for rate in rates)
    assert rates[0] == pytest.approx(1e-2)  # the centre, in log space
    with open(os.path.join(result.project_dir, "oracle.json")) as f:
        saved = json.load(f)["lipo"]
    assert sorted(saved["requests"]) == ["0", "1", "2", "3"]
    # Resume with a larger budget: the four trials are kept, one more is run.
    more = run_search(hm, "lipo", "val_loss", 5, tmp_path, "p", x, y, val, 1, seed=1,
                      progress=False)
    assert [r["trial_id"] for r in more.rows] == ["0", "1", "2", "3", "4"]
    assert more.rows[:4] == result.rows
    assert sorted(more.tuner.oracle.requests) == ["0", "1", "2", "3", "4"]


def test_cli_offers_lipo():
    from recipes.tuning_cli import build_parser

    assert build_parser().parse_args(["mlp.baseline", "--strategy", "lipo"]).strategy == "lipo"
