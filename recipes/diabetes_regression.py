"""Regression: an MLP predicting diabetes progression, scored by MSE, MAE, RMSE and R2.

scikit-learn's diabetes data (442 patients, 10 measurements, no download):
the target is a measure of disease progression one year later, from about
25 to 346. Everything is decided on the validation split; the test split is
used once, for the final report.

    python -m recipes run diabetes_regression [--quick] [--log-dir DIR] [--seed N] [--epochs N]
                                              [--data table.csv --target price]
"""

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, save_model, start, user_data
from zoo.core import hardware
from zoo.data import load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=400, hardware=True)
dirs = start(args)

# ## Data
# Train / validation / test (70/15/15), seeded. The features are standardized
# with statistics of the training rows only; the targets stay in their units.
# `--data table.csv --target price` predicts a column of your own CSV file
# instead: numeric columns are standardized and text columns one-hot encoded,
# from the training rows only (README "Your data").
data = user_data(args, kinds=("table",), task="regression") or load_dataset(
    "diabetes", seed=args.seed)
print(data)
dirs.check_data(data)  # a resumed run must see the same splits

# ## Model
# A small MLP with dropout: 308 training rows do not support more. It learns
# a standardized target (mean 0, std 1 on the training rows), which suits the
# default initialization; a last `Rescaling` layer maps its output back to
# progression units, so the loss, the validation scores, the report and the
# saved model all speak the data's units. (With Adam, fitting the rescaled
# output is the same as fitting the standardized target: Adam's steps do not
# depend on the scale of the loss.)
mean, std = float(data.y_train.mean()), float(data.y_train.std())
with hardware.scope():  # --devices: README "More hardware"
    net = zoo.build("mlp.baseline", input_shape=data.input_shape, task="regression",
                    depth=2, width=32, dropout=0.2)
    outputs = keras.layers.Rescaling(std, offset=mean, name="to_target_units")(net.output)
    model = keras.Model(net.input, outputs, name="diabetes_mlp")
    # No compiled metrics besides the loss (MSE): scikit-learn scores the
    # validation split below, under the names Keras's MAE/RMSE would take.
    zoo.compile_model(model, task="regression", optimizer="adam", learning_rate=1e-3,
                      metrics=[])
model.summary()

# ## Training
# scikit-learn's R2 on the validation split (`val_r2`, beside `val_mse`,
# `val_mae` and `val_rmse`) is computed every epoch; early stopping watches
# it and keeps the best weights, and the learning rate halves when the
# validation loss stalls. The validation split is 67 rows: its R2 is noisy,
# hence the long patience.
tensorboard = str(dirs.tensorboard)
# The backup's `history` has every epoch's logs, those before a resume too.
backup = callbacks.BackupAndRestore(str(dirs.backup))
watch = [
    # scikit-learn's `val_r2`, `val_mse`, ... in the logs, and in TensorBoard.
    callbacks.SklearnMetrics(data.val, task="regression", log_dir=tensorboard),
    # The rate at each epoch's start, in the history (the report's curves) and
    # as the one learning-rate chart (Keras's TensorBoard then leaves out its own).
    callbacks.LearningRateLogger(log_dir=tensorboard),
    # Per-layer gradient norms; a NaN/Inf step is not applied and ends training.
    callbacks.GradientNormMonitor(log_dir=tensorboard, on_exploding="stop"),
    # Keras's curves; no graph: its Graph dashboard fails on Keras 3 models.
    keras.callbacks.TensorBoard(log_dir=tensorboard, write_graph=False),
    # A backup every epoch: rerun a killed run and it resumes where it was.
    backup,
    # Stops when val_r2 stalls and puts back the best epoch's weights.
    callbacks.EarlyStopping(monitor="val_r2", mode="max", patience=40,
                            restore_best_weights=True),
    # Halves the rate when the validation loss stalls.
    callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=15),
]
# 32 rows per device; with --devices N the global batch is 32 x N.
model.fit(**data.fit_args(hardware.batch_size(32)), epochs=args.epochs, callbacks=watch,
          verbose=2)
hardware.to_one_device(model)  # evaluation and saving need no other device

# ## Evaluation
# One look at the test split: MSE, MAE and RMSE in progression units, and R2
# (1 is perfect, 0 is no better than predicting the mean).
report = evaluate(model, **data.evaluate_args(), task="regression",
                  log_dir=dirs.report, history=backup.history)
print(report)
# With --data the saved model takes the CSV's raw columns (a dict by name).
save_model(data.end_to_end(model), dirs.model)
print_outputs(dirs)
