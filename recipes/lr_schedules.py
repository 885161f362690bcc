"""Learning-rate schedules compared (step, exponential, polynomial, cosine, cyclic, one-cycle, plateau), LR finder.

One small MLP on the digits, trained with SGD + momentum from the same
initial weights; only the learning rate's path through training changes.
First an LR range test (the "LR finder") suggests a rate, which gets a run
of its own. Plots: the learning rate and the validation curves per epoch
for every schedule, and the finder's loss-against-rate curve.

    python -m recipes run lr_schedules [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import math

import keras

import callbacks
import zoo
from callbacks.schedules import get_schedule
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=30)
dirs = start(args)

# ## Data
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=128, val=64, test=64)
print(data)


# ## Model
# Two hidden layers of 64 ReLU units, SGD with Nesterov momentum. The
# optimizer takes a float or any `keras.optimizers.schedules` schedule.
def make_model(learning_rate):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=2, width=64)
    return zoo.compile_model(model, optimizer="nag", learning_rate=learning_rate)


# ## The LR finder
# Smith's range test: one batch per rate, the rate growing exponentially,
# until the loss blows up. The suggestion is where the loss falls fastest.
# `find_learning_rate` puts the weights back afterwards.
finder = callbacks.find_learning_rate(
    make_model(0.01), *data.train, min_lr=1e-4, max_lr=10.0,
    num_steps=20 if args.quick else 150, batch_size=32,
    plot_path=dirs.report / "lr_finder.png")
print(f"LR finder: suggested rate {finder.suggestion:.3g} ({finder.suggestion_method}), "
      f"sweep stopped: {finder.stop_reason}")

# ## The schedules
# Schedules count optimizer steps, so epochs are converted with
# `steps_per_epoch`. The decaying ones start at RATE; the ones that rise
# first (cosine with warmup, cyclic, one-cycle) peak at twice RATE.
RATE, BATCH = 0.02, 32
steps_per_epoch = math.ceil(len(data.x_train) / BATCH)
total = args.epochs * steps_per_epoch
third = max(1, args.epochs // 3) * steps_per_epoch
warmup = max(1, total // 10)
SCHEDULES = {
    "constant": RATE,
    "step": get_schedule("step", initial_learning_rate=RATE, decay_steps=third, decay_rate=0.5),
    "exponential": get_schedule("exponential", initial_learning_rate=RATE,
                                decay_steps=steps_per_epoch, decay_rate=0.9),
    # (1 - step / total)^2 from RATE down to RATE / 100: fast at first, gentle at the end.
    "polynomial": get_schedule("polynomial", initial_learning_rate=RATE, decay_steps=total,
                               end_learning_rate=RATE / 100, power=2.0),
    "cosine_warmup": get_schedule("cosine", initial_learning_rate=RATE / 10, warmup_target=2 * RATE,
                                  warmup_steps=warmup, decay_steps=total - warmup),
    "cyclic": get_schedule("cyclic", base_learning_rate=RATE / 10, max_learning_rate=2 * RATE,
                           step_size=max(1, total // 6), mode="triangular2"),
    "one_cycle": get_schedule("one_cycle", max_learning_rate=2 * RATE, total_steps=total),
    "plateau": RATE,  # lowered by ReduceLROnPlateau below
    "lr_finder": finder.suggestion,
}

# ## Training
# Same data order and epochs for every schedule; each writes its own
# TensorBoard run, with the learning rate per epoch beside the loss.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, rate in SCHEDULES.items():
    study.start(name)  # clears the Keras session and reseeds: same weights, same order
    model = make_model(rate)
    plateau = [callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3)] \
        if name == "plateau" else []
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
              batch_size=BATCH, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  *plateau,  # halves the rate when the validation loss stalls
                  # The rate at each epoch's first step, in the history (plot,
                  # table) and in TensorBoard as `learning_rate/epoch_start`,
                  # the one rate chart (Keras's TensorBoard leaves out its own).
                  callbacks.LearningRateLogger(log_dir=study.log_dir(name)),
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    run.row["final_learning_rate"] = run.history["learning_rate"][-1]

# ## Comparison
# Left: the rate each schedule used in every epoch (log scale); right: what
# it did to the validation loss and accuracy.
study.plot(dirs.report / "lr_schedules.png", keys=("learning_rate", "val_loss", "val_accuracy"),
           log_y=("learning_rate", "val_loss"), title="Learning-rate schedules (SGD + NAG)")

# ## Evaluation
# The schedule with the best validation accuracy, scored once on the test split.
study.report_best(data, dirs.report)
print_outputs(dirs)
