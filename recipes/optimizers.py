"""Optimizers compared: SGD, full-batch GD, momentum, NAG, Adagrad, RMSprop, Adadelta, Adam.

One small MLP on the digits, trained eight times from the same initial
weights; only the optimizer (and its learning rate) changes. Loss curves
overlay in one plot and in TensorBoard (one run per optimizer); the table
has the final validation loss and accuracy, the best epoch and the time.

    python -m recipes run optimizers [--quick] [--logdir DIR] [--seed N] [--epochs N]
"""

import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import Study, subset
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
# Two hidden layers of 64 ReLU units. `Study.fit` reseeds before calling
# this, so every optimizer starts from exactly the same weights.
def make_model(optimizer, learning_rate):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=2, width=64)
    return zoo.compile_model(model, optimizer=zoo.get_optimizer(optimizer, learning_rate))


# ## Training
# The same epochs for everyone. Each optimizer writes its own TensorBoard
# run (tensorboard/<name>/train, .../validation), so `tensorboard --logdir`
# overlays all eight loss curves.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, (optimizer, rate, batch_size) in OPTIMIZERS.items():
    run = study.fit(name, lambda: make_model(optimizer, rate), *data.train,
                    validation_data=data.val, epochs=args.epochs, batch_size=batch_size)
    run.row.update(learning_rate=rate, batch_size=batch_size)

# ## Comparison
# Train loss (left) shows how fast each optimizer descends; validation loss
# and accuracy (right) what that buys on unseen digits.
study.plot(dirs.report / "optimizers.png", keys=("loss", "val_loss", "val_accuracy"),
           log_y=("loss", "val_loss"), title="Optimizers on digits (MLP 64-64)")

# ## Evaluation
# The optimizer with the best validation accuracy is scored once on the test split.
study.report_best(data, dirs.report)
print_outputs(dirs)
