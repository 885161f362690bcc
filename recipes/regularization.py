"""Regularization compared: L1, L2, dropout and early stopping on an MLP that overfits.

A wide MLP (2 x 512 units) trained for many epochs on 400 MNIST-1D
sequences memorizes them: training accuracy reaches 100% while validation
accuracy stalls far below and the validation loss climbs. The same model
is trained with no regularization, an L1 or L2 weight penalty, dropout,
or early stopping; the table shows each one's train/validation gap and
validation score, and the variant chosen on validation is scored once on
the test split.

    python -m recipes run regularization [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=100)
dirs = start(args)

# ## Data
# MNIST-1D (generated locally): 10 digit-like 1-D signals of length 40,
# shifted, scaled and noisy; much harder than the 8x8 digits for an MLP.
# A small training slice makes overfitting easy to see; validation and
# test keep their full size, so their scores are not noise.
if args.quick:
    data = load_dataset("mnist1d", seed=args.seed, channel_axis=False,
                        mnist1d_args={"num_samples": 400})
    data = subset(data, train=64, val=64, test=64)
else:
    data = subset(load_dataset("mnist1d", seed=args.seed, channel_axis=False), train=400)
print(data)

# ## The variants
# `l1`, `l2` and `dropout` are zoo model options (the penalties apply to
# every kernel, head included); early stopping is a callback that ends
# training when the validation loss has not improved for 15 epochs and
# puts back the weights of the best epoch.
VARIANTS = {  # name: (model options, callbacks)
    "none": ({}, []),
    "l1": ({"l1": 1e-3}, []),
    "l2": ({"l2": 3e-3}, []),
    "dropout": ({"dropout": 0.5}, []),
    "early_stopping": ({}, [callbacks.EarlyStopping(monitor="val_loss", patience=15,
                                                    restore_best_weights=True)]),
}


# ## Model
# Far more weights (~290k) than training sequences (400), and Adam to fit fast.
def make_model(**options):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=2, width=512, **options)
    return zoo.compile_model(model, optimizer="adam", learning_rate=1e-3)


# ## Training
# Same initial weights, data order and epoch budget for all.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, (options, stop) in VARIANTS.items():
    study.start(name)  # clears the Keras session and reseeds
    model = make_model(**options)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  *stop,  # early stopping, for that variant
                  callbacks.LearningRateLogger(),  # the rate in the history; Keras charts it
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    # The gap is measured on the returned model in inference mode (no
    # dropout), on accuracy: the losses of l1/l2 include their penalty.
    train = run.model.evaluate(*data.train, verbose=0, return_dict=True)
    run.row.update(train_accuracy=train["accuracy"],
                   accuracy_gap=train["accuracy"] - run.scores["val_accuracy"])

# ## Comparison
# One panel per variant, training (dashed) against validation (solid): the
# distance between the two curves is the overfitting. Watch the unregularized
# validation loss rise within a few epochs while its accuracy still creeps
# up: the net grows overconfident on the sequences it gets wrong. Early
# stopping on the loss stops there, which is early for accuracy.
study.plot_train_val(dirs.report / "train_vs_val_loss.png", metric="loss",
                     title="Loss: train (dashed) vs validation")
study.plot_train_val(dirs.report / "train_vs_val_accuracy.png", metric="accuracy",
                     title="Accuracy: train (dashed) vs validation")
study.plot(dirs.report / "validation.png", keys=("val_loss", "val_accuracy"),
           title="Validation curves per variant")

# ## Evaluation
# Chosen on validation accuracy; the test split is used this once.
study.report_best(data, dirs.report)
print_outputs(dirs)
