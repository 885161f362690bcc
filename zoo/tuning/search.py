"""Run a hyperparameter search: strategy by name, objective, project, results.

`run_search(hypermodel, "random", "val_f1", max_trials=20, ...)` picks the
tuner (`zoo.tuning.tuners`), locks the project folder
(`zoo.tuning.project`), resumes it if it exists, runs the search and
returns a `SearchResult`; the files it writes after every trial are listed
in `zoo.tuning.results`.
"""

import contextlib
import dataclasses
import inspect
import os
import warnings

import keras
import keras_tuner as kt

from zoo.core.checks import check_choice, check_folder, check_int, renamed_arguments
from zoo.core.data_checks import check_fit_data
from zoo.core.pipelines import check_dataset, is_dataset
from zoo.tuning import pruning as pruning_lib
from zoo.tuning import results as results_lib
from zoo.tuning.distributed import _ENV, configure_distributed, make_dependable
from zoo.tuning.project import Project
from zoo.tuning.tuners import TUNERS

STRATEGIES = tuple(TUNERS)
_MIN_WORDS = ("loss", "error", "mse", "mae", "rmse", "mape", "msle", "crossentropy",
              "hinge", "divergence")
_MAX_WORDS = ("acc", "accuracy", "f1", "auc", "precision", "recall", "r2", "iou",
              "average_precision")


def resolve_objective(objective):
    """A `keras_tuner.Objective` from a metric name, `"max:name"` or an Objective.

    The direction of a bare name is read from its words: `loss`, `error`,
    `mse`, `mae`, `rmse`... are minimized; `acc`, `accuracy`, `f1`, `auc`,
    `precision`, `recall`, `r2`... maximized (`val_` prefixes included,
    e.g. `val_f1_macro`). Anything else needs `"max:name"` / `"min:name"`.

    Example:

    >>> resolve_objective("val_f1").direction
    'max'
    """
    if isinstance(objective, kt.Objective):
        return objective
    if not isinstance(objective, str) or not objective.strip():
        raise TypeError(
            f"`objective` must be a metric name such as 'val_loss' or 'max:val_f1', or a "
            f"keras_tuner.Objective; got {objective!r}."
        )
    direction, sep, name = objective.strip().partition(":")
    if sep:
        direction = check_choice("objective direction", direction, ("min", "max"))
        if not name:
            raise ValueError(f"`objective`={objective!r} names no metric after the colon.")
        return kt.Objective(name, direction)
    name = direction
    words = name.lower().replace("-", "_").split("_")
    if any(w in _MIN_WORDS for w in words):
        return kt.Objective(name, "min")
    if any(w in _MAX_WORDS for w in words) or "average_precision" in name:
        return kt.Objective(name, "max")
    raise ValueError(
        f"Cannot tell whether to minimize or maximize `objective`={name!r}; write "
        f"'max:{name}' or 'min:{name}'."
    )


@renamed_arguments(directory="log_dir")
def make_tuner(hypermodel, strategy, objective, max_trials, log_dir, project_name, *,
               epochs=None, seed=None, prune=None, results=None, progress=True,
               **tuner_kwargs):
    """The `zoo.tuning.tuners` tuner for `strategy` (no lock, no overwrite).

    `run_search` is the usual entry point; this is for users who drive
    `tuner.search` themselves. `log_dir` is keras-tuner's `directory`
    (the old name `directory=` still works, with a `DeprecationWarning`).
    `epochs` is Hyperband's `max_epochs`. `tuner_kwargs` go to the
    keras-tuner class (e.g. `num_initial_points` for Bayesian optimization,
    `factor` for Hyperband).
    """
    strategy = check_strategy(strategy)
    max_trials = check_int("max_trials", max_trials, minimum=1)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0) + 1  # keras-tuner ignores seed=0
    kwargs = dict(
        hypermodel=hypermodel, objective=resolve_objective(objective), seed=seed,
        directory=os.fspath(log_dir), project_name=project_name, overwrite=False,
        pruning=pruning_lib.get_pruning(prune), results=results, progress=progress,
    )
    if strategy == "hyperband":
        kwargs["max_epochs"] = check_int("epochs", epochs, minimum=1) if epochs else 100
    else:
        kwargs["max_trials"] = max_trials
    kwargs.update(tuner_kwargs)
    tuner = TUNERS[strategy](**kwargs)
    if strategy == "hyperband":
        # Hyperband's own budget is epochs; the trial budget caps it too.
        tuner.oracle.max_trials = max_trials
    return tuner


def check_strategy(strategy):
    """The canonical strategy name; any case, and a non-string is a ValueError."""
    name = strategy.lower() if isinstance(strategy, str) else strategy
    return check_choice("strategy", name, STRATEGIES, exact=True)


@dataclasses.dataclass
class SearchResult:
    """What `run_search` returns.

    Attributes:
        tuner: the tuner (e.g. `tuner.get_best_models()`).
        project_dir: the project folder.
        best: content of `best_hyperparameters.json` (None if no trial scored).
        rows: one dict per trial, as in `trials.csv`.
        counts: trials per status, and `total`.
        summary: the printable summary table.
        paths: `csv`, `best_hyperparameters`, `best_model`, `tensorboard`.
    """

    tuner: object
    project_dir: str
    best: dict
    rows: list
    counts: dict
    summary: str
    paths: dict

    @property
    def best_hyperparameters(self):
        return None if self.best is None else self.best["hyperparameters"]

    def best_model(self):
        """The saved best model, loaded in safe mode."""
        return keras.saving.load_model(self.paths["best_model"], safe_mode=True)


_CONFIGURE_KEYS = ("role", "oracle_address", "tuner_id")


@contextlib.contextmanager
def _roles(distributed):
    """Set keras-tuner's environment for a distributed role, and restore it after.

    Yields:
        `(role, options for make_dependable)`; `(None, {})` on one machine.
    """
    saved = {k: os.environ.get(k) for k in _ENV}
    try:
        if distributed is None:
            yield None, {}
            return
        configure_distributed(**{k: v for k, v in distributed.items() if k in _CONFIGURE_KEYS})
        yield distributed.get("role"), {
            k: v for k, v in distributed.items() if k not in _CONFIGURE_KEYS}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _check_distributed(distributed):
    """`distributed` holds a role, an address and known options only."""
    if distributed is None:
        return
    allowed = _CONFIGURE_KEYS + tuple(
        p for p in inspect.signature(make_dependable).parameters if p != "tuner")
    unknown = sorted(set(distributed) - set(allowed), key=str)
    missing = [k for k in ("role", "oracle_address") if distributed.get(k) is None]
    if unknown or missing:
        problem = f"unknown key(s) {unknown}" if unknown else f"no {missing}"
        raise ValueError(
            f"run_search: `distributed` has {problem}; allowed: a dict with 'role' "
            f"('chief' or 'worker') and 'oracle_address' ('HOST:PORT'), optionally "
            f"{list(allowed[2:])}.")


def _check_data(hypermodel, x, y, validation_data):
    """Refuse data that fits no trial's model, before the first trial."""
    example = getattr(hypermodel, "example_model", None)
    if not callable(example):
        return
    model = example()
    check_fit_data(model, x, y, owner="run_search")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) >= 2:
        check_fit_data(model, validation_data[0], validation_data[1], owner="run_search",
                       x_name="validation_data[0]", y_name="validation_data[1]")


def _check_pipelines(x, y, validation_data):
    """A `tf.data` pipeline as `x` or `validation_data`: finite, labels inside."""
    if is_dataset(x):
        check_dataset(x, "x", "run_search", y=y)
    if is_dataset(validation_data):
        check_dataset(validation_data, "validation_data", "run_search")


@renamed_arguments(directory="log_dir")
def run_search(hypermodel, strategy, objective, max_trials, log_dir, project_name, x, y,
               validation_data, epochs, callbacks=(), overwrite=False, prune=None,
               distributed=None, seed=None, progress=True, info=None, **tuner_kwargs):
    """Run (or resume) a search and write its results after every trial.

    Args:
        hypermodel: a `keras_tuner.HyperModel`, e.g. `ZooHyperModel`.
        strategy: `"grid"`, `"random"`, `"bayesian"`, `"hyperband"`,
            `"lipo"` (dlib's LIPO with trust-region steps, `zoo.tuning.lipo`)
            or `"tpe"` (Optuna's TPE sampler, `zoo.tuning.tpe`). `bayesian`
            starts with `zoo.tuning.warmup.initial_trials` random trials
            (5 of 15 with 5 hyperparameters), `tpe` with
            `zoo.tuning.warmup.tpe_initial_trials` (Optuna's 10, at most two
            thirds of the budget); printed with `progress`; unless
            `num_initial_points` is given.
        objective: a logged metric (`"val_loss"`, `"val_f1"`...), with
            `"max:"`/`"min:"` to force the direction, or a `kt.Objective`.
        max_trials: the trial budget (all strategies, Hyperband included).
        log_dir, project_name: the project folder is their join. Run
            the same call again to resume a stopped search. `log_dir` is
            keras-tuner's `directory`; the old name `directory=` still
            works, with a `DeprecationWarning`.
        x, y, validation_data: training data, as for `model.fit`: arrays, or
            finite batched `tf.data.Dataset`s of `(x, y)` with `y=None` (a
            tuned or fixed `batch_size` rebatches `x`).
        epochs: epochs per trial (Hyperband: its `max_epochs`).
        callbacks: Keras callbacks for every trial (each trial gets a
            deep copy), e.g. `callbacks.SklearnMetrics` to log `val_f1`.
        overwrite: start afresh. Only a folder created by `zoo.tuning`
            and not in use by another process is deleted; otherwise a
            clear error is raised and nothing changes.
        prune: `None`, `True` or a `MedianStopping` rule.
        distributed: `None` (one machine), or a dict of the arguments of
            `zoo.tuning.distributed.configure_distributed` (`role`,
            `oracle_address`, `tuner_id`) and, optionally, of its
            `make_dependable` (`worker_timeout`, `chief_timeout`...). The
            environment variables it sets are restored on return.
        seed: seed of the strategy's sampling (keras-tuner reads 0 as "no
            seed", so seeds are shifted by one).
        progress: print the warm-up of `bayesian`/`tpe`, a line per trial
            and the final summary.
        info: extra JSON-ready facts saved in `best_hyperparameters.json`;
            `dataset` (a name) and `data` (a fingerprint), if given, must
            match to resume the project.
        **tuner_kwargs: passed to the keras-tuner class, e.g.
            `num_initial_points`, or `checkpoints="all"` to keep every
            trial's best weights (default: only the best trial's, see
            `zoo.tuning.tuners`).

    Returns:
        A `SearchResult`.
    """
    strategy = check_strategy(strategy)
    objective = resolve_objective(objective)
    max_trials = check_int("max_trials", max_trials, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    callbacks = list(callbacks or ())
    for cb in callbacks:
        if not isinstance(cb, keras.callbacks.Callback):
            raise TypeError(f"`callbacks` must hold keras Callbacks; got {cb!r}.")
    pruning = pruning_lib.get_pruning(prune)
    if not isinstance(project_name, str) or not project_name or os.sep in project_name:
        raise ValueError(f"`project_name` must be a folder name; got {project_name!r}.")
    if distributed is not None and not isinstance(distributed, dict):
        raise TypeError(
            "`distributed` must be None or a dict: role, oracle_address, tuner_id, and "
            f"optionally make_dependable's timeouts; got {type(distributed).__name__}."
        )
    if distributed is not None and distributed.get("role") == "worker" and overwrite:
        raise ValueError("`overwrite=True` is for the chief; a worker joins the chief's search.")
    log_dir = check_folder("log_dir", log_dir, owner="run_search")
    _check_distributed(distributed)
    _check_data(hypermodel, x, y, validation_data)
    _check_pipelines(x, y, validation_data)
    config = hypermodel.get_config() if hasattr(hypermodel, "get_config") else {}
    job = dict(info or {}, model=config.get("name"), strategy=strategy, objective=objective.name,
               direction=objective.direction, max_trials=max_trials, epochs=epochs,
               fixed=config.get("fixed", {}), space=config.get("space"))
    project = Project(log_dir, project_name, job)
    with _roles(distributed) as (role, dependable), \
            project.open(overwrite=overwrite, lock=role != "worker"):
        results = results_lib.SearchResults(project.path, job)
        tuner = make_tuner(hypermodel, strategy, objective, max_trials, log_dir,
                           project_name, epochs=epochs, seed=seed, prune=pruning,
                           results=results, progress=progress, **tuner_kwargs)
        if role is not None:
            tuner = make_dependable(tuner, **dependable)
            results.on_search_begin(tuner)  # the chief never calls on_search_begin
        if progress and tuner.reconciled is not None:
            rerun = tuner.reconciled["rerun"]
            print(f"Resuming {project.path}: {len(tuner.oracle.end_order)} trial(s) done"
                  + (f", re-running interrupted trial(s) {rerun}" if rerun else "") + ".",
                  flush=True)
        note = tuner.warmup_note()
        if progress and note:
            print(note, flush=True)
        fit_kwargs = dict(validation_data=validation_data, callbacks=callbacks, verbose=0)
        if strategy != "hyperband":
            fit_kwargs["epochs"] = epochs
        with warnings.catch_warnings():
            # The per-epoch reports are keras-tuner's "report in run_trial" path.
            warnings.filterwarnings("ignore", "The use case of calling", DeprecationWarning)
            tuner.search(x, y, **fit_kwargs)
        # A worker's chief may be gone by now: keep what its last trial wrote.
        rows = results.rows if role == "worker" else results.write(tuner)
    summary = results_lib.summary_table(rows, objective)
    if progress:
        print(summary, flush=True)
    return SearchResult(tuner=tuner, project_dir=project.path, best=results.best(), rows=rows,
                        counts=results_lib.counts(rows), summary=summary,
                        paths=dict(results.paths))
