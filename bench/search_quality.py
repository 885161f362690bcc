"""Search quality on one budget: the package's strategies against Optuna's own loop.

Every arm tunes `mlp.baseline` on the breast-cancer data (objective
`val_loss`, minimized; a trial's score is its best epoch's `val_loss`) over
the same space: learning rate 1e-4..1e-1 on a log scale, width 32/64/128/256,
depth 1..3, dropout 0..0.5, optimizer adam/sgd; `--trials` trials of
`--epochs` epochs, batch 32:

- `random`, `bayesian`, `lipo` (if present), `tpe`: `zoo.tuning.run_search`
  with the package's median pruning (`prune=True`);
- `optuna`: plain Optuna, `TPESampler(seed=...)` with `MedianPruner()`, its
  own `study.optimize` loop training the same Keras model (built by the
  same `ZooHyperModel`, from the values Optuna suggests), reporting
  `val_loss` at every epoch and stopping a trial when the pruner says so.

Each (arm, seed) search runs in a fresh process, arms alternated within a
seed, and `keras.utils.set_random_seed(seed)` first. Strategy seeds are
`seed * 1000` (keras-tuner seeds its draws with seed, seed + 1, ...: nearby
seeds would share most of them). Wall time is the search alone (no
start-up). Prints, per arm, the median over seeds of the best validation
loss, of the wall time and of the trials pruned, as a Markdown table:

    python bench/search_quality.py                 # 5 arms x 3 seeds: ~15 min on 2 busy cores
    python bench/search_quality.py --quick         # smoke test: 4 trials x 2 epochs, 1 seed
    python bench/search_quality.py --arms tpe,optuna --seeds 0 1 2 3 4
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

PACKAGE_ARMS = ("random", "bayesian", "lipo", "tpe")
SPACE = {"learning_rate": (1e-4, 1e-1, "log"), "width": [32, 64, 128, 256], "depth": (1, 3),
         "dropout": (0.0, 0.5), "optimizer": ["adam", "sgd"]}
FIXED = {"batch_size": 32}
SEED_STRIDE = 1000


def _hypermodel(data):
    from zoo.tuning import ZooHyperModel

    return ZooHyperModel("mlp.baseline", data.input_shape, data.num_classes, data.task,
                         space=SPACE, fixed=FIXED, defaults=False)


def run_package(arm, seed, trials, epochs, data, folder):
    from zoo.tuning import run_search

    start = time.monotonic()
    result = run_search(_hypermodel(data), arm, "val_loss", trials, folder, f"{arm}-{seed}",
                        data.x_train, data.y_train, data.val, epochs, prune=True,
                        seed=seed * SEED_STRIDE, progress=False)
    wall = time.monotonic() - start
    return dict(best=result.best["score"], wall=wall, pruned=result.counts["PRUNED"],
                epochs=sum(int(r["epochs"] or 0) for r in result.rows))


def run_optuna(seed, trials, epochs, data):
    import keras
    import keras_tuner as kt
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    hypermodel = _hypermodel(data)
    trained = []

    class Report(keras.callbacks.Callback):
        """Optuna's pruning loop for Keras (optuna-integration's callback, in short)."""

        def __init__(self, trial):
            super().__init__()
            self.trial, self.pruned = trial, False

        def on_epoch_end(self, epoch, logs=None):
            self.trial.report(float(logs["val_loss"]), epoch)
            if self.trial.should_prune():
                self.pruned = self.model.stop_training = True

    def objective(trial):
        hp = kt.HyperParameters()
        hp.values.update({
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True),
            "width": trial.suggest_categorical("width", SPACE["width"]),
            "depth": trial.suggest_int("depth", 1, 3),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "optimizer": trial.suggest_categorical("optimizer", SPACE["optimizer"]),
        })
        keras.backend.clear_session()  # as keras-tuner does before each build
        model = hypermodel.build(hp)
        report = Report(trial)
        history = hypermodel.fit(hp, model, data.x_train, data.y_train, validation_data=data.val,
                                 epochs=epochs, verbose=0, callbacks=[report])
        trained.append(len(history.history["val_loss"]))
        if report.pruned:
            raise optuna.TrialPruned()
        return min(history.history["val_loss"])

    start = time.monotonic()
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed * SEED_STRIDE),
                                pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, n_trials=trials)
    wall = time.monotonic() - start
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return dict(best=study.best_value, wall=wall, pruned=pruned, epochs=sum(trained))


def one(arm, seed, trials, epochs):
    """One search in this process; its figures as a dict."""
    import keras

    from zoo.data import load_dataset

    data = load_dataset("breast_cancer")
    keras.utils.set_random_seed(seed)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as folder:
        warnings.simplefilter("ignore")
        if arm == "optuna":
            return run_optuna(seed, trials, epochs, data)
        return run_package(arm, seed, trials, epochs, data, folder)


def _arms(requested):
    from zoo.tuning import STRATEGIES

    arms = [a for a in requested.split(",") if a]
    return [a for a in arms if a == "optuna" or a in STRATEGIES]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", default=",".join(PACKAGE_ARMS + ("optuna",)))
    parser.add_argument("--quick", action="store_true", help="4 trials x 2 epochs, seed 0")
    parser.add_argument("--one", nargs=2, metavar=("ARM", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.epochs, args.seeds = 4, 2, [0]
    if args.one:
        arm, seed = args.one[0], int(args.one[1])
        print(json.dumps(one(arm, seed, args.trials, args.epochs)), flush=True)
        return

    arms = _arms(args.arms)
    runs = {arm: [] for arm in arms}
    for seed in args.seeds:
        for arm in arms:  # alternated, so a busy spell hits every arm alike
            out = subprocess.run(
                [sys.executable, __file__, "--one", arm, str(seed), "--trials", str(args.trials),
                 "--epochs", str(args.epochs)], capture_output=True, text=True, check=False)
            if out.returncode:
                sys.exit(f"{arm} seed {seed} failed:\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs[arm].append(result)
            print(f"seed {seed} {arm:<9} best val_loss {result['best']:.4f}  "
                  f"{result['wall']:6.1f} s  pruned {result['pruned']:>2}  "
                  f"epochs {result['epochs']}", flush=True)

    reference = statistics.median(r["wall"] for r in runs["optuna"]) if runs.get("optuna") else None
    print(f"\n`mlp.baseline` on breast_cancer, {args.trials} trials x {args.epochs} epochs, "
          f"objective val_loss, seeds {' '.join(map(str, args.seeds))} (medians over seeds)\n")
    print("| arm | best val_loss (median) | per seed | wall s (median) | vs Optuna time "
          "| trials pruned (median) | epochs trained (median) |")
    print("|---|---|---|---|---|---|---|")
    for arm, results in runs.items():
        best = statistics.median(r["best"] for r in results)
        wall = statistics.median(r["wall"] for r in results)
        ratio = f"{wall / reference:.2f}x" if reference else "-"
        name = "Optuna TPE + MedianPruner" if arm == "optuna" else f"zoo `{arm}` + pruning"
        per_seed = ", ".join(f"{r['best']:.4f}" for r in results)
        print(f"| {name} | {best:.4f} | {per_seed} "
              f"| {wall:.1f} | {ratio} | {statistics.median(r['pruned'] for r in results):g} "
              f"| {statistics.median(r['epochs'] for r in results):g} |")


if __name__ == "__main__":
    main()
