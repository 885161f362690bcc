"""Optimizers compared: SGD, full-batch GD, momentum, NAG, Adagrad, RMSprop, Adadelta, Adam; L-BFGS.

One small MLP on the digits, trained nine times from the same initial
weights; only the optimizer (and its learning rate) changes: eight
first-order methods, then full-batch L-BFGS, a quasi-Newton method. Loss curves
overlay in one plot and in TensorBoard (one run per optimizer); the table
has the final validation loss and accuracy, the best epoch and the time.

    python -m recipes run optimizers [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=30)
dirs = start(args)

# ## Data
# The 8x8 digits, pixels in [0, 1]; the MLP flattens each image to 64 features.
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=128, val=64, test=64)
print(data)

# ## The optimizers
# Each gets a learning rate in its usual range: adaptive methods (RMSprop,
# Adam) want ~1e-3, plain SGD much more, and Adadelta's rate is a multiplier
# on its own step size, so 1.0 (the paper has no rate at all). Momentum
# accumulates ~1 / (1 - 0.9) = 10 steps, so it takes a tenth of SGD's rate.
# Full-batch gradient descent is SGD with every sample in one batch: one
# exact-gradient step per epoch, so it needs many epochs. A larger rate than
# 0.2 speeds it up at first, then makes the loss spike and recover again.
full_batch = zoo.full_batch_size(data.x_train)
OPTIMIZERS = {  # name: (zoo.get_optimizer name, learning rate, batch size)
    "sgd": ("sgd", 0.05, 32),
    "full_batch_gd": ("gd", 0.2, full_batch),
    "momentum": ("momentum", 0.005, 32),
    "nag": ("nag", 0.005, 32),
    "adagrad": ("adagrad", 0.05, 32),
    "rmsprop": ("rmsprop", 1e-3, 32),
    "adadelta": ("adadelta", 1.0, 32),
    "adam": ("adam", 1e-3, 32),
}


# ## Model
# Two hidden layers of 64 ReLU units. `study.start` reseeds before each
# call, so every optimizer starts from exactly the same weights.
def make_model(optimizer, learning_rate):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=2, width=64)
    return zoo.compile_model(model, optimizer=zoo.get_optimizer(optimizer, learning_rate))


# ## Training
# The same epochs and batch order for everyone. Each optimizer writes its
# own TensorBoard run (tensorboard/<name>/train, .../validation), so
# `tensorboard --logdir` overlays all nine loss curves.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, (optimizer, rate, batch_size) in OPTIMIZERS.items():
    study.start(name)  # clears the Keras session and reseeds
    model = make_model(optimizer, rate)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
              batch_size=batch_size, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  callbacks.LearningRateLogger(),  # the rate in the history; Keras charts it
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    run.row.update(order="first", learning_rate=rate, batch_size=batch_size)

# ## A second-order method: L-BFGS
# Every optimizer above is first-order: each step follows the gradient g
# alone. Newton's method also uses the curvature, the Hessian H, and steps by
# H^-1 g: exact on a quadratic bowl, and H's negative curvature shows the way
# off a saddle point, where the gradient is near zero. But H has n^2 entries
# for n weights (here about 9,000^2). Quasi-Newton methods estimate H^-1 from
# the gradients already seen; L-BFGS keeps the last 10, and a line search
# picks each step's length: no learning rate. Like conjugate gradient it
# needs the exact, full-batch loss. `zoo.fit_lbfgs` hands the model's weights,
# loss and gradient (from a GradientTape: TensorFlow backend only) to
# `scipy.optimize.minimize(method="L-BFGS-B")`. An iteration costs one or a
# few full-batch passes (the `evaluations` column), as an epoch of full-batch
# GD costs one; it counts as an epoch for the callbacks and the plot.
study.start("lbfgs")
model = make_model("sgd", 0.01)  # compiled for its loss; L-BFGS ignores the optimizer
timer = EpochTimer()
history = zoo.fit_lbfgs(model, *data.train, max_iterations=args.epochs,
                        validation_data=data.val, callbacks=[
                            timer,  # wall seconds per iteration, for the table
                            keras.callbacks.TensorBoard(study.log_dir("lbfgs"),
                                                        write_graph=False),
                        ])  # no backup: a rerun redoes its few seconds
run = study.record("lbfgs", model, history.history, timer, validation_data=data.val)
run.row.update(order="second (quasi-Newton)", batch_size=full_batch,
               evaluations=history.history["evaluations"][-1])

# ## Comparison
# Train loss (left) shows how fast each optimizer descends; validation loss
# and accuracy (right) what that buys on unseen digits.
study.plot(dirs.report / "optimizers.png", keys=("loss", "val_loss", "val_accuracy"),
           log_y=("loss", "val_loss"),
           title="Optimizers on digits (MLP 64-64); L-BFGS: one iteration per epoch")

# ## Evaluation
# The optimizer with the best validation accuracy is scored once on the test split.
study.report_best(data, dirs.report)
print_outputs(dirs)
