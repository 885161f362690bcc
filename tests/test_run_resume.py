"""A recipe run survives SIGKILL and gives the same answer for the same seed.

Every run here is a real, separate `python -m recipes run digits_cnn` process.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

EPOCHS = 6
TIMEOUT = 240  # seconds for one whole run on a loaded 2-core machine


def _command(logdir, seed=0, epochs=EPOCHS):
    return [sys.executable, "-m", "recipes", "run", "digits_cnn", "--quick",
            "--epochs", str(epochs), "--seed", str(seed), "--log-dir", str(logdir)]


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _saved_epoch(logdir):
    """How many epochs the backup holds (Keras numbers them so)."""
    path = logdir / "backup" / "training_metadata.json"
    try:
        return json.loads(path.read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return None


def _run_and_kill(logdir, after_saved_epoch):
    """Start a run; SIGKILL it once a backup past `after_saved_epoch` exists."""
    out = open(logdir.parent / f"{logdir.name}-{time.monotonic_ns()}.log", "w+")
    proc = subprocess.Popen(_command(logdir), stdout=out, stderr=subprocess.STDOUT,
                            env=_env())
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            saved = _saved_epoch(logdir)
            if saved is not None and saved > after_saved_epoch:
                break
            assert proc.poll() is None, "run ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no new backup before the timeout")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    out.seek(0)
    return out.read(), _saved_epoch(logdir)


def _started_epochs(output):
    return [int(n) for n in re.findall(rf"^Epoch (\d+)/{EPOCHS}$", output, re.M)]


@pytest.mark.slow
def test_sigkill_twice_then_resume_completes_the_run(tmp_path):
    logdir = tmp_path / "run"
    first, saved = _run_and_kill(logdir, after_saved_epoch=0)
    assert saved is not None and 1 <= saved < EPOCHS, first
    # Killed again during the first resume, after it saved one more epoch.
    second, saved_again = _run_and_kill(logdir, after_saved_epoch=saved)
    # `saved` epochs are done; Keras numbers epochs from 1.
    assert _started_epochs(second)[0] == saved + 1, second
    assert saved_again > saved

    done = subprocess.run(_command(logdir), capture_output=True, text=True,
                          env=_env(), timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # No epoch that was backed up is trained again.
    assert _started_epochs(done.stdout)[0] == saved_again + 1, done.stdout
    assert _started_epochs(done.stdout)[-1] == EPOCHS

    report = json.loads((logdir / "report" / "report.json").read_text())
    # The report covers the whole run, not only the part after the last restart.
    assert report["training"]["epochs"] == EPOCHS
    history = json.loads((logdir / "report" / "history.json").read_text())
    assert len(history["loss"]) == EPOCHS
    assert len(history["val_f1"]) == EPOCHS
    assert all(v is not None for v in history["val_f1"])
    assert report["accuracy"] > 0.5
    assert not (logdir / "backup" / "training_metadata.json").exists()


def _report(logdir, seed):
    done = subprocess.run(_command(logdir, seed=seed, epochs=2), capture_output=True,
                          text=True, env=_env(), timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((logdir / "report" / "report.json").read_text())
    report.pop("files", None)
    return report


@pytest.mark.slow
def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    a = _report(tmp_path / "a", seed=3)
    b = _report(tmp_path / "b", seed=3)
    c = _report(tmp_path / "c", seed=4)
    keys = ["accuracy", "f1_macro", "precision_macro", "roc_auc", "confusion_matrix"]
    assert [a[k] for k in keys] == [b[k] for k in keys]
    assert a["training"] == b["training"]
    assert [a[k] for k in keys] != [c[k] for k in keys]
