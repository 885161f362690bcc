"""Choice of loss: MSE vs cross-entropy on a sigmoid/softmax net, from a normal and a saturated start.

With the quadratic cost the output layer's gradient carries the derivative
of its activation, so a saturated output (probability near 0 or 1, and
wrong) learns very slowly; cross-entropy cancels that derivative and the
gradient is just `output − target`. The same MLP (sigmoid hidden layer,
softmax head) is trained with `loss="mse"` and with cross-entropy, from
its normal initial weights and from a start whose head bias makes it
answer "0" with near certainty for every digit. Loss curves and the
output layer's gradient norm (from `GradientNormMonitor`) side by side.

    python -m recipes run losses [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import keras
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.core.files import save_figure
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=20)
dirs = start(args)

# ## Data
# The 8x8 digits, with one-hot labels: the quadratic cost compares the ten
# probabilities with a one-hot row, and so does categorical cross-entropy.
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=128, val=64)
print(data)
y_train, y_val = (keras.utils.to_categorical(y, data.num_classes)
                  for y in (data.y_train, data.y_val))

# ## The variants
# name: (loss given to zoo.compile_model, saturated start?)
VARIANTS = {
    "mse": ("mse", False),
    "cross_entropy": ("categorical_crossentropy", False),
    "mse_saturated": ("mse", True),
    "cross_entropy_saturated": ("categorical_crossentropy", True),
}
SATURATING_BIAS = 10.0  # on class 0: softmax gives it ~0.999 for every input


# ## Model
# One hidden layer of 32 sigmoids and the softmax head. The saturated start
# sets the head's bias to (10, 0, ..., 0), so 90% of the digits start out
# confidently wrong, on the flat part of the softmax.
def make_model(loss, saturated):
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=1, width=32, activation="sigmoid",
                      kernel_initializer="glorot_uniform")
    if saturated:
        head = model.get_layer("head_multiclass")
        head.bias.assign(np.eye(data.num_classes)[0] * SATURATING_BIAS)
    # Plain SGD: Adam would rescale the small gradients and hide the effect.
    return zoo.compile_model(model, optimizer="sgd", learning_rate=0.5, one_hot=True,
                             loss=loss)


# ## Training
# Same initial weights and batches for every variant; the monitor records
# every layer's gradient norm at every step.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
monitors = {}
for name, (loss, saturated) in VARIANTS.items():
    study.start(name)  # clears the Keras session and reseeds: same weights, same order
    model = make_model(loss, saturated)
    monitors[name] = monitor = callbacks.GradientNormMonitor(log_dir=study.log_dir(name))
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(data.x_train, y_train, validation_data=(data.x_val, y_val), epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  monitor,  # every layer's gradient norm at every step
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=(data.x_val, y_val))
    head = monitor.history["layer_norm"]["head_multiclass"]
    run.row.update(loss_function=loss, saturated_start=saturated,
                   output_grad_norm_first_step=head[0],
                   output_grad_norm_median=float(np.median(head)))

# ## Comparison
# Left: the training loss of each variant relative to its first epoch (MSE
# and cross-entropy have different scales). Middle: validation accuracy.
# Right: the output layer's gradient norm at every step. From the saturated
# start MSE's gradient is ~1000x smaller than cross-entropy's and its loss
# barely moves; from the normal start both learn.
figure = Figure(figsize=(15, 4.2), layout="constrained")
loss_ax, accuracy_ax, gradient_ax = figure.subplots(1, 3)
for run in study.runs:
    style = "--" if VARIANTS[run.name][1] else "-"
    epochs = np.arange(1, len(run.history["loss"]) + 1)
    loss_ax.plot(epochs, np.asarray(run.history["loss"]) / run.history["loss"][0], style,
                 label=run.name)
    accuracy_ax.plot(epochs, run.history["val_accuracy"], style, label=run.name)
    history = monitors[run.name].history
    gradient_ax.plot(history["layer_step"], history["layer_norm"]["head_multiclass"], style,
                     label=run.name, linewidth=0.8)
loss_ax.set(title="training loss / first epoch's", xlabel="epoch", yscale="log")
accuracy_ax.set(title="validation accuracy", xlabel="epoch", ylim=(0, 1))
gradient_ax.set(title="output layer gradient L2 norm", xlabel="training step", yscale="log")
for ax in (loss_ax, accuracy_ax, gradient_ax):
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
gradient_ax.legend(fontsize="small")
save_figure(figure, dirs.report / "losses.png", dpi=90)
study.save(dirs.report)

# No test-set score: this study shows how each loss trains, it picks no model.
print_outputs(dirs)
