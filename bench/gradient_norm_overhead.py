"""Wall-time overhead of `GradientNormMonitor` on a small digits CNN.

Trains on scikit-learn's 8x8 digits (batch 32, 57 steps an epoch, a few
milliseconds a step: a model this small is the hard case, since the
monitor's cost per step is fixed) with and without the monitor, global and
per-layer norms at every step, all checks on. Two measurements, each a
median over paired runs that alternate which arm goes first:

- steady: the same models (already traced) fit ``--epochs`` more epochs in
  turn, many times over (short runs in quick rotation keep the pairs close
  in time, which matters on a shared machine); the per-epoch cost of the
  monitor. A third arm, the plain fit plus
  a callback whose ``on_train_batch_end`` does nothing, separates the
  monitor's own cost from Keras's: any batch hook makes Keras call the
  callbacks in the training thread instead of its background thread pool
  (the monitor has one only with ``--on-exploding stop``);
- fresh: a new model (and monitor) per run, ``--fresh-epochs`` epochs,
  tracing included; what one training run pays.

Two component figures are steadier than whole fits: the share of a plain
fit's time spent inside the monitor's hooks, and the step function alone
(called in a tight loop, with and without the in-graph norm ops, blocks of
57 steps in alternation).

Ratios of wall time and of process CPU time (steadier when other processes
share the cores) are printed with the quartiles of the paired ratios (their
spread is the machine's noise); the target is at most x1.05 wall.
``--on-exploding stop`` is the recipes' setting (one small read a step, and
a cond that skips non-finite updates); ``--no-xla`` compiles without
XLA, as under ``enable_op_determinism`` (the recipes). The backend is
Keras's (``KERAS_BACKEND``); on JAX the step function alone is the jitted
``model.train_step`` on a fixed list of batches, with and without the
wrapped ``stateless_apply``.

    python bench/gradient_norm_overhead.py
    python bench/gradient_norm_overhead.py --on-exploding stop --no-xla
    KERAS_BACKEND=jax python bench/gradient_norm_overhead.py
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
from callbacks._gradient_step import StepFunctionSwap  # noqa: E402
from callbacks.gradient_capture import GradientCapture  # noqa: E402
from callbacks.gradient_norm import GradientNormMonitor  # noqa: E402

HOOKS = ("on_train_begin", "on_epoch_begin", "on_train_batch_end", "on_epoch_end",
         "on_train_end")


def digits():
    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    return x, data.target.astype("int32")


def build_cnn(seed, jit_compile="auto"):
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
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    return model


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def timed_fit(model, x, y, epochs, callbacks, timer=None):
    """(wall, CPU) seconds of one ``fit``."""
    callbacks = callbacks + ([timer] if timer else [])
    start = np.array([time.perf_counter(), time.process_time()])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=callbacks)
    return np.array([time.perf_counter(), time.process_time()]) - start


class BatchHook(keras.callbacks.Callback):
    """Does nothing, at every batch end."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def time_hooks(monitor):
    """Makes ``monitor`` add the wall seconds spent in its hooks to a list."""
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


def step_function_ratio(x, y, jit_compile, skip_non_finite, repeats=40):
    """Median paired ratio of 57 calls of the traced step function with the
    capture's ops over 57 without (no callbacks, no fit loop)."""
    arms = {}
    for arm in ("with", "without"):
        model = build_cnn(0, jit_compile)
        model.fit(x[:64], y[:64], epochs=1, verbose=0)
        if arm == "with":
            capture = GradientCapture(model.optimizer, 1e-6, None, model_name=model.name,
                                      skip_non_finite=skip_non_finite)
            capture.wrap()
            StepFunctionSwap(model).install([capture])
        arms[arm] = step_caller(model, x, y)
        for _ in range(20):
            arms[arm]()
    seconds = {"with": [], "without": []}
    for repeat in range(repeats):
        for arm in ("with", "without") if repeat % 2 == 0 else ("without", "with"):
            start = time.perf_counter()
            for _ in range(57):
                loss = arms[arm]()
            float(loss)
            seconds[arm].append(time.perf_counter() - start)
    return statistics.median(w / wo for w, wo in zip(seconds["with"], seconds["without"]))


def step_caller(model, x, y):
    """A function running one training step of ``model``'s traced step
    function on the next batch; returns the loss (not waited for)."""
    if keras.backend.backend() == "jax":
        import jax

        batches = [(jax.device_put(x[i:i + 32]), jax.device_put(y[i:i + 32]))
                   for i in range(0, len(x) - 31, 32)]
        state = [model._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                                      optimizer_variables=True, metrics_variables=True)]
        step = jax.jit(model.train_step, donate_argnums=0)
        count = [0]

        def call():
            count[0] += 1
            logs, state[0] = step(state[0], batches[count[0] % len(batches)])
            return logs["loss"]

        return call
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32).repeat().prefetch(2)
    function, iterator = model.train_function, iter(data)
    return lambda: function(iterator)["loss"]


def paired(runs, arm, base):
    """Quartiles over repeats of arm/base, for wall and CPU."""
    return [
        statistics.quantiles([w[i] / wo[i] for w, wo in zip(runs[arm], runs[base])], n=4)
        for i in (0, 1)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=45, help="steady runs per arm")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per steady run")
    parser.add_argument("--fresh-repeats", type=int, default=11, help="fresh runs per arm")
    parser.add_argument("--fresh-epochs", type=int, default=8, help="epochs per fresh run")
    parser.add_argument("--on-exploding", choices=["warn", "stop"], default="warn",
                        help="'stop' also reads the alarm counter every step")
    parser.add_argument("--no-tensorboard", action="store_true",
                        help="monitor with log_dir=None (no TensorBoard writes)")
    parser.add_argument("--no-xla", action="store_true", help="compile with jit_compile=False")
    args = parser.parse_args()
    jit_compile = False if args.no_xla else "auto"
    x, y = digits()
    log_root = tempfile.mkdtemp(prefix="gradnorm_bench_")

    def monitor(name):
        log_dir = None if args.no_tensorboard else os.path.join(log_root, name)
        return GradientNormMonitor(
            log_dir=log_dir, update_freq=1, layer_update_freq=1,
            on_exploding=args.on_exploding,
        )

    arms = ("with", "without", "batch hook")
    models = {arm: build_cnn(0, jit_compile) for arm in arms}
    callbacks = {"with": [monitor("steady")], "without": [], "batch hook": [BatchHook()]}
    hook_seconds = time_hooks(callbacks["with"][0])
    for arm in arms:  # trace the step functions
        timed_fit(models[arm], x, y, 1, callbacks[arm])

    steady = {arm: [] for arm in arms}
    hook_seconds[0] = 0.0
    for repeat in range(args.repeats):
        for k in range(len(arms)):
            arm = arms[(repeat + k) % len(arms)]
            steady[arm].append(timed_fit(models[arm], x, y, args.epochs, callbacks[arm]))
    fresh = {"with": [], "without": []}
    first_epoch = {"with": [], "without": []}
    later_epochs = {"with": [], "without": []}
    for repeat in range(args.fresh_repeats):
        for arm in ("with", "without") if repeat % 2 == 0 else ("without", "with"):
            model = build_cnn(repeat, jit_compile)
            arm_callbacks = [monitor(f"fresh{repeat}")] if arm == "with" else []
            timer = EpochTimer()
            fresh[arm].append(timed_fit(model, x, y, args.fresh_epochs, arm_callbacks, timer))
            first_epoch[arm].append(timer.seconds[0])
            later_epochs[arm] += timer.seconds[1:]
        print(f"fresh {repeat}: {fresh['without'][-1][0]:.2f}s without, "
              f"{fresh['with'][-1][0]:.2f}s with the monitor", flush=True)

    print(f"\nbackend {keras.backend.backend()}, "
          f"monitor on_exploding={args.on_exploding!r}, "
          f"tensorboard={not args.no_tensorboard}, XLA={not args.no_xla}; "
          "ratio with/without the monitor, median [quartiles] of the pairs:")
    for name, runs, epochs, base in (
        ("steady", steady, args.epochs, "without"),
        ("steady", steady, args.epochs, "batch hook"),
        ("fresh fit", fresh, args.fresh_epochs, "without"),
    ):
        wall, cpu = paired(runs, "with", base)
        plain = statistics.median(r[0] for r in runs[base])
        print(f"  {name:<9} {len(runs[base]):>2} x {epochs} epochs vs {base:<10} "
              f"({plain:.2f}s): wall x{wall[1]:.3f} [{wall[0]:.3f}-{wall[2]:.3f}], "
              f"CPU x{cpu[1]:.3f} [{cpu[0]:.3f}-{cpu[2]:.3f}]")
    # Pooled medians shrug off the stalls of a shared machine, which hit
    # single epochs of either arm.
    later = [statistics.median(later_epochs[arm]) for arm in ("with", "without")]
    first = [statistics.median(first_epoch[arm]) for arm in ("with", "without")]
    print(f"  fresh fit epochs 2-{args.fresh_epochs}: median epoch {later[1]:.3f}s without, "
          f"{later[0]:.3f}s with: x{later[0] / later[1]:.3f}")
    print(f"  fresh fit epoch 1 (tracing the step function): median {first[1]:.2f}s "
          f"without, {first[0]:.2f}s with")
    plain_total = sum(r[0] for r in steady["without"])
    print(f"  inside the monitor's hooks: {100 * hook_seconds[0] / plain_total:.1f}% "
          "of the plain steady fits' time")
    ratio = step_function_ratio(x, y, jit_compile, args.on_exploding != "warn")
    print(f"  step function alone, with / without the norm ops: x{ratio:.3f}")


if __name__ == "__main__":
    main()
