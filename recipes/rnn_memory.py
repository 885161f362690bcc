"""Recurrent memory: SimpleRNN vs LSTM vs GRU recalling the first token of a long sequence.

Every sequence starts with one of four markers, its label, followed by up to
199 random filler tokens (`zoo.data.make_memory_task`). To answer at the end
a recurrent net must carry the first token through every step, and the
gradient that teaches it to do so flows back through every step too: in a
SimpleRNN it is multiplied at each step by the recurrent weights and tanh's
slope, and vanishes (Bengio et al., 1994); the LSTM's and GRU's gated,
additive state lets it through (Hochreiter & Schmidhuber, 1997; Cho et al.,
2014). Table: test accuracy by sequence length, gradient norms per layer
(`GradientNormMonitor`) and per time step (the loss's gradient with respect
to each input step); plots of both.

    python -m recipes run rnn_memory [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import json

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study
from zoo.core.files import save_figure, write_text
from zoo.data import first_marker, load_dataset, make_memory_task

args = parse_args(__doc__, epochs=15)
dirs = start(args)

# ## Data
# Lengths are uniform in 5..200, padded with 0 at the end. The short ones
# matter: on 50..200 tokens alone neither the LSTM nor the GRU left chance
# in 10 epochs here, because at the start even they forget (the LSTM's
# forget gate starts near sigmoid(1) = 0.73, and 0.73^50 ~ 1e-7). What a
# short sequence teaches, a cell that can hold its state carries over to
# the long ones.
MIN_LEN, MAX_LEN = 5, 200
data = load_dataset("memory", seed=args.seed, num_samples=400 if args.quick else 3000,
                    min_len=MIN_LEN, max_len=MAX_LEN)
assert (first_marker(data.x_train) == data.y_train).all()  # the label is the first token
print(data)


# Each token becomes a one-hot step; padding (id 0) becomes an all-zero step,
# which the models skip (`mask_value=0`), so a sequence ends where it ends.
# Continuous steps, not an Embedding, so that the loss can be differentiated
# with respect to every input step below.
def one_hot(tokens):
    return np.eye(data.vocab_size, dtype="float32")[tokens][..., 1:]


x_train, x_val, x_test = one_hot(data.x_train), one_hot(data.x_val), one_hot(data.x_test)


# ## Models
# One recurrent layer of 32 units and a softmax head; only the cell changes.
# Adam, and `global_clipnorm` as usual for RNNs: what vanishes through time
# in one direction can explode in the other (Pascanu et al., 2013).
def make_model(cell):
    model = zoo.build(f"rnn.{cell}", input_shape=x_train.shape[1:],
                      num_classes=data.num_classes, width=32, mask_value=0.0)
    return zoo.compile_model(model, optimizer="adam", learning_rate=1e-2, global_clipnorm=1.0)


# The gradient through time: the norm of d(loss)/d(input step t), averaged
# over sequences of the full length. Step 1 holds the marker; the answer
# comes after step 200. A vanishing gradient is a tiny norm at step 1.
probe_tokens, probe_labels = make_memory_task(
    128, min_len=MAX_LEN, max_len=MAX_LEN, seed=args.seed + 1)
probe = tf.constant(one_hot(probe_tokens))
loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="sum")


def gradient_through_time(model):
    with tf.GradientTape() as tape:
        tape.watch(probe)
        loss = loss_fn(probe_labels, model(probe))
    return np.linalg.norm(tape.gradient(loss, probe).numpy(), axis=-1).mean(axis=0)


def kept_over_100_steps(curve):  # step 10's gradient over step 110's
    return float(curve[9] / curve[109]) if curve[109] > 0 else None


# ## Training
# Same seed, data order and epoch budget for each cell. The callbacks: a
# timer for the table, per-layer gradient norms (to the table and
# TensorBoard), Keras's curves, a backup so a killed run resumes where it
# stopped, and a stop once the task is solved.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
through_time = {}
for cell in ("simple_rnn", "lstm", "gru"):
    study.start(cell)  # clears the Keras session and reseeds
    model = make_model(cell)
    at_init = gradient_through_time(model)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / cell))
    monitor = callbacks.GradientNormMonitor(log_dir=study.log_dir(cell))
    # The task has an exact answer, so a target is natural: stop as soon as
    # 99% of the validation sequences are right (patience = the whole budget:
    # nothing else stops it).
    stop = callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                   stopping_threshold=0.99, patience=args.epochs)
    model.fit(x_train, data.y_train, validation_data=(x_val, data.y_val), epochs=args.epochs,
              batch_size=32, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch
                  monitor,  # gradient norm of every layer at every step
                  keras.callbacks.TensorBoard(study.log_dir(cell), write_graph=False),
                  backup,  # a killed run, rerun, resumes this cell
                  stop,  # at 99% validation accuracy
              ])
    run = study.record(cell, model, backup.history, timer, validation_data=(x_val, data.y_val))
    through_time[cell] = (at_init, gradient_through_time(model))

    # ## Evaluation
    # Test accuracy per length band: does the answer survive a longer wait?
    lengths = (data.x_test != 0).sum(axis=1)
    correct = model.predict(x_test, verbose=0).argmax(axis=1) == data.y_test
    run.row["test_accuracy"] = float(correct.mean())
    for low, high in ((5, 49), (50, 99), (100, 149), (150, 200)):
        band = (lengths >= low) & (lengths <= high)
        run.row[f"acc_len_{low}_{high}"] = float(correct[band].mean()) if band.any() else None
    # Median gradient norm per layer over training (the monitor's summary);
    # the gradient at the marker's step and at the last step after training;
    # and how much of it survives 100 steps back (step 10 over step 110),
    # before and after training.
    for layer, stats in monitor.summary()["layers"].items():
        kind = "head" if layer.startswith("head") else "rnn"
        run.row[f"grad_{kind}_median"] = stats["median"]
    trained = through_time[cell][1]
    run.row.update(grad_step1=float(trained[0]), grad_step200=float(trained[-1]),
                   kept_100_steps_init=kept_over_100_steps(at_init),
                   kept_100_steps=kept_over_100_steps(trained),
                   stopped_by=stop.stop_reason)

study.save(dirs.report)

# ## Plots
# Left: before training, the gradient reaching step t falls exponentially
# with its distance from the answer, in every cell (a straight line on a log
# scale; the GRU's drops below float32's range). Right: after training, the
# cells that learned to remember pass it back through the sequence with
# little loss (flat curves until the last steps; low, because their loss is
# near 0), while the SimpleRNN's still falls by orders of magnitude.
figure = Figure(figsize=(12, 4.2), layout="constrained")
axes = figure.subplots(1, 2, sharey=True)
steps = np.arange(1, MAX_LEN + 1)
for cell, curves in through_time.items():
    for ax, curve in zip(axes, curves):
        ax.plot(steps, np.maximum(curve, 1e-30), label=cell)
for ax, title in zip(axes, ("before training", "after training")):
    ax.set(title=f"Gradient through time, {title}", xlabel="input step t (the marker is step 1)",
           ylabel="||d loss / d x_t||", yscale="log")
    ax.grid(alpha=0.3)
axes[1].legend()
save_figure(figure, dirs.report / "gradient_through_time.png", dpi=90)
write_text(dirs.report / "gradient_through_time.json", json.dumps(
    {cell: {"init": a.tolist(), "trained": b.tolist()} for cell, (a, b) in through_time.items()}))
study.plot(dirs.report / "curves.png", keys=("loss", "val_accuracy", "grad_norm"),
           log_y=("loss", "grad_norm"), title="Remembering the first token (lengths 5-200)")
print_outputs(dirs)
