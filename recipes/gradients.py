"""Vanishing and exploding gradients: deep sigmoid vs tanh, ReLU+He, init scale, batch norm, residual; clipping.

Part 1: a 12-layer sigmoid MLP barely passes any gradient to its first
layer (vanishing); tanh passes far more and converges faster; ReLU with He
initialization, batch normalization and residual connections each fix it;
the ReLU net initialized too small vanishes too, too large explodes.
Part 2: the ReLU net fed unscaled pixels with a high learning rate
explodes; gradient clipping, by global norm or by value, tames it.
`GradientNormMonitor` records every layer's gradient norm at every step;
`ActivationStats` every layer's activations each epoch (dead ReLUs,
saturated sigmoid/tanh units), naming unhealthy layers in a warning.

    python -m recipes run gradients [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import keras
import numpy as np
from matplotlib.figure import Figure

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.core.files import save_figure
from zoo.data import load_dataset

args = parse_args(__doc__, epochs=20)
dirs = start(args)

# ## Data
# Digits in [0, 1]; part 2 also uses them unscaled (raw pixels, 0..16).
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=128, val=64)
print(data)
DEPTH, WIDTH = 12, 32


# ## Models
# The zoo MLP takes `activation`, `kernel_initializer` and `batch_norm`.
# It has no residual variant, so that one is written out in Keras: the same
# Dense layers and sigmoids, but each block adds its output to its input,
# `x + Dense(sigmoid(x))`, which gives the gradient an identity path around
# every layer (the "pre-activation" form of He et al., 2016).
def plain(activation, initializer, batch_norm=False):
    return zoo.build("mlp.baseline", input_shape=data.input_shape, num_classes=data.num_classes,
                     depth=DEPTH, width=WIDTH, activation=activation,
                     kernel_initializer=initializer, batch_norm=batch_norm)


def residual(activation):
    inputs = keras.Input(data.input_shape)
    x = keras.layers.Dense(WIDTH)(keras.layers.Flatten()(inputs))
    for _ in range(DEPTH - 1):
        branch = keras.layers.Dense(WIDTH)(keras.layers.Activation(activation)(x))
        x = keras.layers.Add()([x, branch])
    x = keras.layers.Activation(activation)(x)
    return keras.Model(inputs, keras.layers.Dense(data.num_classes, activation="softmax")(x))


# tanh is sigmoid rescaled, 2 * sigmoid(2x) - 1: centred on 0 and with a
# slope up to 1 instead of 0.25, so the gradient shrinks far less per layer.
# The ReLU net's initial weights set how the signal scales per layer: He's
# std, sqrt(2 / 32) = 0.25 here, keeps it; std 0.01 shrinks it ~25x per
# layer (vanishing), std 0.5 doubles it (2^12: exploding).
# Part 2 is the ReLU net again, on unscaled inputs and with a rate 10x too
# high. `global_clipnorm` rescales the whole gradient to norm <= 1 (same
# direction); `clipvalue` cuts every entry to [-0.01, 0.01] (the direction
# changes: the large entries lose the most).
# name: (model builder, input scale, learning rate, clipping options)
VARIANTS = {
    "sigmoid": (lambda: plain("sigmoid", "glorot_uniform"), 1, 0.03, {}),
    "tanh": (lambda: plain("tanh", "glorot_uniform"), 1, 0.03, {}),
    "relu_he": (lambda: plain("relu", "he_uniform"), 1, 0.03, {}),
    "init_too_small": (lambda: plain("relu", "random_normal(stddev=0.01)"), 1, 0.03, {}),
    "init_too_large": (lambda: plain("relu", "random_normal(stddev=0.5)"), 1, 0.03, {}),
    "sigmoid_batch_norm": (lambda: plain("sigmoid", "glorot_uniform", True), 1, 0.03, {}),
    "sigmoid_residual": (lambda: residual("sigmoid"), 1, 0.03, {}),
    "exploding": (lambda: plain("relu", "he_uniform"), 16, 0.3, {}),
    "exploding_clipped": (lambda: plain("relu", "he_uniform"), 16, 0.3, {"global_clipnorm": 1.0}),
    "exploding_clipvalue": (lambda: plain("relu", "he_uniform"), 16, 0.3, {"clipvalue": 0.01}),
}


# What the optimizer actually applied: the largest L2 norm of one step's
# change to the weights (with clipping, plain SGD moves at most lr * clipnorm).
class LargestUpdate(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.largest = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.before = [v.numpy() for v in self.model.trainable_variables]

    def on_train_batch_end(self, batch, logs=None):
        after = [v.numpy() for v in self.model.trainable_variables]
        with np.errstate(all="ignore"):  # inf - inf once it has exploded
            step = float(np.sqrt(sum(np.sum(np.square(a - b, dtype=np.float64))
                                     for a, b in zip(after, self.before))))
        self.largest = step if not np.isfinite(step) else max(self.largest, step)


# ## Training
# Plain SGD, so nothing rescales the gradients behind our back (Adam would
# divide the tiny ones by their own size). A global norm above 1000 counts
# as exploding; a layer below 1e-6 for 10 steps as vanishing.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
monitors = {}
for name, (build, scale, rate, clip) in VARIANTS.items():
    study.start(name)  # clears the Keras session and reseeds: same weights, same order
    model = zoo.compile_model(build(), task=data.task, optimizer="sgd", learning_rate=rate,
                              **clip)
    monitors[name] = monitor = callbacks.GradientNormMonitor(
        log_dir=study.log_dir(name), exploding_threshold=1e3,
        plot_path=dirs.report / f"gradients_{name}.png")
    update = LargestUpdate() if clip or scale > 1 else None  # copies weights every step
    activations = callbacks.ActivationStats(data.x_train[:256] * scale,
                                            log_dir=study.log_dir(name))
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    val = (data.x_val * scale, data.y_val)
    model.fit(data.x_train * scale, data.y_train, validation_data=val, epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  monitor,  # every layer's gradient norm at every step
                  keras.callbacks.TerminateOnNaN(),  # ends a run whose loss is NaN
                  *([update] if update else []),  # the largest step actually taken
                  callbacks.LearningRateLogger(),  # the rate in the history; Keras charts it
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  activations,  # after TensorBoard, which would chart its logs twice
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=val)
    # The monitor lists layers input side first: first hidden and output layer.
    summary = monitor.summary()
    layers = summary["layers"]
    for where, layer in (("first", list(layers)[0]), ("last", list(layers)[-1])):
        stats = layers[layer]
        print(f"{'':>22}{where} layer {layer:<16} min {stats['min']:.2e}  "
              f"median {stats['median']:.2e}  max {stats['max']:.2e}")
        run.row.update({f"{where}_layer_{k}": v for k, v in stats.items()})
    # Activations at the last epoch: how many layers have mostly dead ReLU
    # units or mostly saturated sigmoid/tanh outputs (the warning names them).
    flagged = activations.flagged
    run.row.update(
        dead_layers=sum("dead" in p for p in flagged.values()),
        saturated_layers=sum("saturated" in p for p in flagged.values()),
        max_dead_fraction=max((s.get("dead_fraction", 0.0)
                               for s in activations.stats.values()), default=None),
        max_saturated_fraction=max((s.get("saturated_fraction", 0.0)
                                    for s in activations.stats.values()), default=None))
    if flagged:
        print(f"{'':>22}activations: " + ", ".join(
            f"{layer} {'+'.join(problems)}" for layer, problems in flagged.items()))
    run.row.update(
        grad_norm_max=summary["global"]["max"],
        exploding_reports=sum(e["type"] != "vanishing" for e in monitor.events),
        vanishing_reports=sum(e["type"] == "vanishing" for e in monitor.events),
        largest_update=update.largest if update else None, input_scale=scale,
        learning_rate=rate, clipnorm=clip.get("global_clipnorm"),
        clipvalue=clip.get("clipvalue"))

# ## Comparison
# One PNG per variant (every layer over the steps, from the monitor) and one
# figure with the first layer (left) and the output layer (right) of all.
figure = Figure(figsize=(12, 4.2), layout="constrained")
axes = figure.subplots(1, 2, sharey=True)
for name, monitor in monitors.items():
    history = monitor.history
    norms = list(history["layer_norm"].values())
    for ax, series in zip(axes, (norms[0], norms[-1])):
        ax.plot(history["layer_step"], np.where(np.isfinite(series), series, np.nan),
                label=name, linewidth=0.8)
for ax, title in zip(axes, ("first hidden layer", "output layer")):
    ax.set(title=title, xlabel="training step", ylabel="gradient L2 norm", yscale="log")
    ax.grid(alpha=0.3)
axes[1].legend(fontsize="small")
save_figure(figure, dirs.report / "first_vs_last_layer.png", dpi=90)
study.plot(dirs.report / "curves.png", keys=("loss", "val_accuracy", "grad_norm"),
           log_y=("loss", "grad_norm"), title="Deep MLPs (12 layers) on digits")
study.save(dirs.report)

# No test-set score here: this study diagnoses training, it does not pick a model.
print_outputs(dirs)
