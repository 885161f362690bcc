"""Sequence classification: a bidirectional GRU on MNIST-1D signals.

MNIST-1D (Greydanus, 2020) draws the ten digits as 1-D signals of 40 points,
then shifts, scales, shears and adds noise: small enough for a CPU, hard
enough that models differ (the paper's GRU reaches 91% test accuracy). The
4,000 training and 1,000 test sequences are generated locally, no download.
Everything is decided on the validation split; the test split is used once.

    python -m recipes run mnist1d_rnn [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import math

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, save_model, start
from zoo.data import load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=50)
dirs = start(args)

# ## Data
# 15% of the training sequences are held out for validation; the test split
# is MNIST-1D's own. Each sample is a (40, 1) sequence: 40 steps, 1 feature.
# `--quick` generates a small MNIST-1D instead (a smoke test, not a result).
data = load_dataset("mnist1d", seed=args.seed,
                    mnist1d_args={"num_samples": 400} if args.quick else None)
print(data)
dirs.check_data(data)  # a resumed run must see the same splits

# ## Model
# A strided `Conv1D` without activation cuts each signal into 19 overlapping
# windows of 4 points (every 2 points) and embeds each linearly, as ViT does
# with image patches. The GRU then takes 19 steps instead of 40: half the
# sequential work, and each step already sees a little of the local shape
# (on MNIST-1D this also generalizes better than one point per step).
# Two stacked bidirectional GRU layers read the windows both ways.
inputs = keras.Input(data.input_shape)
windows = keras.layers.Conv1D(32, kernel_size=4, strides=2, name="window_embedding")(inputs)
gru = zoo.build("rnn.gru", input_shape=windows.shape[1:], num_classes=data.num_classes,
                depth=2, width=64, bidirectional=True, dropout=0.1)
model = keras.Model(inputs, gru(windows), name="mnist1d_gru")

# Adam with a short warmup and a cosine decay over the whole run: recurrent
# nets like a gentle start, and the decay settles the weights at the end.
batch_size = 64
steps = args.epochs * math.ceil(len(data.x_train) / batch_size)
learning_rate = keras.optimizers.schedules.CosineDecay(
    3e-4, decay_steps=steps, warmup_target=3e-3, warmup_steps=steps // 20, alpha=0.01)
zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=learning_rate)
model.summary(expand_nested=True)

# ## Training
# The cosine schedule fixes the budget, so early stopping only judges its
# second half, where the learning rate is low and the weights settle: it
# keeps the weights of the best epoch there by scikit-learn's macro F1 on the
# validation split, and ends the run if a quarter of it brings no gain.
tensorboard = str(dirs.tensorboard)
# The backup's `history` has every epoch's logs, those before a resume too.
backup = callbacks.BackupAndRestore(str(dirs.backup))
watch = [
    # scikit-learn's scores as `val_f1`, ... in the logs, and in TensorBoard.
    callbacks.SklearnMetrics(data.val, task=data.task, log_dir=tensorboard),
    # The rate at each epoch's start, in the history (the report's curves) and
    # as the one learning-rate chart (Keras's TensorBoard then leaves out its own).
    callbacks.LearningRateLogger(log_dir=tensorboard),
    # Per-layer gradient norms; a NaN/Inf step is not applied and ends training.
    callbacks.GradientNormMonitor(log_dir=tensorboard, on_exploding="stop"),
    # Keras's curves; no graph: its Graph dashboard fails on Keras 3 models.
    keras.callbacks.TensorBoard(log_dir=tensorboard, write_graph=False),
    # A backup every epoch: rerun a killed run and it resumes where it was.
    backup,
    # Judges the second half only; puts back the best epoch's weights.
    callbacks.EarlyStopping(monitor="val_f1", mode="max", restore_best_weights=True,
                            start_from_epoch=args.epochs // 2, patience=args.epochs // 4),
]
model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
          batch_size=batch_size, callbacks=watch, verbose=2)

# ## Evaluation
# One look at the test split, scored by scikit-learn.
report = evaluate(model, data.x_test, data.y_test, log_dir=dirs.report,
                  history=backup.history, class_names=data.class_names)
print(report)
save_model(model, dirs.model)
print_outputs(dirs)
