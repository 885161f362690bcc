"""Data augmentation compared: the same CNN with and without random rotations and zooms.

With only a few hundred training images a CNN learns them by heart: its
training accuracy reaches 100% while validation accuracy stays behind.
Augmentation (the teaching texts: "transformations that enlarge the data
set and its variety, so the model generalizes better") shows the network
each image slightly rotated and zoomed at every epoch, so there is no
fixed set of pixels to memorize. The same CNN is trained on 200 of the
8x8 digits without and with `augment=`; the table shows each one's
train/validation gap and its test accuracy.

    python -m recipes run augmentation [--quick] [--log-dir DIR] [--seed N] [--epochs N]
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
# The bundled 8x8 digits (pixels in [0, 1]), cut to a small training set;
# validation and test keep their full size, so their scores are not noise.
data = load_dataset("digits", seed=args.seed)
data = subset(data, train=64, val=64, test=64) if args.quick else subset(data, train=200)
print(data)

# ## The variants
# `augment=` adds Keras's random image layers right after the input, active
# in `fit` only: `predict` and `evaluate` see the images as they are. No
# `flip`: a mirrored 2 or 5 is not a digit; and on 8x8 pixels even small
# changes are large, so the strengths stay small (rotate 0.04 of a turn is
# up to about 15 degrees either way, zoom up to 10% in or out).
VARIANTS = {
    "none": None,
    "augmented": {"rotate": 0.04, "zoom": 0.1},
}


# ## Model
# A CNN with far more weights (~40k) than training images, and no dropout:
# augmentation is the only regularization, and the only difference.
def make_model(augment):
    model = zoo.build("cnn.simple", input_shape=data.input_shape,
                      num_classes=data.num_classes, dropout=0.0, augment=augment)
    return zoo.compile_model(model, optimizer="adam", learning_rate=2e-3)


# ## Training
# Same initial weights, batch order and epoch budget for both. The
# augmented model sees new images every epoch, so it learns more slowly;
# the budget is long enough for both to reach 100% on their training images.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
for name, augment in VARIANTS.items():
    study.start(name)  # clears the Keras session and reseeds
    model = make_model(augment)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[
                  timer,
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    # The gap is measured in inference mode (no augmentation, no dropout):
    # how much better the model knows its training images than new ones.
    train = run.model.evaluate(*data.train, verbose=0, return_dict=True)
    test = run.model.evaluate(*data.test, verbose=0, return_dict=True)
    run.row.update(train_accuracy=train["accuracy"],
                   accuracy_gap=train["accuracy"] - run.scores["val_accuracy"],
                   test_accuracy=test["accuracy"])

# ## Comparison
# Training (dashed) against validation (solid): both training curves reach
# 100%, the augmented one later (its images keep changing); the validation
# curve of the augmented model ends higher, so its gap is smaller. On the
# full run (seed 0) augmentation halves the gap and adds about two points
# of test accuracy; `--seed` shows how much of that is luck.
study.plot_train_val(dirs.report / "train_vs_val_accuracy.png", metric="accuracy",
                     title="Accuracy: train (dashed) vs validation")
study.plot(dirs.report / "validation.png", keys=("val_loss", "val_accuracy"),
           title="Validation curves per variant")

# ## Evaluation
# The table has both test scores, to show the effect; the report files are
# those of the variant chosen on validation, as in the other studies.
study.report_best(data, dirs.report)
print_outputs(dirs)
