"""The TensorBoard HParams dashboard of a search.

Layout under `log_dir`: the experiment (`hparams_config`: every tuned
hyperparameter with its domain, and the metrics) in `log_dir` itself,
written once; one run folder `trial_<id>` per trial with its hyperparameter
values (`hparams`) and its per-epoch curves as scalars, one tag per logged
metric (the objective included), plus `score`: the trial's best objective.
"""

import glob
import os

import tensorflow as tf
from keras_tuner.src.engine.tuner_utils import convert_hyperparams_to_hparams
from tensorboard.plugins.hparams import api as hp_api

from zoo.tuning import trials as trials_lib

SCORE_TAG = "score"
_EVENTS = "events.out.tfevents.*"


def _domains(hyperparameters):
    # keras-tuner's own mapping: Choice -> Discrete, Int -> IntInterval
    # (Discrete with a step), Float -> RealInterval, Boolean, Fixed.
    return convert_hyperparams_to_hparams(hyperparameters, hp_api)


def write_config(log_dir, space, objective):
    """Declare the search space and the metrics, once per `log_dir`.

    Args:
        log_dir: the search's TensorBoard directory.
        space: the oracle's `HyperParameters` (`oracle.get_space()`).
        objective: the `keras_tuner.Objective`.

    Returns:
        Whether it was written (False: an experiment is already there).
    """
    os.makedirs(log_dir, exist_ok=True)
    if glob.glob(os.path.join(log_dir, _EVENTS)):
        return False
    hparams = sorted(_domains(space), key=lambda h: h.name)
    metrics = [
        hp_api.Metric(objective.name, display_name=f"{objective.name} (last epoch)"),
        hp_api.Metric(SCORE_TAG, display_name=f"best {objective.name} ({objective.direction})"),
    ]
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        hp_api.hparams_config(hparams=hparams, metrics=metrics)
    writer.close()
    return True


def write_trial(log_dir, trial):
    """Write the run `trial_<id>`: hyperparameter values and curves.

    A trial that is written again (a resumed search) replaces its run.
    """
    run_dir = os.path.join(log_dir, f"trial_{trial.trial_id}")
    for old in glob.glob(os.path.join(run_dir, _EVENTS)):
        os.remove(old)
    writer = tf.summary.create_file_writer(run_dir)
    with writer.as_default():
        hp_api.hparams(_domains(trial.hyperparameters), trial_id=str(trial.trial_id))
        for name in trials_lib.metric_names(trial):
            for epoch, value in trials_lib.curve(trial, name).items():
                tf.summary.scalar(name, value, step=epoch)
        if trial.score is not None:
            tf.summary.scalar(SCORE_TAG, float(trial.score), step=trial.best_step or 0)
    writer.close()
    return run_dir
