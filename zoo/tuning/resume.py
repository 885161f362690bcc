"""Make a reloaded keras-tuner oracle agree with its trial files.

keras-tuner saves a trial (`trial_<id>/trial.json`) and the oracle
(`oracle.json`) one after the other, so a job killed between the two
writes leaves them disagreeing; on reload the oracle then

- re-runs a trial that had finished (`end_trial` wrote the trial, and the
  oracle still lists it as ongoing: it goes to the retry queue);
- never ends a finished trial whose end the oracle missed (Grid search
  then forgets to step past it);
- keeps a trial it created but never recorded (`create_trial` wrote the
  trial file only), which uses up the budget without ever being run.

`reconcile` fixes all three from the trial files, which are the newer
record, and clears the partial curves of the interrupted trials so that
their re-run starts from nothing.
"""

import shutil

from keras_tuner.engine.trial import TrialStatus
from keras_tuner.src.engine.metrics_tracking import MetricsTracker

_DONE = (TrialStatus.COMPLETED, TrialStatus.FAILED)


def reconcile(oracle):
    """Repair a just-reloaded `oracle` (see the module doc).

    Returns:
        `{"ended": [...], "rerun": [...], "dropped": [...]}`: trial ids
        whose end was recorded now, trials queued to run again, and
        trial folders removed because the oracle never recorded them.
    """
    report = {"ended": [], "rerun": [], "dropped": []}
    known = set(oracle.start_order)
    verbose, oracle.verbose = oracle.verbose, 0  # no display for old trials
    try:
        for trial_id in sorted(oracle.trials):
            trial = oracle.trials[trial_id]
            if trial_id not in known:
                # Unrecorded: its id is free again, as the oracle believes.
                del oracle.trials[trial_id]
                shutil.rmtree(oracle._get_trial_dir(trial_id), ignore_errors=True)
                report["dropped"].append(trial_id)
            elif trial.status in _DONE:
                _remove(oracle._retry_queue, trial_id)
                if trial_id not in oracle.end_order:
                    oracle.end_trial(_copy(trial))
                    report["ended"].append(trial_id)
            else:
                trial.metrics = MetricsTracker()
                trial.score, trial.best_step = None, 0
                trial.status = TrialStatus.RUNNING
                if trial_id not in oracle._retry_queue:
                    oracle._retry_queue.append(trial_id)
                oracle._save_trial(trial)
                report["rerun"].append(trial_id)
    finally:
        oracle.verbose = verbose
    oracle.save()
    return report


def _remove(items, value):
    while value in items:
        items.remove(value)


def _copy(trial):
    # `end_trial` copies status and values from the trial it is given.
    from keras_tuner.engine.trial import Trial

    return Trial.from_state(trial.get_state())
