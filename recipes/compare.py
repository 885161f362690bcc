"""Compare the variants of a study recipe: timings, a results table, plots.

What the study recipes (optimizers, lr_schedules, gradients, batch_size,
regularization) share besides their story. The recipe trains each variant
itself, with its callbacks in view; ``Study`` only starts and records:

- ``Study.start(name)`` checks the variant's name, clears the Keras session
  (same layer names in every variant) and reseeds, so every variant starts
  from the same initial weights and sees the batches in the same order;
- ``EpochTimer`` is a callback that times every epoch (validation too);
- ``Study.record`` keeps the trained model, its history and times, and its
  validation scores; ``Study.log_dir(name)`` is the variant's TensorBoard
  folder (``<tensorboard>/<variant>/train`` and ``.../validation``), so the
  variants overlay in one TensorBoard view.

``Study.plot`` overlays the variants' curves, ``Study.plot_train_val``
draws train against validation per variant, and ``Study.save`` prints the
results table (one row per variant) and writes it as JSON, CSV and
Markdown. ``subset`` cuts a data set down for ``--quick`` runs.

Example:

```python
study = Study(dirs, monitor="val_accuracy", seed=args.seed)
for name, rate in {"slow": 1e-3, "fast": 1e-2}.items():
    study.start(name)
    model, timer = make_model(rate), EpochTimer()
    history = model.fit(*data.train, validation_data=data.val, epochs=10,
                        callbacks=[timer]).history
    study.record(name, model, history, timer, validation_data=data.val)
study.plot(dirs.report / "curves.png", keys=("loss", "val_loss"))
rows = study.save(dirs.report)
best = study.best()
```
"""

import csv
import dataclasses
import io
import json
import math
import re
import statistics
import time

import keras
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from zoo.core.checks import renamed_arguments
from zoo.core.files import save_figure, write_text
from zoo.evaluation import evaluate
from zoo.evaluation.figures import history_dict

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclasses.dataclass
class Run:
    """One trained variant: its model, ``History`` values and epoch times.

    ``scores`` are the returned model's validation metrics (``val_loss``,
    ``val_accuracy``, ...): the last epoch's weights, or the best epoch's if
    a callback such as ``EarlyStopping(restore_best_weights=True)`` put them
    back. ``row`` holds extra table columns the recipe adds.
    """

    name: str
    model: object
    history: dict = dataclasses.field(default_factory=dict)
    epoch_seconds: list = dataclasses.field(default_factory=list)
    validation_seconds: list = dataclasses.field(default_factory=list)
    scores: dict = dataclasses.field(default_factory=dict)
    row: dict = dataclasses.field(default_factory=dict)

    @property
    def seconds(self):
        return sum(self.epoch_seconds)

    @property
    def seconds_per_epoch(self):
        """Median epoch time, the first epoch left out (it includes tracing)."""
        return _median_after_first(self.epoch_seconds)

    @property
    def train_seconds_per_epoch(self):
        """As ``seconds_per_epoch``, without the time spent on validation."""
        train = [e - v for e, v in zip(self.epoch_seconds, self.validation_seconds)]
        return _median_after_first(train)

    def best_epoch(self, monitor, mode="max"):
        """1-based epoch of the best finite ``monitor`` value, or None."""
        values = np.asarray(self.history.get(monitor, []), dtype=float)
        if not np.isfinite(values).any():
            return None
        values = np.where(np.isfinite(values), values, -np.inf if mode == "max" else np.inf)
        return int(np.argmax(values) if mode == "max" else np.argmin(values)) + 1

    def best_value(self, monitor, mode="max"):
        """``(epoch, value)`` of the best finite ``monitor`` value, or ``(None, None)``."""
        epoch = self.best_epoch(monitor, mode)
        return (epoch, self.history[monitor][epoch - 1]) if epoch else (None, None)

    def epochs_to(self, monitor, target, mode="max"):
        """1-based epoch in which ``monitor`` first reached ``target``, or None."""
        for epoch, value in enumerate(self.history.get(monitor, []), start=1):
            if (value >= target) if mode == "max" else (value <= target):
                return epoch
        return None

    def seconds_to(self, monitor, target, mode="max"):
        """Wall seconds from the start until ``monitor`` first reached ``target``."""
        epoch = self.epochs_to(monitor, target, mode)
        return None if epoch is None else sum(self.epoch_seconds[:epoch])


class EpochTimer(keras.callbacks.Callback):
    """Record each epoch's wall seconds, and how many of them validation took.

    Keras's ``History`` has no times. The first epoch includes tracing.

    Example:

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> timer = EpochTimer()
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, verbose=0, callbacks=[timer])
    >>> len(timer.epoch_seconds), len(timer.validation_seconds)
    (2, 2)
    """

    def __init__(self):
        super().__init__()
        self.epoch_seconds, self.validation_seconds = [], []
        self._validation = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._validation = time.perf_counter(), 0.0

    def on_test_begin(self, logs=None):
        self._test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        self._validation += time.perf_counter() - self._test_start

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)
        self.validation_seconds.append(self._validation)


class Study:
    """Variants of one experiment: started alike, recorded, compared.

    Args:
        dirs: the recipe's ``RunDirs`` (from ``recipes.common.start``).
        monitor: the validation key that ranks the variants.
        mode: ``"max"`` or ``"min"``: whether a larger ``monitor`` is better.
        seed: seed set before each variant is built and trained.
    """

    def __init__(self, dirs, monitor="val_accuracy", mode="max", seed=0):
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        self.dirs, self.monitor, self.mode, self.seed = dirs, monitor, mode, seed
        self.runs = []

    def log_dir(self, name):
        """The TensorBoard folder of variant ``name``."""
        return str(self.dirs.tensorboard / name)

    def start(self, name):
        """Check variant ``name``, clear the Keras session and reseed.

        Call it before building the variant's model: every variant then gets
        the same layer names, the same initial weights and the same batch
        order. The models of earlier variants stay usable.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"Variant name must be letters, digits, '_', '.' or '-'; got {name!r}.")
        if any(run.name == name for run in self.runs):
            raise ValueError(f"Variant {name!r} was already trained in this study.")
        keras.backend.clear_session()
        keras.utils.set_random_seed(self.seed)

    def record(self, name, model, history, timer, validation_data=None):
        """Keep a trained variant; print a line about it and return its ``Run``.

        Args:
            name: the name given to ``start``.
            model: the trained model.
            history: its per-epoch logs (``{key: [value per epoch]}``), e.g.
                ``callbacks.BackupAndRestore(...).history``, which covers the
                epochs before a resume too; ``None`` values become NaN.
            timer: the ``EpochTimer`` that trained with it.
            validation_data: an ``(x, y)`` pair scored with ``model.evaluate``
                for ``Run.scores``.
        """
        run = Run(name, model, epoch_seconds=list(timer.epoch_seconds),
                  validation_seconds=list(timer.validation_seconds))
        # history_dict rejects an empty history (no epoch ran), which stays {}.
        run.history = history_dict(history) if history else {}
        if validation_data is not None:
            scores = model.evaluate(*validation_data, verbose=0, return_dict=True)
            run.scores = {f"val_{k}": float(v) for k, v in scores.items()}
        self.runs.append(run)
        best, value = run.best_value(self.monitor, self.mode)
        best_text = f"best {self.monitor} {value:.4g} at epoch {best}" if best \
            else f"no finite {self.monitor}"
        print(f"{name:>20}: {len(run.epoch_seconds)} epochs in {run.seconds:.1f} s, {best_text}")
        return run

    def best(self):
        """The run whose returned model scores best on ``monitor`` (validation)."""
        scored = [(r.scores[self.monitor], r) for r in self.runs
                  if math.isfinite(r.scores.get(self.monitor, math.nan))]
        if not scored:
            raise ValueError(f"No run has a finite {self.monitor!r} score.")
        pick = max if self.mode == "max" else min
        return pick(scored, key=lambda pair: pair[0])[1]

    @renamed_arguments(out_dir="log_dir")
    def report_best(self, data, log_dir):
        """Save the results table to ``log_dir`` (``save``), pick the best run
        on validation (``best``), evaluate it once on the test split of
        ``data`` (files in ``log_dir / "test"``), print and return
        ``(best, report)``."""
        self.save(log_dir)
        best = self.best()
        print(f"\nBest on validation: {best.name}")
        report = evaluate(best.model, data.x_test, data.y_test, log_dir=log_dir / "test",
                          history=best.history, class_names=data.class_names)
        print(report)
        return best, report

    def rows(self):
        """One dict per run: the last training loss, the returned model's
        validation scores, the best epoch in the history, times, extras."""
        rows = []
        for run in self.runs:
            best, value = run.best_value(self.monitor, self.mode)
            row = {"variant": run.name, "epochs": len(run.epoch_seconds),
                   "final_loss": run.history["loss"][-1], **run.scores, "best_epoch": best}
            row[f"best_{self.monitor}"] = value
            row["seconds"] = run.seconds
            row["seconds_per_epoch"] = run.seconds_per_epoch
            row.update(run.row)
            rows.append({k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()})
        return rows

    @renamed_arguments(out_dir="log_dir")
    def save(self, log_dir, name="results"):
        """Print the table and write ``<name>.json``, ``.csv`` and ``.md``.

        NaN and infinity are ``null`` in the JSON, ``nan``/``inf`` elsewhere.
        """
        rows = self.rows()
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = _markdown(rows, columns)
        print("\n" + table)
        write_text(log_dir / f"{name}.md", table + "\n")
        strict = [{k: _json(v) for k, v in row.items()} for row in rows]
        write_text(log_dir / f"{name}.json", json.dumps(strict, indent=2))
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, columns)
        writer.writeheader()
        writer.writerows(rows)
        write_text(log_dir / f"{name}.csv", text.getvalue())
        return rows

    def plot(self, path, keys=("loss", "val_loss"), x="epoch", log_y=(), title=None):
        """One panel per history key, one line per variant; saved as PNG.

        ``x`` is ``"epoch"`` or ``"seconds"`` (cumulative wall clock);
        keys named in ``log_y`` get a log scale.
        """
        if x not in ("epoch", "seconds"):
            raise ValueError(f"x must be 'epoch' or 'seconds', got {x!r}.")
        fig, axes = _figure(len(keys), title)
        for ax, key in zip(axes, keys):
            for color, run in zip(_colors(len(self.runs)), self.runs):
                ys = _finite(run.history.get(key, []))
                xs = np.cumsum(run.epoch_seconds)[: len(ys)] if x == "seconds" \
                    else np.arange(1, len(ys) + 1)
                ax.plot(xs, ys, color=color, marker="o", markersize=2, label=run.name)
            ax.set(title=key, xlabel="wall seconds" if x == "seconds" else "epoch",
                   yscale="log" if key in log_y else "linear")
            if x == "epoch":
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper")
        save_figure(fig, path, dpi=90)
        return fig

    def plot_train_val(self, path, metric="loss", title=None):
        """One panel per variant: ``metric`` on train (dashed) and validation."""
        fig, axes = _figure(len(self.runs), title, columns=min(3, len(self.runs)))
        for ax, run in zip(axes, self.runs):
            for key, style in ((metric, "--"), (f"val_{metric}", "-")):
                ys = _finite(run.history.get(key, []))
                ax.plot(np.arange(1, len(ys) + 1), ys, style, label=key)
            ax.set(title=run.name, xlabel="epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        axes[0].legend()
        save_figure(fig, path, dpi=90)
        return fig


def subset(data, train, val=None, test=None):
    """The first rows of each split of a ``zoo.data`` data set (for ``--quick``).

    The splits are already shuffled and stratified, so their first rows are
    a fair sample. ``None`` keeps a split whole.
    """
    sizes = {"train": train, "val": val, "test": test}
    cut = {}
    for split, n in sizes.items():
        if n is not None:
            cut[f"x_{split}"] = getattr(data, f"x_{split}")[:n]
            cut[f"y_{split}"] = getattr(data, f"y_{split}")[:n]
    return dataclasses.replace(data, **cut)


def _median_after_first(seconds):
    return statistics.median(seconds[1:] or seconds) if seconds else None


def _json(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _finite(values):
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _markdown(rows, columns):
    def cell(value):
        if value is None:
            return "-"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _colors(n):
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "viridis"]
    return [cmap(i if n <= 10 else i / max(n - 1, 1)) for i in range(n)]


def _figure(panels, title, columns=None):
    columns = columns or panels
    rows = math.ceil(panels / columns)
    fig = Figure(figsize=(4.2 * columns + 1.5, 3.3 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig, list(axes[:panels])
