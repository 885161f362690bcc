"""Training callbacks that watch, stop and steer ``model.fit``.

Each is a plain ``keras.callbacks.Callback`` (or Keras learning-rate
schedule) that works with any Keras model and writes to TensorBoard.
"""
from callbacks.sklearn_metrics import SklearnMetrics
from callbacks.gradient_norm import GradientNormMonitor
from callbacks.early_stopping import EarlyStopping
from callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from callbacks.lr_logger import LearningRateLogger
from callbacks.lr_finder import LRFinder, find_learning_rate
from callbacks.backup_and_restore import BackupAndRestore, load_backup
from callbacks.activation_stats import ActivationStats
from callbacks import schedules

__all__ = [
    "ActivationStats", "BackupAndRestore", "EarlyStopping", "GradientNormMonitor",
    "LRFinder", "LearningRateLogger", "ReduceLROnPlateau", "SklearnMetrics",
    "find_learning_rate", "load_backup", "schedules",
]
