"""Wall-time overhead of `GradientNormMonitor` on a small digits CNN.

Runs ``model.fit`` on scikit-learn's 8x8 digits with and without the monitor
(global and per-layer norms at every step, all checks on), alternating which
goes first, each on a fresh model, and prints the median ratio of the paired
fit times: whole ``fit`` (includes tracing the step function) and the
steady state (epochs after the first), in wall time and in process CPU time
(steadier when other processes share the cores). Target: at most 1.05.

    python bench/gradient_norm_overhead.py --repeats 5 --epochs 3
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from callbacks.gradient_norm import GradientNormMonitor  # noqa: E402


def digits():
    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    return x, data.target.astype("int32")


def build_cnn(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _clocks():
    return np.array([time.perf_counter(), time.process_time()])


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(_clocks())


def timed_fit(x, y, epochs, seed, monitor):
    """``{"fit": (wall, cpu), "steady": (wall, cpu)}`` seconds."""
    model = build_cnn(seed)
    timer = EpochTimer()
    callbacks = [timer] if monitor is None else [monitor, timer]
    start = _clocks()
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=callbacks)
    return {"fit": _clocks() - start, "steady": timer.ends[-1] - timer.ends[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--no-tensorboard",
        action="store_true",
        help="monitor with log_dir=None (no TensorBoard writes)",
    )
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the steady state needs 2 epochs)")
    x, y = digits()
    log_root = tempfile.mkdtemp(prefix="gradnorm_bench_")
    timed_fit(x, y, 1, 0, None)  # warm up TF and the data pipeline
    ratios = {key: [] for key in ("fit wall", "fit cpu", "steady wall", "steady cpu")}
    for repeat in range(args.repeats):
        log_dir = None if args.no_tensorboard else os.path.join(log_root, str(repeat))
        monitor = GradientNormMonitor(log_dir=log_dir, update_freq=1, layer_update_freq=1)
        runs = {}
        order = ("with", "without") if repeat % 2 == 0 else ("without", "with")
        for arm in order:
            runs[arm] = timed_fit(
                x, y, args.epochs, repeat, monitor if arm == "with" else None
            )
        line = []
        for part in ("fit", "steady"):
            for i, clock in enumerate(("wall", "cpu")):
                base, monitored = runs["without"][part][i], runs["with"][part][i]
                ratios[f"{part} {clock}"].append(monitored / base)
                line.append(f"{part} {clock} {base:.2f}s->{monitored:.2f}s")
        print(f"repeat {repeat}: " + ", ".join(line), flush=True)
    print(
        f"median ratio with/without monitor over {args.repeats} x {args.epochs} "
        f"epochs (tensorboard={not args.no_tensorboard}): "
        + ", ".join(f"{k} x{statistics.median(v):.3f}" for k, v in ratios.items())
    )


if __name__ == "__main__":
    main()
