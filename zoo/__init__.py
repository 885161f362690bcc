"""Prebuilt Keras 3 models: ``zoo.list_models()`` and ``zoo.build(name, ...)``.

Example:

>>> import zoo
>>> model = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10)
>>> zoo.compile_model(model, optimizer="adam", learning_rate=1e-3)
>>> model.fit(x, y, epochs=30, batch_size=32)

Importing `zoo` registers every model family and the custom layers, so
`.keras` files load with `keras.saving.load_model(path)` and no
`custom_objects`.
"""

from zoo import models  # noqa: F401  (registration side effects: families and layers)
from zoo.models.optimizers import full_batch_size, get_optimizer, list_optimizers
from zoo.models.registry import ModelInfo, build, describe, list_models, register
from zoo.core.tasks import TASKS, compile_model, loss_for_task, metrics_for_task

__all__ = [
    "ModelInfo",
    "TASKS",
    "build",
    "compile_model",
    "describe",
    "full_batch_size",
    "get_optimizer",
    "list_models",
    "list_optimizers",
    "loss_for_task",
    "metrics_for_task",
    "register",
]
