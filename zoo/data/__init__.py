"""Data: one front door, ``load_dataset(name)`` and ``from_arrays(x, y)``.

``load_path(path)`` reads your own image or text folders and CSV files
(the recipes' ``--data``). All return a ``Dataset``: train/validation/test, already split
(seeded, stratified for classes) and standardized on the training rows
where that applies, plus the metadata a recipe needs to build a model.

| module      | what it holds                                               |
|-------------|-------------------------------------------------------------|
| `loading`   | `Dataset`, `load_dataset`, `from_arrays`, `list_datasets`   |
| `bundled`   | scikit-learn's digits, breast cancer, diabetes; MNIST-1D    |
| `tables`    | `load_csv`, `load_table`: the user's own CSV files          |
| `folders`   | `load_path` (`--data`): folder layout, splits, kind of data |
| `images`    | `load_image_folder`: image folders, streamed               |
| `texts`     | `load_text_folder`: text folders, `TextVectorization`      |
| `streams`   | the `tf.data` pipelines of a `Dataset`'s splits            |
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
from zoo.data.tables import load_csv, load_table
from zoo.data.folders import load_path
from zoo.data.images import load_image_folder
from zoo.data.texts import load_text_folder

__all__ = [
    "Dataset", "Splits", "check_finite", "first_marker", "from_arrays",
    "list_datasets", "load_breast_cancer", "load_csv", "load_dataset",
    "load_diabetes", "load_digits", "load_image_folder", "load_mnist1d", "load_path",
    "load_table", "load_text_folder", "make_memory_task", "make_order_task",
    "standardize", "train_val_test_split",
]
