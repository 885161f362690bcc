"""zoo.tuning.distributed: KerasTuner's chief/worker search, made dependable.

The process tests run a real chief and two real workers
(tests/tuning_worker.py) on 127.0.0.1; every process has a deadline and is
killed when the test ends.
"""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc
import keras_tuner as kt
import pytest

from zoo.tuning.distributed import (
    DistributedSearchError,
    configure_distributed,
    make_dependable,
)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tuning_worker  # noqa: E402

WORKER = os.path.join(HERE, "tuning_worker.py")
ENV_NAMES = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


@pytest.fixture
def kt_env(monkeypatch):
    """keras-tuner's variables are restored (here: removed) after the test."""
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "unset")
        monkeypatch.delenv(name)


class Processes:
    """Python subprocesses (tuning_worker.py or the CLI), all killed on exit."""

    def __init__(self, directory):
        self.directory = directory
        self.procs, self.ended, self.logs = {}, {}, {}
        self.env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}

    def start(self, name, *command):
        """Run `python *command` from the repository root, logging to NAME.log."""
        self.logs[name] = os.path.join(self.directory, f"{name}.log")
        with open(self.logs[name], "w") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, *map(str, command)], stdout=log, stderr=subprocess.STDOUT,
                env=self.env, cwd=os.path.dirname(HERE),
            )

    def wait(self, names, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in names:
                if name not in self.ended and self.procs[name].poll() is not None:
                    self.ended[name] = time.monotonic()
            if all(name in self.ended for name in names):
                return {name: self.procs[name].returncode for name in names}
            time.sleep(0.2)
        pytest.fail(f"still running after {timeout} s: "
                    f"{[n for n in names if n not in self.ended]}\n{self.tails()}")

    def wait_for_file(self, path, timeout):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                pytest.fail(f"{path} never appeared\n{self.tails()}")
            time.sleep(0.2)

    def log(self, name):
        with open(self.logs[name]) as f:
            return f.read()

    def tails(self):
        return "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.logs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def project_files(directory):
    root = os.path.join(directory, tuning_worker.PROJECT)
    return root, sorted(
        os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "**", "*"), recursive=True)
        if os.path.isfile(p)
    )


def load_json(*parts):
    with open(os.path.join(*parts)) as f:
        return json.load(f)


# --- configure_distributed --------------------------------------------------


def test_configure_distributed_sets_keras_tuner_env(kt_env):
    assert configure_distributed("chief", "10.0.0.5:8000") == {
        "KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_IP": "10.0.0.5",
        "KERASTUNER_ORACLE_PORT": "8000"}
    assert os.environ["KERASTUNER_TUNER_ID"] == "chief"
    env = configure_distributed("Worker", "[::1]:9000", tuner_id="gpu-box.2")
    assert env == {"KERASTUNER_TUNER_ID": "gpu-box.2", "KERASTUNER_ORACLE_IP": "[::1]",
                   "KERASTUNER_ORACLE_PORT": "9000"}
    default_id = configure_distributed("worker", "host:1")["KERASTUNER_TUNER_ID"]
    assert default_id.endswith(f"-{os.getpid()}") and "chief" not in default_id


@pytest.mark.parametrize("role, address, tuner_id, error, match", [
    ("boss", "h:1", None, ValueError, "role"),
    (None, "h:1", None, TypeError, "role"),
    ("chief", 8000, None, TypeError, "oracle_address"),
    ("chief", "localhost", None, ValueError, "HOST:PORT"),
    ("chief", ":8000", None, ValueError, "HOST:PORT"),
    ("chief", "h:0", None, ValueError, "1..65535"),
    ("chief", "h:70000", None, ValueError, "1..65535"),
    ("chief", "::1:80", None, ValueError, "HOST:PORT"),
    ("chief", "h:1", "w1", ValueError, "always 'chief'"),
    ("worker", "h:1", "mischief", ValueError, "without 'chief'"),
    ("worker", "h:1", "a b", ValueError, "tuner_id"),
    ("worker", "h:1", "", ValueError, "tuner_id"),
])
def test_configure_distributed_rejects_bad_input(kt_env, role, address, tuner_id, error, match):
    with pytest.raises(error, match=match):
        configure_distributed(role, address, tuner_id)
    assert not any(name in os.environ for name in ENV_NAMES)


# --- make_dependable, in this process ---------------------------------------


def test_make_dependable_checks_and_is_a_noop_alone(kt_env, tmp_path):
    tuner = tuning_worker.build_tuner(str(tmp_path), 2)
    assert make_dependable(tuner) is tuner and type(tuner) is kt.RandomSearch
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="worker_timeout"):
            make_dependable(tuner, worker_timeout=bad)
    with pytest.raises(TypeError, match="tuner"):
        make_dependable(object())
    configure_distributed("worker", "127.0.0.1:1", "w1")
    with pytest.raises(RuntimeError, match="call `configure_distributed` before building"):
        make_dependable(tuner)


def test_worker_without_chief_stops_with_clear_message(kt_env, tmp_path, free_port):
    configure_distributed("worker", f"127.0.0.1:{free_port}", "w1")
    tuner = make_dependable(tuning_worker.build_tuner(str(tmp_path), 2), connect_timeout=2)
    start = time.monotonic()
    with pytest.raises(DistributedSearchError,
                       match=f"Could not reach the chief at 127.0.0.1:{free_port} within 2 s"):
        tuning_worker.search(tuner)
    assert time.monotonic() - start < 30


def test_late_worker_reads_why_the_chief_ended_the_search(kt_env, tmp_path, free_port):
    """A worker still starting when the chief ended the search and exited
    reads the chief's `search_end.json` while it waits, and exits with the
    reason; an end file older than the worker's process (an earlier search's,
    which a resumed chief replaces) is not believed."""
    configure_distributed("worker", f"127.0.0.1:{free_port}", "late")
    tuner = tuning_worker.build_tuner(str(tmp_path), 2)
    end_file = os.path.join(str(tmp_path), tuning_worker.PROJECT, "search_end.json")
    with open(end_file, "w") as f:
        json.dump({"stop_reason": "Number of consecutive failures exceeded the limit of 2."}, f)
    os.utime(end_file, (time.time() - 3600, time.time() - 3600))
    with pytest.raises(DistributedSearchError, match="Could not reach the chief"):
        tuning_worker.search(make_dependable(tuner, connect_timeout=2))

    tuner = make_dependable(tuning_worker.build_tuner(str(tmp_path), 2), connect_timeout=120)
    threading.Timer(1.5, os.utime, (end_file,)).start()  # the chief ends it now
    start = time.monotonic()
    with pytest.raises(DistributedSearchError, match=(
            "The chief stopped the search: Number of consecutive failures exceeded")):
        tuning_worker.search(tuner)
    assert time.monotonic() - start < 10


def test_chief_on_a_busy_port_stops_with_clear_message(kt_env, tmp_path, free_port):
    configure_distributed("chief", f"127.0.0.1:{free_port}")
    tuner = make_dependable(tuning_worker.build_tuner(str(tmp_path), 2))
    # Another gRPC server (say a stale chief) holds the port; gRPC's default
    # SO_REUSEPORT would let a second chief bind it too and split the workers.
    busy = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    assert busy.add_insecure_port(f"127.0.0.1:{free_port}") == free_port
    busy.start()
    errors = []

    def search():  # in a thread: if the chief did bind, it would wait for workers
        try:
            tuning_worker.search(tuner)
        except DistributedSearchError as error:
            errors.append(str(error))

    try:
        thread = threading.Thread(target=search, daemon=True)
        thread.start()
        thread.join(timeout=60)
    finally:
        busy.stop(None)
    assert errors and f"cannot listen on 127.0.0.1:{free_port}: the port is in use" in errors[0]


@pytest.mark.parametrize("retries", [0, 1])
def test_chief_ends_the_trial_of_a_silent_worker(kt_env, tmp_path, free_port, retries):
    configure_distributed("chief", f"127.0.0.1:{free_port}")
    tuner = tuning_worker.build_tuner(str(tmp_path), 3, max_retries_per_trial=retries)
    oracle = make_dependable(tuner, worker_timeout=1.5).oracle
    lost, kept = oracle.create_trial("w1"), oracle.create_trial("w2")
    assert not oracle.check_workers()
    time.sleep(2)
    oracle.get_trial(kept.trial_id)  # w2's heartbeat; w1 is silent
    assert not oracle.check_workers()
    assert "w1" not in oracle.tuner_ids and "w2" in oracle.tuner_ids
    if retries:  # keras-tuner's retry queue: the next worker re-runs it
        assert oracle.create_trial("w3").trial_id == lost.trial_id
    else:
        ended = oracle.get_trial(lost.trial_id)
        assert ended.status == "FAILED"
        assert "'w1' went silent" in ended.message
        oracle.update_trial(lost.trial_id, {"val_loss": 0.5})  # late: dropped
        assert not oracle.get_trial(lost.trial_id).metrics.exists("val_loss")
    time.sleep(2)  # now every worker is silent: the chief gives up
    assert oracle.check_workers()
    assert "Every worker went silent" in oracle.stop_reason


@pytest.mark.slow
def test_worker_stops_when_the_chief_dies(kt_env, tmp_path, free_port):
    directory, address = str(tmp_path), f"127.0.0.1:{free_port}"
    with Processes(directory) as job:
        job.start("chief", WORKER, "chief", address, directory, "--max-trials", 2)
        chief, killed = job.procs["chief"], []

        class KillsTheChief(tuning_worker.TinyHyperModel):
            def fit(self, hp, model, *args, **kwargs):
                chief.kill()
                chief.wait(timeout=30)
                killed.append(time.monotonic())
                return super().fit(hp, model, *args, **kwargs)

        configure_distributed("worker", address, "w1")  # this process is the worker
        tuner = tuning_worker.build_tuner(directory, 2, KillsTheChief(directory))
        make_dependable(tuner, chief_timeout=3, heartbeat_interval=0.5, connect_timeout=200)
        with pytest.raises(DistributedSearchError, match=(
                f"Lost contact with the chief at {address}: no answer within 3 s")):
            tuning_worker.search(tuner)
        assert time.monotonic() - killed[0] < 60


# --- a chief and two workers, each its own process --------------------------


@pytest.mark.slow
def test_chief_and_two_workers_split_the_trials(tmp_path, free_port):
    directory, address = str(tmp_path / "job"), f"127.0.0.1:{free_port}"
    os.makedirs(directory)
    with Processes(directory) as job:
        job.start("chief", WORKER, "chief", address, directory, "--wait-for", 3)
        for worker in ("w1", "w2"):
            job.start(worker, WORKER, "worker", address, directory, "--tuner-id", worker,
                      "--wait-for", 3, "--sleep", 1)
        returncodes = job.wait(["chief", "w1", "w2"], timeout=240)
        assert returncodes == {"chief": 0, "w1": 0, "w2": 0}, job.tails()
    root, files = project_files(directory)
    oracle = load_json(root, "oracle.json")
    assert sorted(oracle["tuner_of_trial"].values()).count("w1") >= 1
    assert sorted(oracle["tuner_of_trial"].values()).count("w2") >= 1
    assert len(oracle["tuner_of_trial"]) == 4
    assert load_json(root, "search_end.json") == {"stop_reason": None}  # for late workers

    # A single process writes the same files, in the same form.
    single = str(tmp_path / "single")
    tuning_worker.search(tuning_worker.build_tuner(single, 4))
    single_root, single_files = project_files(single)
    tuner_state = re.compile(r"^(chief|w1|w2|tuner0|search_end)\.json$")  # per process
    assert [f for f in files if not tuner_state.match(f)] == \
        [f for f in single_files if not tuner_state.match(f)]
    for trial_json in (f for f in files if f.endswith("trial.json")):
        trial, single_trial = load_json(root, trial_json), load_json(single_root, trial_json)
        assert trial.keys() == single_trial.keys()
        assert trial["status"] == single_trial["status"] == "COMPLETED"
        assert trial["metrics"]["metrics"].keys() == single_trial["metrics"]["metrics"].keys()
    assert set(oracle) >= set(load_json(single_root, "oracle.json"))


@pytest.mark.slow
def test_killed_worker_does_not_hang_the_search(tmp_path, free_port):
    directory, address = str(tmp_path), f"127.0.0.1:{free_port}"
    timeout = 10  # worker_timeout of the chief; heartbeats every second
    common = ["--max-trials", 3, "--wait-for", 3, "--heartbeat", 1]
    with Processes(directory) as job:
        job.start("chief", WORKER, "chief", address, directory, *common,
                  "--worker-timeout", timeout)
        job.start("victim", WORKER, "worker", address, directory, *common, "--tuner-id", "victim",
                  "--stall")
        job.start("w2", WORKER, "worker", address, directory, *common, "--tuner-id", "w2",
                  "--sleep", 3)
        job.wait_for_file(os.path.join(directory, "stalled-victim"), timeout=200)
        job.procs["victim"].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        # Bound: worker_timeout + the poll, then w2's last trials (a few s).
        returncodes = job.wait(["chief", "w2"], timeout=timeout + 90)
        assert returncodes == {"chief": 0, "w2": 0}, job.tails()
        assert "Worker 'victim' silent for" in job.log("chief")
        # It did wait for the victim: its last heartbeat was at most 1 s before the kill.
        assert job.ended["chief"] - killed >= timeout - 1.5
        print(f"kill -> chief exit: {job.ended['chief'] - killed:.1f} s "
              f"(worker_timeout={timeout} s)")
    root, _ = project_files(directory)
    oracle = load_json(root, "oracle.json")
    assert oracle["ongoing_trials"] == {}
    for trial_id, tuner_id in oracle["tuner_of_trial"].items():
        trial = load_json(root, f"trial_{trial_id}", "trial.json")
        if tuner_id == "victim":
            assert trial["status"] == "FAILED"
            assert "'victim' went silent" in trial["message"]
        else:
            assert trial["status"] == "COMPLETED"
    assert sorted(oracle["tuner_of_trial"].values()) == ["victim", "w2", "w2"]


@pytest.mark.slow
def test_failed_trial_limit_stops_every_process(tmp_path, free_port):
    directory, address = str(tmp_path), f"127.0.0.1:{free_port}"
    common = ["--fail", "--max-failures", 2, "--max-trials", 6, "--heartbeat", 1]
    with Processes(directory) as job:
        job.start("chief", WORKER, "chief", address, directory, *common)
        job.start("w1", WORKER, "worker", address, directory, *common, "--tuner-id", "w1")
        # w2 starts up slowly: it first calls when the chief has already gone.
        job.start("w2", WORKER, "worker", address, directory, *common, "--tuner-id", "w2",
                  "--start-after-chief")
        returncodes = job.wait(["chief", "w1", "w2"], timeout=240)
        assert returncodes == {"chief": 1, "w1": 1, "w2": 1}, job.tails()
        message = "Number of consecutive failures exceeded the limit of 2."
        assert f"search stopped: {message}" in job.log("chief")
        for worker in ("w1", "w2"):
            assert f"search stopped: The chief stopped the search: {message}" in job.log(worker)
        # Every failed trial's traceback is in the log of the worker that ran it.
        assert "ValueError: this hypermodel always fails" in job.log("w1") + job.log("w2")
        assert max(job.ended.values()) - job.ended["chief"] < 30
        print("exit times after the first process's exit:",
              {n: round(t - min(job.ended.values()), 1) for n, t in job.ended.items()})
    root, _ = project_files(directory)
    oracle = load_json(root, "oracle.json")
    assert oracle["ongoing_trials"] == {}
    statuses = {load_json(root, f"trial_{t}", "trial.json")["status"] for t in oracle["end_order"]}
    assert statuses == {"FAILED"}


# --- the same through the CLI: python -m recipes tune ... --role ... --------


@pytest.mark.slow
def test_cli_chief_and_two_workers_write_what_one_process_writes(tmp_path, free_port):
    from recipes import tuning_cli

    address = f"127.0.0.1:{free_port}"
    tune = ["tune", "mlp.baseline", "--strategy", "random", "--max-trials", "3", "--epochs", "1",
            "--quick", "--no-default-space", "--space", "width=4,8,16", "--fixed", "depth=1"]
    directory = str(tmp_path / "job")
    os.makedirs(directory)
    with Processes(directory) as job:
        cli = ["-m", "recipes", *tune, "--log-dir", directory, "--oracle-address", address]
        job.start("chief", *cli, "--role", "chief")
        for worker in ("w1", "w2"):
            job.start(worker, *cli, "--role", "worker", "--tuner-id", worker)
        assert job.wait(["chief", "w1", "w2"], timeout=300) == {"chief": 0, "w1": 0, "w2": 0}, \
            job.tails()
        assert "Best trial" in job.log("chief")
    single = str(tmp_path / "single")
    assert tuning_cli.main(tune[1:] + ["--log-dir", single]) == 0

    project = "mlp.baseline-random"
    root, single_root = os.path.join(directory, project), os.path.join(single, project)
    tuner_state = re.compile(r"^(chief|w1|w2|tuner0|search_end)\.json$")  # per process
    assert sorted(f for f in os.listdir(root) if not tuner_state.match(f)) == \
        sorted(f for f in os.listdir(single_root) if not tuner_state.match(f))
    with open(os.path.join(root, "trials.csv")) as f, \
            open(os.path.join(single_root, "trials.csv")) as g:
        rows, single_rows = f.read().splitlines(), g.read().splitlines()
    assert rows[0] == single_rows[0] and len(rows) == len(single_rows) == 4
    assert all(",COMPLETED," in row for row in rows[1:])
    best, single_best = (load_json(r, "best_hyperparameters.json") for r in (root, single_root))
    assert best.keys() == single_best.keys()
    ran_by = load_json(root, "oracle.json")["tuner_of_trial"]
    assert sorted(ran_by) == ["0", "1", "2"] and set(ran_by.values()) <= {"w1", "w2"}
