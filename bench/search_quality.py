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
  same `ZooHyperModel`, from the values Optuna suggests, asked in the order
  keras-tuner declares them), reporting `val_loss` at every epoch and
  stopping a trial when the pruner says so (optuna-integration's Keras
  callback, the last epoch included).

Apples to apples: every arm trains a trial's model with the same seed,
drawn from (seed, the trial's hyperparameter values), on the same data, so
the same values give the same curve in every arm; the best is the best
epoch's `val_loss` of the completed trials (pruned ones excluded, as
`study.best_value` does). Each (arm, seed) search runs in a fresh process,
arms alternated within a seed. Strategy seeds are `seed * 1000`
(keras-tuner seeds its draws with seed, seed + 1, ...: nearby seeds would
share most of them); `run_search` hands keras-tuner `seed + 1` (it reads 0
as "no seed"), so Optuna's sampler gets `seed * 1000 + 1`, the seed
`TpeOracle`'s sampler gets. Wall time is the search alone (no start-up).
Prints, per arm, the median over seeds of the best validation loss, of
the wall time, of the CPU time of the process (steadier than wall time on
a busy machine) and of the trials pruned, as a Markdown table, then
whether `tpe` tried the same trials as Optuna and its time against
Optuna's, seed by seed:

    python bench/search_quality.py                 # 5 arms x 3 seeds: ~15-20 min on 2 busy cores
    python bench/search_quality.py --quick         # smoke test: 4 trials x 2 epochs, 1 seed
                                                   # (`tpe` models after 2 trials there, Optuna after 10)
    python bench/search_quality.py --arms tpe,optuna --seeds 0 1 2 3 4
"""

import argparse
import hashlib
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


def _hypermodel(data, seed):
    import keras

    from zoo.tuning import ZooHyperModel

    class Seeded(ZooHyperModel):
        """Each trial's model seeded from (seed, its values): same values, same curve."""

        def build(self, hp):
            values = json.dumps([seed, sorted(hp.values.items())], default=str)
            keras.utils.set_random_seed(int(hashlib.sha256(values.encode()).hexdigest()[:8], 16))
            return super().build(hp)

    return Seeded("mlp.baseline", data.input_shape, data.num_classes, data.task,
                  space=SPACE, fixed=FIXED, defaults=False)


def _trials(values):
    """The learning rates of the trials, in order, rounded: to compare arms."""
    return [float(f"{float(v):.6g}") for v in values]


def run_package(arm, seed, trials, epochs, data, folder):
    from zoo.tuning import run_search

    start, cpu = time.monotonic(), time.process_time()
    result = run_search(_hypermodel(data, seed), arm, "val_loss", trials, folder,
                        f"{arm}-{seed}", data.x_train, data.y_train, data.val, epochs,
                        prune=True, seed=seed * SEED_STRIDE, progress=False)
    wall, cpu = time.monotonic() - start, time.process_time() - cpu
    rows = sorted(result.rows, key=lambda r: int(r["trial_id"]))
    return dict(best=result.best["score"], wall=wall, cpu=cpu, pruned=result.counts["PRUNED"],
                epochs=sum(int(r["epochs"] or 0) for r in rows),
                trials=_trials(r["learning_rate"] for r in rows))


def run_optuna(seed, trials, epochs, data):
    import keras
    import keras_tuner as kt
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    hypermodel = _hypermodel(data, seed)
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
        hp.values.update({  # in the order the hypermodel declares them
            "width": trial.suggest_categorical("width", SPACE["width"]),
            "depth": trial.suggest_int("depth", 1, 3),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "optimizer": trial.suggest_categorical("optimizer", SPACE["optimizer"]),
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True),
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

    declared = kt.HyperParameters()
    hypermodel.build(declared)
    assert [h.name for h in declared.space] == ["width", "depth", "dropout", "optimizer",
                                                "learning_rate"], declared.space
    start, cpu = time.monotonic(), time.process_time()
    sampler = optuna.samplers.TPESampler(seed=seed * SEED_STRIDE + 1)
    study = optuna.create_study(direction="minimize", sampler=sampler,
                                pruner=optuna.pruners.MedianPruner())
    study.optimize(objective, n_trials=trials)
    wall, cpu = time.monotonic() - start, time.process_time() - cpu
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return dict(best=study.best_value, wall=wall, cpu=cpu, pruned=pruned, epochs=sum(trained),
                trials=_trials(t.params["learning_rate"] for t in study.trials))


def one(arm, seed, trials, epochs):
    """One search in this process; its figures as a dict."""
    import keras

    from zoo.data import load_dataset

    data = load_dataset("breast_cancer")
    keras.utils.set_random_seed(seed)  # each trial reseeds (see `_hypermodel`)
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
                  f"{result['wall']:6.1f} s  CPU {result['cpu']:6.1f} s  "
                  f"pruned {result['pruned']:>2}  "
                  f"epochs {result['epochs']}", flush=True)

    def median(arm, key):
        return statistics.median(r[key] for r in runs[arm])

    print(f"\n`mlp.baseline` on breast_cancer, {args.trials} trials x {args.epochs} epochs, "
          f"objective val_loss, seeds {' '.join(map(str, args.seeds))} (medians over seeds)\n")
    print("| arm | best val_loss (median) | per seed | wall s (median) | vs Optuna "
          "| CPU s (median) | vs Optuna | trials pruned (median) | epochs trained (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arm in runs:
        ratios = [f"{median(arm, k) / median('optuna', k):.2f}x" if runs.get("optuna") else "-"
                  for k in ("wall", "cpu")]
        name = "Optuna TPE + MedianPruner" if arm == "optuna" else f"zoo `{arm}` + pruning"
        per_seed = ", ".join(f"{r['best']:.4f}" for r in runs[arm])
        print(f"| {name} | {median(arm, 'best'):.4f} | {per_seed} | {median(arm, 'wall'):.1f} "
              f"| {ratios[0]} | {median(arm, 'cpu'):.1f} | {ratios[1]} "
              f"| {median(arm, 'pruned'):g} | {median(arm, 'epochs'):g} |")
    if runs.get("tpe") and runs.get("optuna"):
        same = [sum(a == b for a, b in zip(t["trials"], o["trials"]))
                for t, o in zip(runs["tpe"], runs["optuna"])]
        print(f"\n`tpe` tried the same trials as Optuna (same learning rate at the same "
              f"trial number), per seed: {', '.join(f'{n}/{args.trials}' for n in same)}")
        for key in ("wall", "cpu"):
            paired = [t[key] / o[key] for t, o in zip(runs["tpe"], runs["optuna"])]
            print(f"`tpe` / Optuna {key} time, per seed: "
                  f"{', '.join(f'{r:.2f}' for r in paired)}; median {statistics.median(paired):.2f}")


if __name__ == "__main__":
    main()
