"""Search strategies on one task and budget: best validation loss after N trials.

Runs `zoo.tuning.run_search` with each strategy (grid, random, bayesian,
hyperband, lipo) on the same task: `mlp.baseline` on the breast-cancer
data, plain SGD, tuning the learning rate (1e-4 to 1, log scale), the L2
penalty (1e-6 to 1e-1, log scale) and the width (4 to 64 units), for
`--trials` trials of `--epochs` epochs (Hyperband: `max_epochs`, so most of
its trials train fewer epochs), repeated over `--seeds` seeds. Prints, per
strategy, the best `val_loss` found (mean, median, spread over the seeds)
and the epochs trained in all, as a Markdown table:

    python bench/search_strategies.py [--trials 12] [--epochs 4] [--seeds 3]

Grid search walks its grid in order (10 values per continuous range), so a
small budget covers a corner of it: that is what a grid costs, not a flaw
of the bench.
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

STRATEGIES = ("grid", "random", "bayesian", "hyperband", "lipo")
SPACE = {"learning_rate": (1e-4, 1.0, "log"), "l2": (1e-6, 1e-1, "log"), "width": (4, 64)}
FIXED = {"optimizer": "sgd", "depth": 1, "batch_size": 32}
# keras-tuner seeds its sampling with seed, seed + 1, ...: nearby seeds share
# most of their draws, so the repeats use seeds far apart.
SEED_STRIDE = 1000


def run(strategy, seed, trials, epochs, data, folder):
    import keras

    from zoo.tuning import ZooHyperModel, run_search

    keras.utils.set_random_seed(seed)
    hypermodel = ZooHyperModel("mlp.baseline", data.input_shape, data.num_classes, data.task,
                               space=SPACE, fixed=FIXED, defaults=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_search(hypermodel, strategy, "val_loss", trials, folder,
                            f"{strategy}-{seed}", data.x_train, data.y_train,
                            (data.x_val, data.y_val), epochs, seed=seed, progress=False)
    scores = [float(r["score"]) for r in result.rows if r["score"] not in ("", None)]
    epochs_run = sum(int(r["epochs"] or 0) for r in result.rows)
    return min(scores), epochs_run, len(result.rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args(argv)

    from zoo.data import load_dataset

    data = load_dataset("breast_cancer")
    seeds = [i * SEED_STRIDE for i in range(args.seeds)]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for strategy in args.strategies.split(","):
            start = time.monotonic()
            runs = [run(strategy, seed, args.trials, args.epochs, data, folder)
                    for seed in seeds]
            best = [r[0] for r in runs]
            rows.append((strategy, statistics.mean(best), statistics.median(best),
                         statistics.pstdev(best), min(best), max(best),
                         statistics.mean(r[1] for r in runs),
                         statistics.mean(r[2] for r in runs), time.monotonic() - start))
            print(f"{strategy}: best val_loss per seed {[round(b, 4) for b in best]}",
                  flush=True)
    print(f"\nmlp.baseline on breast_cancer, {args.trials} trials x {args.epochs} epochs, "
          f"seeds {seeds}; best val_loss (lower is better):\n")
    print("| strategy | mean | median | spread (sd) | best / worst seed | epochs trained "
          "| trials | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name, mean, median, sd, low, high, epochs, trials, seconds in rows:
        print(f"| {name} | {mean:.4f} | {median:.4f} | {sd:.4f} | {low:.4f} / {high:.4f} "
              f"| {epochs:.0f} | {trials:.0f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
