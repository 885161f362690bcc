"""Run folders: a rerun resumes only the same run, and nothing saved is lost.

The rules of `recipes.run_folder` on real ``python -m recipes run digits_cnn
--quick`` processes, interrupted with SIGKILL; damaged backups and the
epoch a raising callback must not lose, on `callbacks.BackupAndRestore`
directly; a full disk on a real (small) tmpfs.
"""

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import callbacks
from tests.probes import RaiseAtEpochEnd
from callbacks.backup_and_restore import BackupDamagedError
from tests.recipe_runs import ROOT, recipe_env

EPOCHS = 4
TIMEOUT = 300  # one run on a loaded 2-core machine


def _command(logdir, *extra, recipe="digits_cnn", seed=0, epochs=EPOCHS):
    return [sys.executable, "-m", "recipes", "run", recipe, "--quick", "--epochs",
            str(epochs), "--seed", str(seed), "--log-dir", str(logdir), *extra]


def _start(logdir, *extra, **options):
    return subprocess.Popen(_command(logdir, *extra, **options), cwd=ROOT,
                            env=recipe_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(proc):
    try:
        text = proc.communicate(timeout=TIMEOUT)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, text


def _saved_epoch(logdir):
    try:
        return json.loads((logdir / "backup" / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return None


def _interrupted(logdir, *extra):
    """Start a run and SIGKILL it once its first backup is complete."""
    proc = subprocess.Popen(_command(logdir, *extra), cwd=ROOT, env=recipe_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    try:
        while _saved_epoch(logdir) is None:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no backup before the timeout"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    return _saved_epoch(logdir)


def _snapshot(folder):
    """``{relative path: sha256}`` of every file under ``folder``, but the
    temporary files a SIGKILL mid-write leaves (a rerun removes them)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".tmp-")}


@pytest.mark.slow
def test_rerun_resumes_only_the_same_run(tmp_path):
    run = tmp_path / "run"
    saved = _interrupted(run)
    assert 0 < saved < EPOCHS
    record = json.loads((run / "run.json").read_text())
    assert record["recipe"] == "digits_cnn" and record["options"]["seed"] == 0
    assert record["finished"] is False and record["data_splits"]

    copies = {name: tmp_path / name for name in ("fresh", "damaged", "data", "restart")}
    for folder in copies.values():
        shutil.copytree(run, folder)
    shutil.rmtree(copies["restart"] / "backup")  # as if killed before its first backup
    (copies["damaged"] / "backup" / "latest.weights.npz").unlink()
    tampered = json.loads((copies["data"] / "run.json").read_text())
    (copies["data"] / "run.json").write_text(json.dumps({**tampered, "data_splits": "0" * 16}))
    before = {folder: _snapshot(folder) for folder in (run, copies["damaged"], copies["data"])}

    # Every rerun that differs is refused at once, all started together.
    procs = {
        "seed": _start(run, seed=1),
        "epochs": _start(run, epochs=3),
        "recipe": _start(run, recipe="diabetes_regression"),
        "damaged": _start(copies["damaged"]),
        "data": _start(copies["data"]),
        "fresh": _start(copies["fresh"], "--fresh", seed=1),
    }
    out = {name: _finish(proc) for name, proc in procs.items()}
    for name in ("seed", "epochs", "recipe", "damaged", "data"):
        code, text = out[name]
        assert code == 1 and "Ways out" in text and "--fresh" in text, (name, text[-3000:])
        assert "Epoch 1/" not in text, (name, text[-3000:])  # refused before training
    assert "--seed: 0 before, 1 now" in out["seed"][1]
    assert f"--epochs: {EPOCHS} before, 3 now" in out["epochs"][1]
    assert "recipe: 'digits_cnn' before, 'diabetes_regression' now" in out["recipe"][1]
    assert "latest.weights.npz is missing" in out["damaged"][1]
    assert "trained on other data" in out["data"][1]
    for folder, files in before.items():
        assert _snapshot(folder) == files, f"{folder} was touched"

    # --fresh moves the old run aside, whole, and starts a new one.
    code, text = out["fresh"]
    assert code == 0, text[-3000:]
    assert "--fresh: moved the old run" in text
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("fresh.old-")]
    assert len(aside) == 1 and _snapshot(aside[0]) == before[run]
    assert json.loads((copies["fresh"] / "run.json").read_text())["options"]["seed"] == 1

    # The same command resumes and says so; a finished run is not overwritten.
    resume, finished = _start(run), _start(copies["fresh"], seed=1)
    restart = _start(copies["restart"])
    code, text = _finish(resume)
    assert code == 0, text[-3000:]
    assert f"resuming run {run} at epoch {saved + 1} of {EPOCHS}" in text
    assert f"Epoch {saved + 1}/{EPOCHS}" in text and "Epoch 1/" not in text
    assert len(json.loads((run / "report" / "history.json").read_text())["loss"]) == EPOCHS
    assert json.loads((run / "run.json").read_text())["finished"] is True
    model = _snapshot(copies["fresh"])["model.keras"]
    code, text = _finish(finished)
    assert code == 1 and "holds a finished run" in text and "--fresh" in text, text[-3000:]
    assert _snapshot(copies["fresh"])["model.keras"] == model

    # Nothing to resume: the run starts over, its old TensorBoard logs aside.
    code, text = _finish(restart)
    assert code == 0 and "interrupted before its first backup: starting it over" in text, \
        text[-3000:]
    assert "Epoch 1/" in text
    old_logs = list(copies["restart"].glob("tensorboard.old-*"))
    assert len(old_logs) == 1 and list(old_logs[0].rglob("events.out.tfevents*"))


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.Dense(1)])
    model.compile("adam", "mse")
    return model


def _fit(model, backup_dir, epochs=2, extra=()):
    x = np.linspace(0, 1, 48, dtype="float32").reshape(16, 3)
    backup = callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=False)
    model.fit(x, x.sum(axis=1), epochs=epochs, batch_size=8, verbose=0,
              callbacks=[backup, *extra])
    return backup


DAMAGE = {
    "weights cut short": ("latest.weights.npz", lambda p: p.write_bytes(p.read_bytes()[:100])),
    "weights empty": ("latest.weights.npz", lambda p: p.write_bytes(b"")),
    "weights missing": ("latest.weights.npz", lambda p: p.unlink()),
    "metadata empty": ("training_metadata.json", lambda p: p.write_text("")),
    "metadata cut short": ("training_metadata.json", lambda p: p.write_text('{"epoch": 2, "b')),
    "states empty": ("callback_states.json", lambda p: p.write_text("")),
    "state arrays empty": ("callback_states.npz", lambda p: p.write_bytes(b"")),
    "state arrays missing": ("callback_states.npz", lambda p: p.unlink()),
}


@pytest.fixture(scope="module")
def intact_backup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("intact")
    _fit(_model(), folder)
    return folder


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_backup_names_the_file_and_trains_nothing(tmp_path, intact_backup, case):
    name, damage = DAMAGE[case]
    tmp_path = tmp_path / "backup"
    shutil.copytree(intact_backup, tmp_path)
    damage(tmp_path / name)
    model = _model()
    weights = model.get_weights()
    with pytest.raises(BackupDamagedError, match=rf"{name}.*(move|delete)"):
        _fit(model, tmp_path, epochs=4)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_backup_ahead_of_the_epochs_is_not_silent(tmp_path):
    _fit(_model(), tmp_path, epochs=3)
    with pytest.warns(UserWarning, match="at epoch 3.*epochs=2: nothing is left"):
        _fit(_model(), tmp_path, epochs=2)


@pytest.mark.parametrize("backup_class", [keras.callbacks.BackupAndRestore,
                                          callbacks.BackupAndRestore])
def test_epoch_backed_up_before_a_later_callback_raises(tmp_path, backup_class):
    x = np.linspace(0, 1, 48, dtype="float32").reshape(16, 3)
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, x.sum(axis=1), epochs=4, verbose=0,
                  callbacks=[backup_class(str(tmp_path)), RaiseAtEpochEnd(1)])
    assert json.loads((tmp_path / "training_metadata.json").read_text())["epoch"] == 2
    if backup_class is callbacks.BackupAndRestore:
        backup = _fit(_model(), tmp_path, epochs=4)
        assert len(backup.history["loss"]) == 4  # epochs 0-1 once, then 2-3
        assert all(v is not None for v in backup.history["loss"])


_OVERWRITE = """
import json, sys, pathlib
import keras, numpy as np
from matplotlib.figure import Figure
from recipes.common import save_model
from zoo.core.files import save_figure, write_text
folder = pathlib.Path(sys.argv[1])
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
writers = {
    "model.keras": lambda path: save_model(model, path),
    "report.json": lambda path: write_text(path, json.dumps({"accuracy": 0.5})),
    "curves.png": lambda path: save_figure(Figure(), path),
}
errors = {}
for name, write in writers.items():
    try:
        write(folder / name)
    except OSError as error:
        errors[name] = " ".join([str(error), *getattr(error, "__notes__", [])])
print(json.dumps(errors))
"""


def _mount_tmpfs(folder, size):
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {done.stderr.strip()}")


def _fill(folder, leave_kib=0):
    """Fill the file system of ``folder`` but ``leave_kib`` KiB."""
    free = shutil.disk_usage(folder).free // 1024
    with open(folder / f"filler-{leave_kib}", "wb", buffering=0) as f:
        for _ in range(max(0, free - leave_kib)):
            try:
                f.write(b"\0" * 1024)
            except OSError:
                break


def _overwrite(folder):
    done = subprocess.run([sys.executable, "-c", _OVERWRITE, str(folder)], cwd=ROOT,
                          env=recipe_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_full_disk_keeps_every_saved_file_and_the_rerun_resumes(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "8m")
    try:
        run = disk / "run"
        saved = _interrupted(run)
        assert _overwrite(disk) == {}  # a model, report and plot to keep
        kept = {"backup": _snapshot(run / "backup"),
                "files": {n: (disk / n).read_bytes() for n in ("model.keras", "report.json",
                                                               "curves.png")}}

        # Room for TensorBoard's events, not for the next backup: the run
        # ends with a message, not a crash, and leaves no partial file.
        _fill(disk, leave_kib=300)
        code, text = _finish(_start(run))
        assert code == 1, text[-3000:]  # not 139 (segfault) nor a traceback
        assert "the run could not write a file" in text and "No space left" in text, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
        assert _snapshot(run / "backup") == kept["backup"]
        # Full to the last byte: each write fails, the old file stays whole.
        _fill(disk)
        errors = _overwrite(disk)
        assert sorted(errors) == sorted(kept["files"]), errors
        assert all(str(disk / n) in message and "unchanged" in message
                   for n, message in errors.items()), errors
        assert {n: (disk / n).read_bytes() for n in kept["files"]} == kept["files"]
        assert keras.saving.load_model(disk / "model.keras") is not None
        assert not [p for p in disk.rglob(".tmp-*")], "partial files left"

        for filler in disk.glob("filler-*"):
            filler.unlink()
        code, text = _finish(_start(run))
        assert code == 0, text[-3000:]
        assert f"resuming run {run} at epoch {saved + 1} of {EPOCHS}" in text
        assert (run / "model.keras").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_rerun_removes_the_half_written_files_of_a_killed_run(tmp_path):
    # What a SIGKILL during a backup leaves: a temporary file of a dead process.
    # One of a live process (another writer) is kept.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / ".tmp-999999999-0a0b0c0d-latest.weights.npz"
        live = tmp_path / f".tmp-{sleeper.pid}-0a0b0c0d-latest.weights.npz"
        stale.write_bytes(b"half a file")
        live.write_bytes(b"being written")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)])
        assert not stale.exists() and live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
