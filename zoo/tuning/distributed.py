"""Tuning on many machines with KerasTuner's own chief/worker mode.

One *chief* process holds the oracle and serves it over gRPC; *workers* ask
it for trials, train them and report back. `configure_distributed` sets the
environment variables that give a process its role (before the tuner is
built); `make_dependable` fixes what goes wrong in practice with
keras-tuner 1.4:

- a worker killed mid-trial left its trial RUNNING and the chief waiting
  forever. Workers now send a heartbeat while a trial runs (keras-tuner is
  silent for a whole trial) and the chief ends the trial of a worker silent
  for `worker_timeout` seconds as crashed: re-run by another worker if
  `max_retries_per_trial` allows, else FAILED;
- reaching `max_consecutive_failed_trials` raised inside a gRPC handler and
  hung the chief (and kept the oracle's lock). Now every process exits with
  that message;
- a worker whose chief was gone waited up to an hour per call; it now exits
  after `chief_timeout` seconds, saying so;
- a worker still starting when the chief ended the search and exited waited
  its whole `connect_timeout`, then blamed the network. The chief now leaves
  its reason in the project's `search_end.json`; a worker sharing the folder
  reads it while it waits, if written after the worker started (an older one
  is an earlier search's, which a resumed chief replaces).
"""

import functools
import json
import os
import re
import socket
import sys
import threading
import time
from concurrent import futures

import grpc
from keras_tuner import errors
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_client
from keras_tuner.src.engine import oracle as oracle_module
from keras_tuner.src.engine import trial as trial_module

from zoo.core.checks import check_choice, check_float
from zoo.core.files import write_text
from zoo.tuning._watched_oracle import Servicer, WatchedOracle

ROLES = ("chief", "worker")
_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
_TUNER_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_POLL = 0.5  # seconds between the chief's checks of its workers
_END_FILE = "search_end.json"  # the chief's word on how the search ended, for late workers
_Status = trial_module.TrialStatus


class DistributedSearchError(errors.FatalRuntimeError):
    """The distributed search stopped; the message says why (every role)."""


def configure_distributed(role, oracle_address, tuner_id=None):
    """Set KerasTuner's environment variables for a chief or a worker.

    Call it before the tuner is built: KerasTuner reads the role when the
    tuner is constructed.

    Args:
        role: `"chief"` (runs the oracle and serves it) or `"worker"` (runs
            trials).
        oracle_address: `"HOST:PORT"` where the chief listens and the workers
            connect, e.g. `"10.0.0.5:8000"` (`"[::1]:8000"` for IPv6). The
            chief must be able to bind it.
        tuner_id: a worker's unique name (letters, digits, `_.-`, without
            "chief"). Defaults to `"tuner-<hostname>-<pid>"`. The chief is
            always `"chief"`.

    Returns:
        Dict of the environment variables set.

    Example:

    >>> env = configure_distributed("worker", "127.0.0.1:8000", tuner_id="tuner1")
    >>> env["KERASTUNER_TUNER_ID"], env["KERASTUNER_ORACLE_PORT"]
    ('tuner1', '8000')
    """
    role = check_choice("role", role, ROLES)
    host, port = _split_address(oracle_address)
    if role == "chief":
        if tuner_id not in (None, "chief"):
            raise ValueError(f"`tuner_id` of the chief is always 'chief'; got {tuner_id!r}.")
        tuner_id = "chief"
    elif tuner_id is None:
        # KerasTuner treats any ID containing "chief" as the chief.
        host_name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()).replace("chief", "chf")
        tuner_id = f"tuner-{host_name}-{os.getpid()}"
    elif not isinstance(tuner_id, str) or not _TUNER_ID.match(tuner_id) or "chief" in tuner_id:
        raise ValueError(
            "`tuner_id` of a worker must be a non-empty string of letters, digits, "
            f"'_', '.' or '-', unique per worker and without 'chief'; got {tuner_id!r}."
        )
    values = dict(zip(_ENV, (tuner_id, host, str(port))))
    os.environ.update(values)
    return values


def _split_address(address):
    if not isinstance(address, str):
        raise TypeError(
            f"`oracle_address` must be a string 'HOST:PORT'; got {address!r} "
            f"of type {type(address).__name__}."
        )
    host, _, port = address.strip().rpartition(":")
    bad = not host or host in ("[]",) or any(c.isspace() for c in host)
    bad = bad or (":" in host and not (host.startswith("[") and host.endswith("]")))
    if bad or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"`oracle_address` must be 'HOST:PORT' with a port in 1..65535, "
            f"e.g. '10.0.0.5:8000' or '[::1]:8000'; got {address!r}."
        )
    return host, int(port)


def make_dependable(
    tuner,
    worker_timeout=120.0,
    heartbeat_interval=10.0,
    chief_timeout=120.0,
    connect_timeout=120.0,
):
    """Make a KerasTuner tuner finish its distributed search whatever happens.

    Call it on every process, after building the tuner (any KerasTuner tuner)
    and before `tuner.search(...)`. It does nothing outside distributed mode.
    Then `tuner.search` ends on every process, raising `DistributedSearchError`
    with the reason if the search stopped early.

    Args:
        tuner: a KerasTuner tuner built after `configure_distributed`.
        worker_timeout: chief only. Seconds without a call or heartbeat after
            which a worker is taken for dead and its trial ended as crashed.
            Must exceed `heartbeat_interval` with room to spare.
        heartbeat_interval: workers only. Seconds between heartbeats while a
            trial runs.
        chief_timeout: workers only. Seconds a worker waits for the chief's
            answer before it exits.
        connect_timeout: workers only. Seconds the first call waits for the
            chief to come up.

    Returns:
        The same tuner.

    Example:

    >>> import keras_tuner, zoo
    >>> def build_model(hp):
    ...     model = zoo.build("mlp.baseline", input_shape=(4,), task="regression",
    ...                       width=hp.Choice("width", [8, 16]))
    ...     return zoo.compile_model(model)
    >>> tuner = keras_tuner.RandomSearch(build_model, "val_loss", max_trials=2,
    ...                                  directory="runs", project_name="dependable")
    >>> tuner = make_dependable(tuner, worker_timeout=300)  # unchanged on one machine

    On a chief or worker (after `configure_distributed`) the same call adds
    the timeouts, then `tuner.search(x, y, ...)` as usual.
    """
    worker_timeout = check_float("worker_timeout", worker_timeout, include_low=False)
    heartbeat_interval = check_float("heartbeat_interval", heartbeat_interval, include_low=False)
    chief_timeout = check_float("chief_timeout", chief_timeout, include_low=False)
    connect_timeout = check_float("connect_timeout", connect_timeout, include_low=False)
    kt_oracles = (oracle_module.Oracle, oracle_client.OracleClient)
    if not isinstance(getattr(tuner, "oracle", None), kt_oracles):
        raise TypeError(f"`tuner` must be a KerasTuner tuner; got {type(tuner).__name__}.")
    env_role = _env_role()
    built_as = "worker" if isinstance(tuner.oracle, oracle_client.OracleClient) else "chief"
    if env_role is None:
        return tuner
    if env_role != built_as:
        raise RuntimeError(
            f"The environment says {env_role!r} but the tuner was built as a "
            f"{built_as}: call `configure_distributed` before building the tuner."
        )
    address = _address()  # read now: a caller may restore the environment later
    if env_role == "chief":
        _extend(tuner.oracle, WatchedOracle).watch(worker_timeout)
        _extend(tuner, _ChiefTuner).oracle_address = address
    elif not isinstance(tuner.oracle, _WorkerClient):
        old = tuner.oracle
        tuner.oracle = _WorkerClient(
            old._oracle, address, heartbeat_interval, chief_timeout, connect_timeout
        )
        tuner.oracle.multi_worker, tuner.oracle.should_report = old.multi_worker, old.should_report
    return tuner


def _env_role():
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return None
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def _address():
    return f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"


def _end_file(oracle):
    return os.path.join(oracle._project_dir, _END_FILE)


def _extend(obj, mixin):
    """Give `obj` the methods of `mixin` on top of its own class."""
    if not isinstance(obj, mixin):
        obj.__class__ = _with_mixin(type(obj), mixin)
    return obj


@functools.lru_cache(maxsize=None)
def _with_mixin(cls, mixin):
    return type(cls.__name__, (mixin, cls), {"__module__": cls.__module__})


class _ChiefTuner:
    """Tuner mixin for the chief: serves the oracle until the search is over,
    which `check_workers` decides, instead of KerasTuner's wait for workers
    that may never come back."""

    def search(self, *fit_args, **fit_kwargs):
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.save()
        end_file = _end_file(self.oracle)
        if os.path.exists(end_file):  # from an earlier search in this folder
            os.remove(end_file)
        # Without so_reuseport=0 a second chief on the same port would bind too.
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                             options=[("grpc.so_reuseport", 0)])
        protos.get_service_grpc().add_OracleServicer_to_server(Servicer(self.oracle), server)
        try:
            bound = server.add_insecure_port(self.oracle_address)
        except RuntimeError:
            bound = 0
        if not bound:
            raise DistributedSearchError(
                f"The chief cannot listen on {self.oracle_address}: the port is in use or "
                "the host is not an address of this machine."
            )
        server.start()
        try:
            while not self.oracle.check_workers():
                time.sleep(_POLL)
            write_text(end_file, json.dumps({"stop_reason": self.oracle.stop_reason}))
        finally:
            server.stop(grace=2).wait()
        if self.oracle.stop_reason is not None:
            raise DistributedSearchError(self.oracle.stop_reason)


class _ChiefLink:
    """The worker's gRPC stub: bounded waits, and errors that say what
    happened. The first failure is kept and raised again on every later call.
    Until the chief first answers, the link also watches `end_file`: a search
    the chief ended after this worker started is not waited for."""

    def __init__(self, address, chief_timeout, connect_timeout, end_file):
        # gRPC's reconnect backoff grows to 120 s: a worker started long before
        # its chief would notice it late.
        self._channel = grpc.insecure_channel(
            address, options=[("grpc.max_reconnect_backoff_ms", 5000)])
        self._stub = protos.get_service_grpc().OracleStub(self._channel)
        self._address = address
        self._end_file = end_file
        self._started = _process_start_time()
        self._chief_timeout = chief_timeout
        self._connect_timeout = connect_timeout
        self._answered = False
        self._told = False
        self.failure = None

    def __getattr__(self, name):
        return functools.partial(self._call, name, getattr(self._stub, name))

    def _call(self, name, rpc, request, **_kt_wait_options):
        if self.failure is not None:
            raise DistributedSearchError(self.failure)
        timeout = self._chief_timeout if self._answered else self._connect_timeout
        if not self._answered and not self._told:
            self._told = True  # every wait is bounded, and said
            print(f"Waiting up to {timeout:g} s for the chief at {self._address} ...",
                  file=sys.stderr, flush=True)
        try:
            if not self._answered:
                self._wait_for_chief(timeout)
            response = rpc(request, wait_for_ready=True, timeout=timeout)
        except grpc.RpcError as error:
            self.failure = self._explain(name, error, timeout)
        except DistributedSearchError as error:
            self.failure = str(error)
        if self.failure is not None:
            raise DistributedSearchError(self.failure) from None
        self._answered = True
        return response

    def _wait_for_chief(self, timeout):
        """Wait for the channel to connect, reading the chief's end file meanwhile."""
        deadline = time.monotonic() + timeout
        ready = grpc.channel_ready_future(self._channel)
        try:
            while True:
                try:
                    return ready.result(timeout=1.0)
                except grpc.FutureTimeoutError:
                    pass
                ended = self._search_end()
                if ended is not None:
                    raise DistributedSearchError(ended)
                if time.monotonic() >= deadline:
                    raise DistributedSearchError(self._unreachable(timeout))
        finally:
            ready.cancel()  # stops watching the channel's state

    def _unreachable(self, timeout):
        return (f"Could not reach the chief at {self._address} within {timeout:g} s. Start the "
                "chief, and check the address and that the port is open between the machines.")

    def _search_end(self):
        try:
            if os.path.getmtime(self._end_file) < self._started:
                return None  # an earlier search's; a resumed chief removes it
            with open(self._end_file, encoding="utf-8") as f:
                reason = json.load(f)["stop_reason"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if reason is None:
            return f"The chief at {self._address} finished the search before this worker came."
        return f"The chief stopped the search: {reason}"

    def _explain(self, name, error, timeout):
        code, details = error.code(), error.details()
        if code == grpc.StatusCode.ABORTED:
            return f"The chief stopped the search: {details}"
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            if not self._answered:  # the chief may have ended just as it was reached
                return self._search_end() or self._unreachable(timeout)
            return (
                f"Lost contact with the chief at {self._address}: no answer within "
                f"{timeout:g} s. The chief has probably exited; see its log."
            )
        return f"The chief at {self._address} failed on {name}: {code.name}: {details}"


def _process_start_time():
    """When this process started (wall clock, seconds); now where unknown."""
    try:  # Linux: start time in clock ticks since boot, field 22 of /proc/self/stat
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK") - 1.0  # btime is whole seconds
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time()


class _WorkerClient(oracle_client.OracleClient):
    """KerasTuner's worker-side oracle proxy, with a heartbeat thread while a
    trial runs and the bounded, explained calls of `_ChiefLink`."""

    def __init__(self, oracle, address, heartbeat_interval, chief_timeout, connect_timeout):
        super().__init__(oracle)
        self.stub = _ChiefLink(address, chief_timeout, connect_timeout, _end_file(oracle))
        self._trial_id = None
        self._done = threading.Event()
        self._heartbeat_interval = heartbeat_interval
        threading.Thread(target=self._heartbeat, name="kt-heartbeat", daemon=True).start()

    def _heartbeat(self):
        request = protos.get_service().GetTrialRequest
        while not self._done.wait(self._heartbeat_interval):
            trial_id = self._trial_id
            if trial_id is None:
                continue
            try:
                self.stub.GetTrial(request(trial_id=trial_id))
            except DistributedSearchError:
                return  # kept by the link: the next call of the tuner raises it

    def create_trial(self, tuner_id):
        try:
            trial = super().create_trial(tuner_id)
        except DistributedSearchError:
            self._done.set()
            raise
        self._trial_id = trial.trial_id if trial.status == _Status.RUNNING else None
        if trial.status == _Status.STOPPED:
            self._done.set()
        return trial

    def end_trial(self, trial):
        self._trial_id = None
        if trial.status in (_Status.INVALID, _Status.FAILED) and trial.message:
            # KerasTuner's gRPC messages have no field for it: the chief never sees it.
            print(f"Trial {trial.trial_id} failed on {self.tuner_id}:\n{trial.message}",
                  file=sys.stderr)
        super().end_trial(trial)
