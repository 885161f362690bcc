"""Hyperparameter search over zoo models with keras-tuner.

Example:

>>> from zoo.tuning import ZooHyperModel, run_search
>>> hypermodel = ZooHyperModel("mlp.baseline", input_shape=(30,), num_classes=2,
...                            task="binary", space={"optimizer": ["adam", "sgd"]})
>>> result = run_search(hypermodel, "random", "val_auc", max_trials=10,
...                     directory="runs/tuning", project_name="cancer",
...                     x=x, y=y, validation_data=(x_val, y_val), epochs=20)
>>> result.best_hyperparameters

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

__all__ = [
    "CLASSIC_OPTIMIZERS",
    "DistributedSearchError",
    "MedianStopping",
    "Project",
    "ProjectInUseError",
    "STRATEGIES",
    "SearchResult",
    "SearchResults",
    "ZooHyperModel",
    "configure_distributed",
    "default_space",
    "make_dependable",
    "make_tuner",
    "resolve_objective",
    "run_search",
]
