"""Image classification: a small CNN on scikit-learn's 8x8 handwritten digits.

The default recipe of the main job. It trains on the bundled digits data
(1,797 images, no download), decides everything on the validation split,
and touches the test split once, for the final report.

    python -m recipes run digits_cnn [--quick] [--log-dir DIR] [--seed N]
                                     [--data PHOTOS/ [--image-size 64]]
                                     [--data table.csv --target label]
                                     [--devices all|N] [--backend jax ...]
"""

import math

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, save_model, start, user_data
from zoo.core import hardware
from zoo.data import load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=60, hardware=True)
dirs = start(args)

# ## Data
# Train / validation / test, stratified and seeded. Pixels are scaled to [0, 1].
# `--data PHOTOS/` trains on your own folder of images instead (one subfolder
# per class, streamed from the files, resized to --image-size), `--data
# table.csv --target label` on a table (README "Your data").
data = user_data(args, kinds=("image", "table")) or load_dataset("digits", seed=args.seed)
print(data)
dirs.check_data(data)  # a resumed run must see the same splits

# ## Model
# conv -> pool -> conv -> pool -> dense, the ConvNet people write by hand
# (a table's rows go through an MLP instead).
# The learning rate warms up linearly for the first 5% of the steps, then
# follows a cosine down to 1% of its peak: Keras's own CosineDecay does both.
# With --devices, 32 is the batch of each device (`hardware`: same rate).
batch = hardware.batch_size(32)
steps = args.epochs * math.ceil(len(data.x_train) / batch)
warmup = max(1, steps // 20)
schedule = keras.optimizers.schedules.CosineDecay(
    2e-4, decay_steps=steps - warmup, warmup_target=2e-3,
    warmup_steps=warmup, alpha=0.01)
with hardware.scope():
    model = zoo.build("cnn.simple" if data.input_kind == "image" else "mlp.baseline",
                      input_shape=data.input_shape, num_classes=data.num_classes,
                      task=data.task, dropout=0.3)
    zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=schedule)
model.summary()

# ## Training
# Macro F1 on the validation split is computed by scikit-learn every epoch;
# early stopping watches it (not the loss) and keeps the best weights; it
# waits for half the epochs, until the cosine has brought the rate down.
tensorboard = str(dirs.tensorboard)
# The backup's `history` has every epoch's logs, those before a resume too.
backup = callbacks.BackupAndRestore(str(dirs.backup))
watch = [
    # scikit-learn's scores as `val_f1`, ... in the logs, and in TensorBoard.
    callbacks.SklearnMetrics(data.val, log_dir=tensorboard),
    # The rate at each epoch's start, in the history (the report's curves) and
    # as the one learning-rate chart (Keras's TensorBoard then leaves out its own).
    callbacks.LearningRateLogger(log_dir=tensorboard),
    # Per-layer gradient norms; a NaN/Inf step is not applied and ends training.
    callbacks.GradientNormMonitor(log_dir=tensorboard, on_exploding="stop"),
    # Keras's curves; no graph: its Graph dashboard fails on Keras 3 models.
    keras.callbacks.TensorBoard(log_dir=tensorboard, write_graph=False),
    # A backup every epoch: rerun a killed run and it resumes where it was.
    backup,
    # Stops when val_f1 stalls and puts back the best epoch's weights.
    callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=15,
                            start_from_epoch=args.epochs // 2, restore_best_weights=True),
]
# Arrays, or tf.data pipelines when the images stream from a folder.
model.fit(**data.fit_args(batch), epochs=args.epochs, callbacks=watch, verbose=2)
hardware.to_one_device(model)  # evaluation and saving need no other device

# ## Evaluation
# One look at the test split, scored by scikit-learn.
report = evaluate(model, **data.evaluate_args(), log_dir=dirs.report,
                  history=backup.history, class_names=data.class_names)
print(report)
# The saved model takes raw inputs: 0-255 pixels, or a table's columns.
save_model(data.end_to_end(model), dirs.model)
print_outputs(dirs)
