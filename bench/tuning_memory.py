"""Process memory over a keras-tuner search: does it grow from trial to trial?

Runs a random search of `--trials` trials of a tiny `mlp.baseline` on the
breast-cancer data (with `callbacks.SklearnMetrics`, as the CLI does) and
reads the resident set size (`VmRSS` in `/proc/self/status`) at the end of
every trial. Prints one line per trial and the growth after the warm-up:

    python bench/tuning_memory.py [--trials 20] [--warmup 5]

The last line is `growth_mb=<RSS(last trial) - RSS(after warm-up)>`.
"""

import argparse
import os
import tempfile

from _memory import rss_mb  # bench/_memory.py: the script's folder is on sys.path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    import keras

    import callbacks
    from zoo.data import load_dataset
    from zoo.tuning import ZooHyperModel, run_search

    samples = []

    class RecordRSS(keras.callbacks.Callback):
        # Shared, not copied, by keras-tuner's per-trial deepcopy.
        def __deepcopy__(self, memo):
            return self

        def on_train_end(self, logs=None):
            samples.append(rss_mb())
            print(f"trial {len(samples):>3}: rss {samples[-1]:8.1f} MB", flush=True)

    data = load_dataset("breast_cancer")
    x, y = data.x_train[:160], data.y_train[:160]
    val = (data.x_val[:80], data.y_val[:80])
    hypermodel = ZooHyperModel(
        "mlp.baseline", data.input_shape, data.num_classes, data.task,
        space={"width": [8, 16], "depth": (1, 2), "learning_rate": (1e-3, 1e-1, "log"),
               "optimizer": ["adam", "sgd", "rmsprop"]},
        fixed={"batch_size": 32}, defaults=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_search(hypermodel, "random", "val_f1", args.trials, tmp, "memory", x, y, val,
                   args.epochs, callbacks=[callbacks.SklearnMetrics(val), RecordRSS()],
                   seed=1, progress=False)
    base = samples[min(args.warmup, len(samples)) - 1]
    print(f"trials={len(samples)} warmup={args.warmup} rss_after_warmup_mb={base:.1f} "
          f"rss_last_mb={samples[-1]:.1f} peak_mb={max(samples):.1f}")
    print(f"growth_mb={samples[-1] - base:.1f}")


if __name__ == "__main__":
    main()
