"""Data: one front door, ``load_dataset(name)`` and ``from_arrays(x, y)``.

Both return a ``Dataset``: train/validation/test arrays, already split
(seeded, stratified for classes) and standardized on the training rows
where that applies, plus the metadata a recipe needs to build a model.

| module      | what it holds                                               |
|-------------|-------------------------------------------------------------|
| `loading`   | `Dataset`, `load_dataset`, `from_arrays`, `list_datasets`   |
| `bundled`   | scikit-learn's digits, breast cancer, diabetes; MNIST-1D    |
| `tables`    | `load_csv`: the user's own CSV files                        |
| `splits`    | seeded, stratified splits and train-only standardization   |
| `synthetic` | generated tasks (token order, long-range memory)            |
"""

from zoo.core.finite import check_finite
from zoo.data.bundled import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_mnist1d,
)
from zoo.data.loading import Dataset, from_arrays, list_datasets, load_dataset
from zoo.data.splits import Splits, standardize, train_val_test_split
from zoo.data.synthetic import first_marker, make_memory_task, make_order_task
from zoo.data.tables import load_csv

__all__ = [
    "Dataset", "Splits", "check_finite", "first_marker", "from_arrays",
    "list_datasets", "load_breast_cancer", "load_csv", "load_dataset",
    "load_diabetes", "load_digits", "load_mnist1d", "make_memory_task", "make_order_task",
    "standardize", "train_val_test_split",
]
