"""Test accuracy of the zoo's models trained with their recipes' settings.

Each model runs in its own process, seeded, exactly as its recipe runs
(``python -m recipes run NAME --log-dir DIR --seed S``); the MNIST-1D MLP and
CNN, which have no recipe, train with the same steps and helpers in
``train_zoo_model`` below. The test accuracy is read back from the run's
``report.json``. Printed beside it: the target, the published MNIST-1D
figure (Greydanus, 2020, "Scaling down deep learning": logistic regression
32%, MLP 68%, CNN 94%, GRU 91% test accuracy) and scikit-learn baselines
fitted on the very same splits (SVC on digits, logistic regression on
MNIST-1D, ridge regression on diabetes). A markdown table comes out.

Every model here trains on 3,400 of MNIST-1D's 4,000 training sequences
(600 are the validation split that decides early stopping); the published
models used all 4,000. The test split is MNIST-1D's own 1,000 sequences.

Times are wall seconds of the whole run on this machine: start-up (Python,
TensorFlow, data generation), training and evaluation for the Keras rows;
fit plus predict for the scikit-learn rows.

    python bench/accuracy.py                     # every run: 15 min on 2 idle cores
    python bench/accuracy.py --only mnist1d_gru digits_cnn --seed 1
"""

import argparse
import dataclasses
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")


@dataclasses.dataclass(frozen=True)
class Run:
    data: str
    model: str          # what is trained, as shown in the table
    recipe: str = None  # a recipe name, or None for `train_zoo_model` / scikit-learn
    metric: str = "accuracy"
    target: float = None
    reference: str = "-"  # published figure or chance level
    zoo_settings: dict = None  # for `train_zoo_model`
    sklearn: str = None        # for `sklearn_baseline`


RUNS = {
    "digits_cnn": Run("digits", "cnn.simple", recipe="digits_cnn", target=0.99),
    "digits_svc": Run("digits", "scikit-learn SVC (RBF)", sklearn="svc"),
    "mnist1d_logistic": Run("mnist1d", "scikit-learn LogisticRegression",
                            sklearn="logistic", reference="32% (published)"),
    "mnist1d_mlp": Run("mnist1d", "mlp.baseline", reference="68% (published)",
                       zoo_settings=dict(model="mlp.baseline",
                                         options=dict(depth=3, width=256, dropout=0.2),
                                         epochs=100, batch_size=64, learning_rate=1e-3)),
    "mnist1d_cnn": Run("mnist1d", "cnn.fcn1d", target=0.98, reference="94% (published)",
                       zoo_settings=dict(model="cnn.fcn1d",
                                         options=dict(depth=3, width=64, dropout=0.1),
                                         epochs=60, batch_size=64, learning_rate=3e-3)),
    "mnist1d_gru": Run("mnist1d", "Conv1D windows + rnn.gru", recipe="mnist1d_rnn",
                       target=0.95, reference="91% (published)"),
    "mnist1d_transformer": Run("mnist1d", "Conv1D patches + transformer.timeseries",
                               recipe="mnist1d_transformer", target=0.95),
    "tokens_transformer": Run("tokens", "transformer.text", recipe="tokens_transformer",
                              reference="chance 25%"),
    "diabetes_mlp": Run("diabetes", "mlp.baseline", recipe="diabetes_regression",
                        metric="r2"),
    "diabetes_ridge": Run("diabetes", "scikit-learn RidgeCV", sklearn="ridge", metric="r2"),
}


def train_zoo_model(name, logdir, seed):
    """A recipe's steps for a zoo model that has no recipe of its own."""
    import keras

    import callbacks
    import zoo
    from recipes.common import start
    from zoo.data import load_dataset
    from zoo.evaluation import evaluate

    s = RUNS[name].zoo_settings
    dirs = start(argparse.Namespace(seed=seed, log_dir=logdir))
    data = load_dataset(RUNS[name].data, seed=seed)
    model = zoo.build(s["model"], input_shape=data.input_shape,
                      num_classes=data.num_classes, **s["options"])
    steps = s["epochs"] * math.ceil(len(data.x_train) / s["batch_size"])
    learning_rate = keras.optimizers.schedules.CosineDecay(
        s["learning_rate"] / 10, decay_steps=steps, warmup_target=s["learning_rate"],
        warmup_steps=steps // 20, alpha=0.01)
    zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=learning_rate)
    # The callbacks of the recipes (see recipes/mnist1d_rnn.py for why each).
    tb = str(dirs.tensorboard)
    watch = [callbacks.SklearnMetrics(data.val, log_dir=tb), callbacks.LearningRateLogger(),
             callbacks.GradientNormMonitor(log_dir=tb, on_exploding="stop"),
             keras.callbacks.TensorBoard(log_dir=tb, write_graph=False),
             callbacks.BackupAndRestore(str(dirs.backup)),
             callbacks.EarlyStopping(monitor="val_f1", mode="max", restore_best_weights=True,
                                     start_from_epoch=s["epochs"] // 2, patience=s["epochs"] // 4)]
    history = model.fit(*data.train, validation_data=data.val, epochs=s["epochs"],
                        batch_size=s["batch_size"], callbacks=watch, verbose=2)
    print(evaluate(model, data.x_test, data.y_test, log_dir=dirs.report,
                   history=history, class_names=data.class_names))


def sklearn_baseline(run, seed):
    """Fit a scikit-learn model on the same train split; score the test split."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.svm import SVC

    from zoo.data import load_dataset

    data = load_dataset(run.data, seed=seed)
    x_train, x_test = (x.reshape(len(x), -1) for x in (data.x_train, data.x_test))
    model = {"svc": lambda: SVC(),
             "logistic": lambda: LogisticRegression(max_iter=2000),
             "ridge": lambda: RidgeCV(alphas=np.logspace(-3, 3, 13))}[run.sklearn]()
    start = time.perf_counter()
    pred = model.fit(x_train, data.y_train).predict(x_test)
    seconds = time.perf_counter() - start
    score = r2_score if run.metric == "r2" else accuracy_score
    return float(score(data.y_test, pred)), seconds


def keras_run(name, run, seed, logdir):
    """Run a recipe (or `train_zoo_model`) in a fresh process; read its report."""
    if run.recipe:
        command = [sys.executable, "-m", "recipes", "run", run.recipe]
    else:
        command = [sys.executable, str(pathlib.Path(__file__).resolve()), "--train", name]
    command += ["--log-dir", str(logdir), "--seed", str(seed)]
    log = logdir.with_suffix(".log")
    start = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.call(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"{name} failed (exit code {code}); see {log}")
    report = json.loads((logdir / "report" / "report.json").read_text())
    return report[run.metric], seconds, report["training"]["epochs"]


def startup_seconds():
    """Wall time of importing TensorFlow, Keras and the zoo in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import keras, callbacks, zoo, zoo.evaluation"],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def _score(value, metric):
    return f"{value:.4f}" if metric == "r2" else f"{100 * value:.1f}%"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(RUNS), metavar="NAME",
                        help=f"runs to do (default all): {', '.join(RUNS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-dir", "--logdir", dest="log_dir", default=None,
                        help="where the runs write (default: a temporary folder)")
    parser.add_argument("--train", choices=[n for n, r in RUNS.items() if r.zoo_settings],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train:
        train_zoo_model(args.train, args.log_dir, args.seed)
        return
    root = pathlib.Path(args.log_dir or tempfile.mkdtemp(prefix="bench_accuracy_"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.only or RUNS:
        run = RUNS[name]
        if run.sklearn:
            (value, seconds), epochs = sklearn_baseline(run, args.seed), "-"
        else:
            value, seconds, epochs = keras_run(name, run, args.seed, root / name)
        met = "" if run.target is None else (" (met)" if value >= run.target else " (MISSED)")
        target = "-" if run.target is None else f">= {_score(run.target, run.metric)}{met}"
        rows.append(f"| {name} | {run.data} | {run.model} | {run.metric} | "
                    f"{_score(value, run.metric)} | {target} | {run.reference} | {epochs} | "
                    f"{seconds:.0f} |")
        print(f"{name}: {run.metric} {_score(value, run.metric)} in {seconds:.0f} s",
              file=sys.stderr, flush=True)
    print(f"\nSeed {args.seed}; runs in {root}; start-up of a Keras process (imports "
          f"only) on this machine now: {startup_seconds():.0f} s.\n")
    print("| run | data | model | metric | test score | target | reference | epochs | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
