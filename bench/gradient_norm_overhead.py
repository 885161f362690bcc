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
import tensorflow as tf  # noqa: E402
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


HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_train_batch_end",
    "on_epoch_end",
    "on_train_end",
)


def time_hooks(monitor):
    """Accumulates the wall time spent inside ``monitor``'s hooks."""
    spent = [0.0]
    for name in HOOKS:

        def timed(*args, _method=getattr(monitor, name), **kwargs):
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(monitor, name, timed)
    return spent


def timed_fit(x, y, epochs, seed, monitor):
    """Seconds: whole fit and epochs 2.. (steady), wall and CPU; hooks."""
    model = build_cnn(seed)
    timer = EpochTimer()
    hooks = [0.0]
    callbacks = [timer]
    if monitor is not None:
        hooks = time_hooks(monitor)
        callbacks = [monitor, timer]
    start = _clocks()
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=callbacks)
    fit = _clocks() - start
    steady = timer.ends[-1] - timer.ends[0]
    return {
        "fit wall": fit[0],
        "fit cpu": fit[1],
        "steady wall": steady[0],
        "steady cpu": steady[1],
        "hooks wall": hooks[0],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--no-tensorboard",
        action="store_true",
        help="monitor with log_dir=None (no TensorBoard writes)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TensorFlow intra- and inter-op threads (0: TensorFlow's default); "
        "1 makes the CPU-time ratios steadier on a shared machine",
    )
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the steady state needs 2 epochs)")
    x, y = digits()
    log_root = tempfile.mkdtemp(prefix="gradnorm_bench_")
    timed_fit(x, y, 1, 0, None)  # warm up TF and the data pipeline
    runs = {"with": [], "without": []}
    for repeat in range(args.repeats):
        log_dir = None if args.no_tensorboard else os.path.join(log_root, str(repeat))
        monitor = GradientNormMonitor(log_dir=log_dir, update_freq=1, layer_update_freq=1)
        order = ("with", "without") if repeat % 2 == 0 else ("without", "with")
        for arm in order:
            runs[arm].append(
                timed_fit(x, y, args.epochs, repeat, monitor if arm == "with" else None)
            )
        base, monitored = runs["without"][-1], runs["with"][-1]
        print(
            f"repeat {repeat}: "
            + ", ".join(
                f"{k} {base[k]:.2f}s->{monitored[k]:.2f}s"
                for k in base
                if k != "hooks wall"
            )
            + f", monitor hooks {monitored['hooks wall']:.3f}s",
            flush=True,
        )
    print(
        f"{args.repeats} x {args.epochs} epochs, tensorboard={not args.no_tensorboard}, "
        f"threads={args.threads or 'default'}; "
        "ratios with/without the monitor:"
    )
    for key in ("fit wall", "fit cpu", "steady wall", "steady cpu"):
        paired = statistics.median(
            w[key] / wo[key] for w, wo in zip(runs["with"], runs["without"])
        )
        best = min(w[key] for w in runs["with"]) / min(w[key] for w in runs["without"])
        print(f"  {key:<12} median of paired ratios x{paired:.3f}, ratio of minima x{best:.3f}")
    share = statistics.median(
        w["hooks wall"] / wo["fit wall"] for w, wo in zip(runs["with"], runs["without"])
    )
    print(f"  time inside the monitor's hooks: {100 * share:.1f}% of the plain fit (median)")


if __name__ == "__main__":
    main()
