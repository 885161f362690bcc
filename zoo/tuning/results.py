"""What a search leaves on disk, rewritten after every trial.

In the project folder (`log_dir/project_name`):

- `trials.csv`: one row per trial: `trial_id`, `status` (`COMPLETED`,
  `PRUNED`, `FAILED`, `RUNNING`), `score`, `best_epoch`, `epochs`,
  `duration_seconds`, `pruned_epoch`, then one column per hyperparameter.
  A pruned trial's `score` is the best value of its partial curve, reached
  at `best_epoch`; it stopped after epoch `pruned_epoch`. `epochs` counts
  the epochs a trial trained; `best_epoch` and `pruned_epoch` are 0-based
  and, for a Hyperband trial that goes on training an earlier trial's model
  from epoch `tuner/initial_epoch`, count from that model's first epoch.
- `best_hyperparameters.json`: the best completed trial (a pruned trial is
  never the best, whatever its partial score), its tuned and fixed values.
- `best_model.keras`: the best trial's model at its best epoch; loads with
  `keras.saving.load_model(path)` (safe mode, no `custom_objects`) once
  `zoo` is imported.
- `tensorboard/`: the HParams dashboard (see `zoo.tuning.hparams`).

Every file is written to a temporary name, then renamed, so a killed search
never leaves half a file.
"""

import csv
import io
import json
import os
import warnings

from zoo.core.files import atomic_path, write_text
from zoo.tuning import hparams
from zoo.tuning import trials as trials_lib

CSV_NAME = "trials.csv"
BEST_JSON_NAME = "best_hyperparameters.json"
BEST_MODEL_NAME = "best_model.keras"
TENSORBOARD_NAME = "tensorboard"
_FIXED_COLUMNS = ("trial_id", "status", "score", "best_epoch", "epochs",
                  "duration_seconds", "pruned_epoch")


def _round(value, digits=6):
    return None if value is None else round(float(value), digits)


def trial_row(trial, objective):
    """The CSV row of one trial, as a dict."""
    epochs = trials_lib.curve(trial, objective.name)
    row = {
        "trial_id": trial.trial_id,
        "status": trials_lib.trial_status(trial),
        "score": None if trial.score is None else float(trial.score),
        "best_epoch": trial.best_step if trial.score is not None else None,
        "epochs": len(epochs),
        "duration_seconds": _round(trials_lib.duration(trial), 3),
        "pruned_epoch": trials_lib.pruned_epoch(trial),
    }
    row.update(trial.hyperparameters.values)
    return row


def counts(rows):
    """`{status: number of trials}` for every status, plus `total`."""
    out = {s: 0 for s in (trials_lib.COMPLETED, trials_lib.PRUNED, trials_lib.FAILED,
                          trials_lib.RUNNING)}
    for row in rows:
        out[row["status"]] += 1
    out["total"] = len(rows)
    return out


def to_csv(rows):
    columns = list(_FIXED_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buf.getvalue()


def _scored(rows, objective):
    """Scored rows, best first: completed trials, then pruned ones (`trials.ranking_key`)."""
    done = [r for r in rows if r["score"] is not None
            and r["status"] in (trials_lib.COMPLETED, trials_lib.PRUNED)]
    return sorted(done, key=lambda r: trials_lib.ranking_key(r["status"], r["score"],
                                                             objective.direction))


def summary_table(rows, objective, top=10):
    """A printable table of the `top` trials, best first, and the counts.

    Completed trials rank first; pruned ones follow, with the epochs they
    trained."""
    n = counts(rows)
    lines = [
        f"Objective: {objective.name} ({objective.direction}). Trials: {n['total']} "
        f"({n['COMPLETED']} completed, {n['PRUNED']} pruned, {n['FAILED']} failed"
        + (f", {n['RUNNING']} running" if n["RUNNING"] else "") + ")."
    ]
    ranked = _scored(rows, objective)[:top]
    if not ranked:
        return "\n".join(lines + ["No trial has a score yet."])
    lines.append(f"{'rank':>4}  {'trial':<6} {'status':<9} {'score':>10} {'epochs':>6} "
                 f"{'seconds':>8}  hyperparameters")
    for rank, row in enumerate(ranked, 1):
        hps = ", ".join(f"{k}={_short(v)}" for k, v in row.items()
                        if k not in _FIXED_COLUMNS and not str(k).startswith("tuner/"))
        seconds = "" if row["duration_seconds"] is None else f"{row['duration_seconds']:.1f}"
        lines.append(f"{rank:>4}  {row['trial_id']:<6} {row['status']:<9} {row['score']:>10.4f} "
                     f"{row['epochs']:>6} {seconds:>8}  {hps}")
    return "\n".join(lines)


def _short(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class SearchResults:
    """Writes the files of a search (see the module doc) from its oracle.

    Args:
        project_dir: the project folder.
        info: JSON-ready facts about the job (model, strategy, fixed
            values...) copied into `best_hyperparameters.json`.
    """

    def __init__(self, project_dir, info=None):
        self.project_dir = os.fspath(project_dir)
        self.info = dict(info or {})
        self.rows = []  # as last written
        self._trial_runs = None  # hparams.TrialRuns, made with the tuner's objective
        self.paths = {
            "csv": os.path.join(self.project_dir, CSV_NAME),
            "best_hyperparameters": os.path.join(self.project_dir, BEST_JSON_NAME),
            "best_model": os.path.join(self.project_dir, BEST_MODEL_NAME),
            "tensorboard": os.path.join(self.project_dir, TENSORBOARD_NAME),
        }

    def get_config(self):
        return {"project_dir": self.project_dir, "info": dict(self.info)}

    def _runs(self, tuner):
        if self._trial_runs is None:
            self._trial_runs = hparams.TrialRuns(self.paths["tensorboard"],
                                                 tuner.oracle.objective,
                                                 self.info.get("fixed"))
        return self._trial_runs

    def on_search_begin(self, tuner):
        os.makedirs(self.paths["tensorboard"], exist_ok=True)
        self._runs(tuner).clear_legacy()

    def on_trial_begin(self, tuner, trial):
        """Start the trial's TensorBoard run (`zoo.tuning.hparams`)."""
        self._runs(tuner).begin(trial)

    def on_epoch_end(self, tuner, trial, epoch, metrics):
        """Add one epoch to the trial's TensorBoard curves, flushed."""
        self._runs(tuner).epoch(trial, epoch, metrics)

    def on_trial_end(self, tuner, trial, model=None):
        """End the trial's TensorBoard run (score, status), then write every
        summary file.

        `model`: the model just trained for `trial`, saved if it is the
        new best (no rebuild).
        """
        self._runs(tuner).end(trial)
        return self.write(tuner, {trial.trial_id: model} if model is not None else None)

    def write(self, tuner, models=None):
        """Rewrite the CSV, the best JSON and (if the best changed) the model.

        `models`: `{trial_id: trained model}` at hand, to save without a rebuild.
        """
        objective = tuner.oracle.objective
        all_trials = trials_lib.all_trials(tuner.oracle)
        rows = [trial_row(t, objective) for t in all_trials]
        write_text(self.paths["csv"], to_csv(rows))
        self.rows = rows
        ranked = _scored(rows, objective)
        # Only a completed trial is the best: a pruned one never trained to the end.
        if ranked and ranked[0]["status"] == trials_lib.COMPLETED:
            best = next(t for t in all_trials if t.trial_id == ranked[0]["trial_id"])
            self._write_best(tuner, best, rows, (models or {}).get(best.trial_id))
        return rows

    def best(self):
        """The content of `best_hyperparameters.json`, or None."""
        try:
            with open(self.paths["best_hyperparameters"], encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def _write_best(self, tuner, trial, rows, model):
        objective = tuner.oracle.objective
        previous = self.best() or {}
        model_saved = previous.get("model_trial_id")
        if model_saved != trial.trial_id or not os.path.exists(self.paths["best_model"]):
            model_saved = trial.trial_id if self._save_model(tuner, trial, model) else None
        tuned = {k: v for k, v in trial.hyperparameters.values.items()
                 if not k.startswith("tuner/")}
        best = dict(
            self.info,
            objective=objective.name,
            direction=objective.direction,
            trial_id=trial.trial_id,
            score=float(trial.score),
            best_epoch=trial.best_step,
            hyperparameters=dict(tuned, **self.info.get("fixed", {})),
            tuned=tuned,
            trials=counts(rows),
            model_trial_id=model_saved,
            model_file=BEST_MODEL_NAME if model_saved else None,
        )
        write_text(self.paths["best_hyperparameters"], json.dumps(best, indent=2) + "\n")

    def _save_model(self, tuner, trial, model):
        try:
            model = tuner.best_model_from(trial, model)
        except (OSError, ValueError) as e:
            # A distributed worker may not see another worker's checkpoint.
            warnings.warn(f"Could not load the model of best trial {trial.trial_id}: {e}")
            return False
        with atomic_path(self.paths["best_model"]) as tmp:
            model.save(tmp)
        return True
