"""Wall-time cost of the full monitoring stack on a short digits fit.

The digits recipe's model and callbacks (`recipes/digits_cnn.py`):
`cnn.simple` on scikit-learn's 8x8 digits, batch 32, 12 epochs, with
`fit(validation_data=...)`. Two arms, each fit in a fresh process (imports,
model building and data loading are not timed; building the callbacks and
the whole `fit`, tracing included, are), alternating which arm goes first:

- plain: `fit` with no callbacks but an epoch timer (two clock reads an
  epoch, in both arms);
- stack: the same fit with `SklearnMetrics(log_dir=...)`,
  `LearningRateLogger(log_dir=...)`, `GradientNormMonitor(log_dir=...,
  on_exploding="stop")`, Keras's `TensorBoard(log_dir=...,
  write_graph=False)`, `BackupAndRestore(...)` and
  `EarlyStopping(monitor="val_f1", mode="max", restore_best_weights=True)`,
  each with its default settings otherwise (the recipe's list; patience is
  set so that both arms train all 12 epochs).

It prints the median of the paired ratios stack / plain (target: at most
x1.10), their range, the extra seconds of the first epoch (tracing,
setup) and of each later epoch, and a per-callback breakdown from the
stack arm:
wall seconds spent inside each callback's hooks (for `SklearnMetrics`
also its scoring inside Keras's validation pass; a hook calling another
counts once), as a share of the plain fit, and the CPU seconds of the
thread in them (on a busy machine, what the callback itself costs). The
breakdown leaves out what a callback adds inside the compiled train step
(the gradient norms: see `bench/gradient_norm_overhead.py`). `--alone` adds one arm per callback
(plain fit + that callback alone) to the rotation.

    python bench/stack_overhead.py               # 5 pairs, 2-4 min on 2 cores
    python bench/stack_overhead.py --pairs 9 --alone
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 12
HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin",
         "on_test_end", "_add_validation_scores",
         "_back_up", "_restore_states", "_decide")  # the last three deferred
NAMES = ("SklearnMetrics", "LearningRateLogger", "GradientNormMonitor",
         "TensorBoard", "BackupAndRestore", "EarlyStopping")
# Parts of SklearnMetrics' time, shown under it.
PARTS = {"on_train_begin": "setup (head probe)", "_score": "scoring",
         "_write_images": "images"}


def make_stack(data, workdir, only=None):
    """The recipe's callbacks, all writing under `workdir`."""
    import keras

    import callbacks

    tensorboard = os.path.join(workdir, "tensorboard")
    makers = {
        "SklearnMetrics": lambda: callbacks.SklearnMetrics(
            (data.x_val, data.y_val), log_dir=tensorboard),
        "LearningRateLogger": lambda: callbacks.LearningRateLogger(
            log_dir=tensorboard),
        "GradientNormMonitor": lambda: callbacks.GradientNormMonitor(
            log_dir=tensorboard, on_exploding="stop"),
        "TensorBoard": lambda: keras.callbacks.TensorBoard(
            log_dir=tensorboard, write_graph=False),
        "BackupAndRestore": lambda: callbacks.BackupAndRestore(
            os.path.join(workdir, "backup")),
        "EarlyStopping": lambda: callbacks.EarlyStopping(
            monitor="val_f1", mode="max", patience=EPOCHS,
            restore_best_weights=True),
    }
    if only is not None:
        # EarlyStopping alone needs the key it watches.
        monitor = "val_loss" if only == "EarlyStopping" else None
        if monitor:
            return [callbacks.EarlyStopping(monitor=monitor, patience=EPOCHS,
                                            restore_best_weights=True)]
        return [makers[only]()]
    return [makers[name]() for name in NAMES]


def time_hooks(callback, spent, cpu):
    """Adds the wall seconds spent in `callback`'s hooks to `spent[name]`
    (and in parts of `SklearnMetrics` to `spent["SklearnMetrics: part"]`),
    and the CPU seconds of the calling thread to `cpu[name]`: on a busy
    machine the wall time also counts the time other processes hold the
    CPU, the thread's CPU time does not."""
    import keras

    name = type(callback).__name__
    spent.setdefault(name, 0.0)
    cpu.setdefault(name, 0.0)
    running = set()  # keys being timed: a hook calling another counts once

    def wrap(method, key):
        spent.setdefault(key, 0.0)
        cpu.setdefault(key, 0.0)

        def timed(*args, **kwargs):
            if key in running:
                return method(*args, **kwargs)
            running.add(key)
            start, start_cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start
                cpu[key] += time.thread_time() - start_cpu
                running.discard(key)

        return timed

    if name == "SklearnMetrics":
        for part, label in PARTS.items():
            setattr(callback, part, wrap(getattr(callback, part), f"{name}: {label}"))
    for hook in HOOKS:
        method = getattr(callback, hook, None)
        base = getattr(keras.callbacks.Callback, hook, None)
        if method is None or getattr(method, "__func__", None) is base:
            continue  # Keras skips hooks a callback does not override
        setattr(callback, hook, wrap(method, name))


def epoch_timer(seconds):
    """A callback appending each epoch's wall seconds to `seconds`."""
    import keras

    start = []
    return keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: start.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.append(
            time.perf_counter() - start[-1]))


def child(arm, seed):
    """One fit in this process; prints a JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    sys.path.insert(0, ROOT)
    import keras

    import callbacks  # noqa: F401 (imported in both arms, not timed)
    import zoo
    from zoo.data import load_dataset

    data = load_dataset("digits", seed=0)
    keras.utils.set_random_seed(seed)
    model = zoo.build("cnn.simple", input_shape=data.input_shape,
                      num_classes=data.num_classes, dropout=0.3)
    zoo.compile_model(model, task=data.task, optimizer="adam",
                      learning_rate=1e-3)
    spent, hooks_cpu, epochs = {}, {}, []
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter(), time.process_time()
        stack = [] if arm == "plain" else make_stack(
            data, workdir, None if arm == "stack" else arm)
        if arm == "stack":
            for callback in stack:
                time_hooks(callback, spent, hooks_cpu)
        history = model.fit(data.x_train, data.y_train,
                            validation_data=(data.x_val, data.y_val),
                            epochs=EPOCHS, batch_size=32,
                            callbacks=stack + [epoch_timer(epochs)], verbose=0)
        wall = time.perf_counter() - start[0]
        cpu = time.process_time() - start[1]
    print(json.dumps({"arm": arm, "wall": wall, "cpu": cpu, "hooks": spent, "hooks_cpu": hooks_cpu,
                      "epochs": len(history.epoch), "epoch_seconds": epochs}))


def run_child(arm, seed):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", arm,
         "--seed", str(seed)],
        check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load():
    """1-minute load average and CPU count, for the record."""
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--alone", action="store_true",
                        help="also one arm per callback alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.seed)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    print(f"start: {load()}", flush=True)
    arms = ["plain", "stack"] + (list(NAMES) if args.alone else [])
    runs = {arm: [] for arm in arms}
    for pair in range(args.pairs):
        order = arms[pair % len(arms):] + arms[:pair % len(arms)]
        for arm in order if pair % 2 == 0 else order[::-1]:
            runs[arm].append(run_child(arm, pair))
        ratio = runs["stack"][-1]["wall"] / runs["plain"][-1]["wall"]
        print(f"pair {pair + 1}: plain {runs['plain'][-1]['wall']:.2f} s, "
              f"stack {runs['stack'][-1]['wall']:.2f} s, x{ratio:.3f}",
              flush=True)
    epochs = {r["epochs"] for arm in arms for r in runs[arm]}
    if epochs != {EPOCHS}:
        print(f"warning: some fits ran {sorted(epochs)} epochs, not {EPOCHS}")

    def ratios(arm, key="wall"):
        return [s[key] / p[key] for s, p in zip(runs[arm], runs["plain"])]

    plain = statistics.median(r["wall"] for r in runs["plain"])
    wall, cpu = ratios("stack"), ratios("stack", "cpu")
    print(f"\nplain fit: median {plain:.2f} s ({EPOCHS} epochs, fresh process)")
    print(f"full stack / plain, median of {len(wall)} pairs: "
          f"x{statistics.median(wall):.3f} wall (pairs {min(wall):.3f}-"
          f"{max(wall):.3f}), x{statistics.median(cpu):.3f} CPU "
          f"(target: at most x1.10)")
    first = [s["epoch_seconds"][0] - p["epoch_seconds"][0]
             for s, p in zip(runs["stack"], runs["plain"])]
    later = [statistics.median(s["epoch_seconds"][1:])
             - statistics.median(p["epoch_seconds"][1:])
             for s, p in zip(runs["stack"], runs["plain"])]
    print(f"where: first epoch (tracing, setup) +{statistics.median(first):.2f} s, "
          f"each later epoch +{statistics.median(later):.3f} s (medians), "
          "the rest before the first and after the last epoch")
    print("\nper callback, time inside its hooks in the stack arm "
          "(median over fits; wall, % of the plain fit; CPU of the thread):")
    for name in NAMES:
        parts = [f"{name}: {label}" for label in PARTS.values()
                 ] if name == "SklearnMetrics" else []
        for key in [name] + parts:
            seconds, busy = (statistics.median(r.get(kind, {}).get(key, 0.0)
                                               for r in runs["stack"])
                             for kind in ("hooks", "hooks_cpu"))
            label = f"  {key:<20}" if key == name else f"    {key.split(': ')[1]:<18}"
            line = (f"{label} {seconds:6.3f} s  {100 * seconds / plain:5.1f}%"
                    f"   CPU {busy:6.3f} s")
            if args.alone and key == name:
                line += f"   alone: x{statistics.median(ratios(name)):.3f} wall"
            print(line)
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
