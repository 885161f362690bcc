"""zoo.tuning: momentum, weight decay and per-optimizer learning-rate ranges in a search."""

import csv

import keras_tuner as kt
import pytest

from zoo.data import load_dataset
from zoo.tuning import ZooHyperModel, run_search
from zoo.tuning.optimizer_knobs import DEFAULT_LEARNING_RATE, LEARNING_RATE_RANGES

TINY = {"width": [4], "depth": [1], "batch_size": [32]}


def hypermodel(space, fixed=None, defaults=False):
    return ZooHyperModel("mlp.baseline", (30,), 2, "binary", space=dict(TINY, **space),
                         fixed=fixed, defaults=defaults)


def build_with(hm, **values):
    """Build `hm` with some values set, the other active ones at their defaults."""
    hp = kt.HyperParameters()
    hm.build(hp)  # declares the space
    hp.values.update(values)
    hp.ensure_active_values()
    model = hm.build(hp)
    return hp, model.optimizer


def test_momentum_and_weight_decay_reach_the_optimizers_that_take_them():
    hm = hypermodel({"optimizer": ["adam", "sgd", "rmsprop"], "momentum": (0.0, 0.95),
                     "weight_decay": (1e-5, 1e-2, "log")})
    assert hm.space["momentum"] == (0.0, 0.95, "linear")
    for name in ("sgd", "rmsprop"):
        hp, optimizer = build_with(hm, optimizer=name, momentum=0.37, weight_decay=3e-4)
        assert optimizer.momentum == pytest.approx(0.37)
        assert optimizer.weight_decay == pytest.approx(3e-4)
    hp, optimizer = build_with(hm, optimizer="adam", weight_decay=3e-4)
    assert "momentum" not in hp.values  # inactive: Adam has no momentum to tune
    assert optimizer.weight_decay == pytest.approx(3e-4) and not hasattr(optimizer, "momentum")
    conditions = {h.name: h.conditions for h in hp.space}
    assert conditions["momentum"] and not conditions["weight_decay"]  # every optimizer decays


def test_fixed_momentum_with_a_fixed_optimizer():
    hm = hypermodel({}, fixed={"optimizer": "nag", "momentum": 0.8, "weight_decay": 1e-4})
    _, optimizer = build_with(hm)
    assert (optimizer.momentum, optimizer.nesterov) == (pytest.approx(0.8), True)
    assert optimizer.weight_decay == pytest.approx(1e-4)


def test_momentum_no_optimizer_takes_is_refused_before_training():
    with pytest.raises(ValueError, match=r"`space\['momentum'\]`.*\['adam', 'adagrad'\] take "
                                         r"none.*'rmsprop'"):
        hypermodel({"optimizer": ["adam", "adagrad"], "momentum": (0.0, 0.9)})
    with pytest.raises(ValueError, match=r"`fixed\['momentum'\]`.*\['adam'\] take none"):
        hypermodel({}, fixed={"momentum": 0.9})  # the default optimizer is Adam
    with pytest.raises(ValueError, match="momentum"):
        hypermodel({"optimizer": ["sgd"], "momentum": (0.0, 1.5)})
    with pytest.raises(ValueError, match="weight_decay"):
        hypermodel({}, fixed={"weight_decay": -0.1})


def test_default_learning_rate_range_is_per_optimizer():
    hm = ZooHyperModel("mlp.baseline", (30,), 2, "binary",
                       space={"optimizer": ["adam", "adadelta"]})
    assert hm.space["learning_rate"] == {"adam": DEFAULT_LEARNING_RATE,
                                         "adadelta": LEARNING_RATE_RANGES["adadelta"]}
    hp, optimizer = build_with(hm, optimizer="adadelta", learning_rate_adadelta=1.0)
    assert type(optimizer).__name__ == "Adadelta" and float(optimizer.learning_rate) == 1.0
    assert "learning_rate" not in hp.values  # Adam's range is inactive for this trial
    (adadelta,) = [h for h in hp.space if h.name == "learning_rate_adadelta"]
    assert (adadelta.min_value, adadelta.max_value) == (1e-2, 10.0)
    hp, optimizer = build_with(hm, optimizer="adam", learning_rate=0.02)
    assert type(optimizer).__name__ == "Adam"
    assert float(optimizer.learning_rate) == pytest.approx(0.02)
    # A range given in `space` applies to every optimizer as given; a dict sets some.
    given = hypermodel({"optimizer": ["adam", "adadelta"], "learning_rate": (1e-3, 1e-1, "log")})
    assert given.space["learning_rate"] == (1e-3, 1e-1, "log")
    per = hypermodel({"optimizer": ["adam", "sgd", "adadelta"],
                      "learning_rate": {"sgd": (1e-2, 1.0, "log")}})
    assert per.space["learning_rate"] == {"adam": DEFAULT_LEARNING_RATE,
                                          "sgd": (1e-2, 1.0, "log"),
                                          "adadelta": LEARNING_RATE_RANGES["adadelta"]}
    assert ZooHyperModel(**per.get_config()).space == per.space  # the config round-trips
    only = ZooHyperModel("mlp.baseline", (30,), 2, "binary", fixed={"optimizer": "adadelta"})
    assert only.space["learning_rate"] == LEARNING_RATE_RANGES["adadelta"]
    with pytest.raises(ValueError, match="rmsprop"):
        hypermodel({"optimizer": ["adam"], "learning_rate": {"rmsprop": (0.1, 1.0)}})


def test_a_search_over_optimizers_and_their_knobs(tmp_path):
    data = load_dataset("breast_cancer")
    x, y, val = data.x_train[:120], data.y_train[:120], (data.x_val[:60], data.y_val[:60])
    hm = hypermodel({"optimizer": ["adam", "adadelta", "sgd"], "momentum": (0.0, 0.95),
                     "weight_decay": (1e-5, 1e-3, "log"),
                     "learning_rate": {}})  # {}: each optimizer's default range
    result = run_search(hm, "random", "val_loss", 5, tmp_path, "knobs", x, y, val, 1, seed=3,
                        progress=False)
    with open(result.paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and {r["status"] for r in rows} == {"COMPLETED"}
    assert {r["optimizer"] for r in rows} >= {"adam", "adadelta"}
    for row in rows:
        assert float(row["weight_decay"]) > 0
        assert (row["momentum"] != "") == (row["optimizer"] == "sgd")
        rate = row["learning_rate_adadelta"] or row["learning_rate"]
        if row["optimizer"] == "adadelta":  # only its own rate is active
            assert row["learning_rate"] == "" and 1e-2 <= float(rate) <= 10
        else:
            assert row["learning_rate_adadelta"] == "" and 1e-4 <= float(rate) <= 0.1
