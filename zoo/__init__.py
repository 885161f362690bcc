"""Prebuilt Keras 3 models: ``zoo.list_models()`` and ``zoo.build(name, ...)``.

Example:

>>> import numpy as np, zoo
>>> x = np.random.rand(64, 8, 8, 1).astype("float32")  # 64 tiny images
>>> y = np.random.randint(0, 10, size=64)               # their classes, 0..9
>>> model = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10)
>>> model = zoo.compile_model(model, optimizer="adam", learning_rate=1e-3)
>>> history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
>>> model.predict(x[:3], verbose=0).shape
(3, 10)

`compile_model` reads the task from the model's head (here multiclass:
sparse categorical cross-entropy and accuracy). `zoo.list_models()` names
every model; `print(zoo.describe(name))` shows one's options and example.

Importing `zoo` registers every model family and the custom layers, so
`.keras` files load with `keras.saving.load_model(path)` and no
`custom_objects`.
"""

from zoo import models  # noqa: F401  (registration side effects: families and layers)
from zoo.models.optimizers import full_batch_size, get_optimizer, list_optimizers
from zoo.models.lbfgs import fit_lbfgs
from zoo.models.registry import ModelInfo, build, describe, list_models, register
from zoo.core.tasks import TASKS, compile_model, loss_for_task, metrics_for_task

__all__ = [
    "ModelInfo",
    "TASKS",
    "build",
    "compile_model",
    "describe",
    "fit_lbfgs",
    "full_batch_size",
    "get_optimizer",
    "list_models",
    "list_optimizers",
    "loss_for_task",
    "metrics_for_task",
    "register",
]
