"""The chief's side of a dependable distributed search (see
`zoo.tuning.distributed`): an oracle mixin that watches the workers, and
KerasTuner's gRPC servicer answering a stopped search with ABORTED."""

import functools
import sys
import threading
import time

import grpc
from keras_tuner.src.distribute import oracle_chief
from keras_tuner.src.engine import oracle as oracle_module
from keras_tuner.src.engine import trial as trial_module

_Status = trial_module.TrialStatus


def exclusive(method):
    """Like `keras_tuner.synchronized`, but releases the oracle's lock when
    `method` raises (keras-tuner 1.4 keeps it, deadlocking later calls)."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        name = threading.current_thread().name
        if oracle_module.THREADS[self] == name:
            return method(self, *args, **kwargs)
        with oracle_module.LOCKS[self]:
            oracle_module.THREADS[self] = name
            try:
                return method(self, *args, **kwargs)
            finally:
                oracle_module.THREADS[self] = None

    return wrapped


class SearchStopped(Exception):
    """Raised in the chief's handlers to tell a worker that the search stopped."""


class WatchedOracle:
    """Oracle mixin for the chief: tracks when each worker was last heard
    from, ends the trials of silent workers, and turns the failed-trial limit
    into an orderly stop of every process."""

    def watch(self, worker_timeout):
        self.worker_timeout = worker_timeout
        self.stop_reason = None
        self._last_contact = {}  # live tuner_id -> time.monotonic()
        self._last_heard = None
        self._abandoned = set()  # trial_ids taken from silent workers
        self._exhausted = False  # some worker was told there are no more trials
        self.tuner_of_trial = getattr(self, "tuner_of_trial", {})

    def _owner(self, trial_id):
        owners = (t for t, trial in self.ongoing_trials.items() if trial.trial_id == trial_id)
        return next(owners, None)

    def _contact(self, tuner_id):
        """Record a call from `tuner_id`; raise `SearchStopped` if it must stop."""
        if tuner_id is None:
            return
        self._last_heard = time.monotonic()
        if self.stop_reason is None:
            self._last_contact[tuner_id] = self._last_heard
            return
        self._forget(tuner_id)
        trial = self.ongoing_trials.pop(tuner_id, None)
        if trial is not None:
            trial.status, trial.message = _Status.STOPPED, "The search stopped during this trial."
            self._save_trial(trial)
        raise SearchStopped(self.stop_reason)

    def _forget(self, tuner_id):
        self._last_contact.pop(tuner_id, None)
        self.tuner_ids.discard(tuner_id)

    @exclusive
    def create_trial(self, tuner_id):
        self._contact(tuner_id)
        trial = super().create_trial(tuner_id)
        if trial.status == _Status.STOPPED:
            self._exhausted = True
            self._forget(tuner_id)
        elif trial.status == _Status.RUNNING:
            self.tuner_of_trial[trial.trial_id] = tuner_id
            self._abandoned.discard(trial.trial_id)
        return trial

    @exclusive
    def update_trial(self, trial_id, metrics, step=0):
        self._contact(self._owner(trial_id))
        if trial_id in self._abandoned:  # late report of a trial given up on
            return self.trials[trial_id]
        return super().update_trial(trial_id, metrics, step=step)

    @exclusive
    def end_trial(self, trial):
        tuner_id = self._owner(trial.trial_id)
        if tuner_id is None and trial.trial_id in self._abandoned:
            return
        super().end_trial(trial)
        self._contact(tuner_id)  # tells the worker if this trial hit the limit

    @exclusive
    def get_trial(self, trial_id):  # also the workers' heartbeat
        self._contact(self._owner(trial_id))
        return super().get_trial(trial_id)

    def _check_consecutive_failures(self):
        try:
            super()._check_consecutive_failures()
        except RuntimeError as error:  # raised in a gRPC handler, it hung every process
            if self.stop_reason is None:
                self.stop_reason = (
                    f"{str(error).strip()} The failed trials' tracebacks are in the "
                    "logs of the workers that ran them."
                )

    @exclusive
    def check_workers(self):
        """End the trials of silent workers; return True once the search is over."""
        now = time.monotonic()
        for tuner_id, last in list(self._last_contact.items()):
            if now - last > self.worker_timeout:
                self._give_up(tuner_id, now - last)
        if self.stop_reason is None and not self._exhausted and not self._last_contact:
            if self._last_heard is not None and now - self._last_heard > self.worker_timeout:
                self.stop_reason = (
                    f"Every worker went silent for more than {self.worker_timeout:g} s "
                    "before the search was over."
                )
        done = not self._last_contact and (self.stop_reason is not None or not self.ongoing_trials)
        done = done and (self._exhausted or self.stop_reason is not None)
        if done:
            for trial_id in self._retry_queue:  # nobody is left to retry them
                trial = self.trials[trial_id]
                trial.status = _Status.FAILED
                self._save_trial(trial)
            self._retry_queue.clear()
            self.save()
        return done

    def _give_up(self, tuner_id, silence):
        print(f"Worker {tuner_id!r} silent for {silence:.1f} s: taken for dead.", file=sys.stderr)
        self._forget(tuner_id)
        trial = self.ongoing_trials.get(tuner_id)
        if trial is None:
            return
        trial.status = _Status.INVALID  # kt's own retry-or-fail path for crashed trials
        trial.message = (
            f"Worker {tuner_id!r} went silent for {silence:.1f} s "
            f"(> worker_timeout={self.worker_timeout:g} s) during this trial."
        )
        super().end_trial(trial)
        self._abandoned.add(trial.trial_id)

    def get_state(self):
        return {**super().get_state(), "tuner_of_trial": self.tuner_of_trial}

    def set_state(self, state):
        super().set_state(state)
        self.tuner_of_trial = state.get("tuner_of_trial", {})


class Servicer(oracle_chief.OracleServicer):
    """KerasTuner's servicer, answering `SearchStopped` with gRPC ABORTED."""


def _aborting(handler):
    @functools.wraps(handler)
    def wrapped(self, request, context):
        try:
            return handler(self, request, context)
        except SearchStopped as stop:
            context.abort(grpc.StatusCode.ABORTED, str(stop))

    return wrapped


for _name in ("CreateTrial", "UpdateTrial", "EndTrial", "GetTrial"):
    setattr(Servicer, _name, _aborting(getattr(oracle_chief.OracleServicer, _name)))
