"""Hyperparameter search over zoo models with keras-tuner.

Example:

>>> import numpy as np
>>> from zoo.tuning import ZooHyperModel, run_search
>>> rng = np.random.default_rng(0)
>>> x, x_val = rng.random((64, 30)), rng.random((32, 30))
>>> y, y_val = (x[:, 0] > 0.5).astype(int), (x_val[:, 0] > 0.5).astype(int)
>>> hypermodel = ZooHyperModel("mlp.baseline", input_shape=(30,), num_classes=2,
...                            task="binary", space={"optimizer": ["adam", "sgd"]},
...                            defaults=False)
>>> result = run_search(hypermodel, "grid", "val_auc", max_trials=2,
...                     log_dir="runs/tuning", project_name="cancer",
...                     x=x, y=y, validation_data=(x_val, y_val), epochs=1,
...                     progress=False)
>>> result.counts["total"], sorted(result.best_hyperparameters)
(2, ['optimizer'])

Run the same call again to resume a stopped search; `result.paths` names
the files it wrote (`trials.csv`, `best_hyperparameters.json`, the best
model and TensorBoard HParams logs).

Distributed search (a chief serving the oracle, workers training):
`configure_distributed` and `make_dependable` from `zoo.tuning.distributed`,
or `run_search(..., distributed={"role": ..., "oracle_address": ...})`.

Not imported by `import zoo` (it loads keras-tuner and TensorBoard).
"""

from zoo.tuning.distributed import (
    DistributedSearchError,
    configure_distributed,
    make_dependable,
)
from zoo.tuning.hypermodels import CLASSIC_OPTIMIZERS, ZooHyperModel, default_space
from zoo.tuning.lipo import LipoOracle
from zoo.tuning.project import Project, ProjectInUseError
from zoo.tuning.pruning import MedianStopping
from zoo.tuning.results import SearchResults
from zoo.tuning.search import (
    STRATEGIES,
    SearchResult,
    make_tuner,
    resolve_objective,
    run_search,
)
from zoo.tuning.tpe import TpeOracle

__all__ = [
    "CLASSIC_OPTIMIZERS",
    "DistributedSearchError",
    "LipoOracle",
    "MedianStopping",
    "Project",
    "ProjectInUseError",
    "STRATEGIES",
    "SearchResult",
    "SearchResults",
    "TpeOracle",
    "ZooHyperModel",
    "configure_distributed",
    "default_space",
    "make_dependable",
    "make_tuner",
    "resolve_objective",
    "run_search",
]
