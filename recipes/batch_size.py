"""Batch size compared: online (1), mini-batch (32) and full-batch training, on time and accuracy.

The same MLP on the digits, trained with plain SGD from the same initial
weights, taking one sample, 32 samples or the whole training set per step.
Small batches make many cheap, noisy steps per epoch; the full batch makes
one exact step. The table gives wall seconds per epoch, the time to reach a
validation accuracy, and the best validation score.

    python -m recipes run batch_size [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import math

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=20)
dirs = start(args)

# ## Data
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=64, val=64, test=64)
print(data)
TARGET = 0.9  # validation accuracy for the "time to reach" column

# ## Batch sizes
# The learning rate grows with the batch: a bigger batch averages away
# gradient noise, so it can take a longer step. The "linear scaling" rule
# holds only up to a point: the full batch spikes above ~0.2 (the step
# outgrows the curvature), and one sample's noise caps the online rate.
full_batch = zoo.full_batch_size(data.x_train)
BATCHES = {  # name: (batch size, learning rate)
    "online": (1, 0.01),
    "mini_batch": (32, 0.05),
    "full_batch": (full_batch, 0.2),
}


# ## Model
# Two hidden layers of 64 ReLU units, plain SGD: no momentum, no adaptive
# steps, so the batch size is the only difference.
def make_model(learning_rate):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=2, width=64)
    return zoo.compile_model(model, optimizer="sgd", learning_rate=learning_rate)


# ## Training
# Same number of epochs (passes over the data) for all three; only the
# number of steps per epoch differs. Every epoch is timed (`ms_per_step`
# leaves the validation pass out).
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, (batch_size, rate) in BATCHES.items():
    study.start(name)  # clears the Keras session and reseeds: same weights, same order
    model = make_model(rate)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
              batch_size=batch_size, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch and of its validation pass
                  callbacks.LearningRateLogger(),  # the rate in the history; Keras charts it
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    steps = math.ceil(len(data.x_train) / batch_size)
    run.row.update({
        "batch_size": batch_size, "learning_rate": rate, "steps_per_epoch": steps,
        "ms_per_step": 1000 * run.train_seconds_per_epoch / steps,
        f"epochs_to_val_acc_{TARGET}": run.epochs_to("val_accuracy", TARGET),
        f"seconds_to_val_acc_{TARGET}": run.seconds_to("val_accuracy", TARGET),
    })

# ## Comparison
# Per epoch, online learning usually wins (many updates); per second the
# picture changes, since one step of 32 costs about as much as one of 1.
study.plot(dirs.report / "batch_size_epochs.png", keys=("loss", "val_accuracy"),
           log_y=("loss",), title="Batch size: per epoch")
study.plot(dirs.report / "batch_size_time.png", keys=("loss", "val_accuracy"), x="seconds",
           log_y=("loss",), title="Batch size: per wall-clock second")

# ## Evaluation
# The batch size with the best validation accuracy, scored once on the test split.
study.report_best(data, dirs.report)
print_outputs(dirs)
