"""Ensemble of five seeds: one MLP trained from five random starts, their averaged probabilities vs each alone.

Training the same network from different random initial weights (and
batch orders) gives models that score differently and err on partly
different samples. Averaging their predicted probabilities
(`zoo.evaluation.evaluate_ensemble`) scores at least as well as a typical
member, most clearly in log loss (which is convex, so the ensemble's is
never above the members' mean). The table has each seed's test accuracy
and log loss, their mean and spread (how much the score owes to the seed),
and the ensemble's.

    python -m recipes run ensemble [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import json

import keras
import numpy as np
from sklearn.metrics import log_loss

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.core.files import write_text
from zoo.data import load_dataset
from zoo.evaluation import evaluate, evaluate_ensemble

args = parse_args(__doc__, epochs=30)
dirs = start(args)

# ## Data
# The 8x8 digits. The five models are all scored on the test split; nothing
# is chosen on it.
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=128, val=64, test=128)
print(data)
SEEDS = [args.seed + i for i in range(5)]


# ## Model
# A small MLP (one hidden layer of 32 ReLUs): small enough that its seeds
# disagree on a fair number of digits.
def make_model():
    model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                      num_classes=data.num_classes, depth=1, width=32)
    return zoo.compile_model(model, optimizer="adam", learning_rate=1e-3)


# ## Training
# One variant per seed: `study.start` reseeds with `study.seed`, which we
# set to the variant's own seed first.
study = Study(dirs, monitor="val_accuracy", mode="max")
members = []
for seed in SEEDS:
    name = f"seed_{seed}"
    study.seed = seed
    study.start(name)
    model = make_model()
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    model.fit(*data.train, validation_data=data.val, epochs=args.epochs, batch_size=32,
              verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, model, backup.history, timer, validation_data=data.val)
    probs = model.predict(data.x_test, verbose=0)
    report = evaluate(model, data.x_test, data.y_test)
    run.row.update(seed=seed, test_accuracy=report["accuracy"],
                   test_log_loss=log_loss(data.y_test, probs, labels=range(data.num_classes)))
    members.append(model)
study.save(dirs.report)

# ## The ensemble
# The mean of the five models' probabilities, scored like one model (report
# and plots in report/ensemble/).
ensemble = evaluate_ensemble(members, data.x_test, data.y_test, log_dir=dirs.report / "ensemble",
                             class_names=data.class_names)
mean_probs = np.mean([m.predict(data.x_test, verbose=0) for m in members], axis=0)
singles = study.rows()
summary = {"models": len(members)}
for key in ("test_accuracy", "test_log_loss"):
    values = np.array([row[key] for row in singles])
    summary[key] = {"single_mean": float(values.mean()), "single_std": float(values.std()),
                    "single_min": float(values.min()), "single_max": float(values.max())}
summary["test_accuracy"]["ensemble"] = float(ensemble["accuracy"])
summary["test_log_loss"]["ensemble"] = float(
    log_loss(data.y_test, mean_probs, labels=range(data.num_classes)))
write_text(dirs.report / "ensemble.json", json.dumps(summary, indent=2))
print(f"\n{'':16}{'single models: mean ± std (min .. max)':>44}   ensemble of {len(members)}")
for key, label in (("test_accuracy", "test accuracy"), ("test_log_loss", "test log loss")):
    s = summary[key]
    print(f"{label:<16}{s['single_mean']:>14.4f} ± {s['single_std']:.4f} "
          f"({s['single_min']:.4f} .. {s['single_max']:.4f})   {s['ensemble']:.4f}")
print_outputs(dirs)
