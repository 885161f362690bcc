"""Data-parallel training: several devices in one process, several processes.

Every check runs in child processes (tests/backends.py): TensorFlow's
logical devices and JAX's distributed runtime are fixed when they start.
"""

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.backends import backend_env, run_snippet
from tests.recipe_runs import ROOT
from zoo.core.hardware import HEARTBEAT_TIMEOUT_S


def test_bad_hardware_options_are_refused_before_anything_starts():
    from recipes.common import _setup_hardware, parse_args
    from zoo.core import hardware

    def refusal(argv, takes_hardware=True):
        args = parse_args("", epochs=1, argv=argv, hardware=takes_hardware)
        with pytest.raises(SystemExit) as caught:
            _setup_hardware(args)
        return str(caught.value)

    # This process runs TensorFlow: several processes need JAX.
    message = refusal(["--coordinator", "127.0.0.1:1", "--num-processes", "2",
                       "--process-id", "0"])
    assert "--backend jax" in message and "20585" in message
    assert "--backend jax but Keras already runs on tensorflow" in refusal(["--backend", "jax"])
    assert "does not take --devices" in refusal(["--devices", "2"], takes_hardware=False)
    assert "`process_id` must be an integer >= 0 and <= 1" in refusal(
        ["--num-processes", "2", "--process-id", "2", "--coordinator", "h:1"])
    with pytest.raises(SystemExit):  # argparse: "must be 'all' or a number >= 1"
        parse_args("", epochs=1, argv=["--devices", "0"], hardware=True)
    with pytest.raises(ValueError, match="'all' or an integer"):
        hardware.setup(devices="some")
    with pytest.raises(TypeError, match="`num_processes` must be an integer"):
        hardware.setup(environ={"KRZ_NUM_PROCESSES": "two"})
    hardware.setup()  # back to one device


# Two devices in one process: every callback of the package's story, and
# SklearnMetrics' scores against a one-device model with the same weights.
_TWO_DEVICES = """
import json, os, sys, tempfile
import keras, numpy as np
import callbacks, zoo
from zoo.core import hardware
from zoo.data import load_dataset
from zoo.evaluation import scores

hardware.setup(devices=2)
data = load_dataset("digits", seed=0)
x, y = data.x_train[:256], data.y_train[:256]
x_val, y_val = data.x_val[:101], data.y_val[:101]  # odd: batches split unevenly
root = tempfile.mkdtemp()
batch = hardware.batch_size(16)
with hardware.scope():
    model = zoo.build("cnn.simple", input_shape=data.input_shape,
                      num_classes=data.num_classes)
    zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=1e-3)
tb = os.path.join(root, "tb")
scorer = callbacks.SklearnMetrics((x_val, y_val), log_dir=tb)
watch = [scorer, callbacks.LearningRateLogger(log_dir=tb),
         keras.callbacks.TensorBoard(tb, write_graph=False),
         callbacks.BackupAndRestore(os.path.join(root, "backup"), delete_checkpoint=False),
         callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=5)]
history = model.fit(**hardware.fit_inputs(x, y, batch, validation_data=(x_val, y_val)),
                    epochs=2, callbacks=watch, verbose=0).history
replicas = hardware.replicas()
hardware.to_one_device(model)
one = zoo.build("cnn.simple", input_shape=data.input_shape, num_classes=data.num_classes)
one.set_weights(model.get_weights())
prob = np.asarray(one.predict(x_val, batch_size=7, verbose=0))
found = scores.classification_scores(y_val, prob, "multiclass")
names = ["accuracy", "f1_macro", "f1_micro", "roc_auc", "average_precision"]
print(json.dumps({
    "replicas": replicas,
    "diff": max(abs(found[n] - scorer.history["val_" + n][-1]) for n in names),
    "keys": sorted(history),
    "backup": sorted(os.listdir(os.path.join(root, "backup"))),
    "tb": sorted(os.listdir(tb)),
}))
"""

_TF_PREFIX = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_devices_run_every_callback_and_score_like_one_device(backend):
    code = (_TF_PREFIX if backend == "tensorflow" else "") + _TWO_DEVICES
    out = run_snippet(code, backend=backend, devices=2 if backend == "jax" else None)
    assert out["replicas"] == 2
    assert out["diff"] < 1e-6, out
    assert {"val_f1", "val_roc_auc", "learning_rate", "val_loss"} <= set(out["keys"])
    assert out["backup"], "no backup written"
    assert {"train", "validation"} <= set(out["tb"])


def _recipe(log_dir, port, process_id, epochs):
    """One process of a two-process digits_cnn run (the recipe's own code, as
    `python -m recipes run` runs it); prints its final weights' hash."""
    driver = (
        "import hashlib, runpy, sys\n"
        "sys.argv = ['recipes/digits_cnn.py'] + sys.argv[1:]\n"
        "g = runpy.run_module('recipes.digits_cnn', run_name='__main__')\n"
        "h = hashlib.sha256(b''.join(w.tobytes() for w in g['model'].get_weights()))\n"
        "print('WEIGHTS', h.hexdigest(), flush=True)\n")
    return subprocess.Popen(
        [sys.executable, "-c", driver, "--quick", "--epochs", str(epochs),
         "--log-dir", str(log_dir), "--coordinator", f"127.0.0.1:{port}",
         "--num-processes", "2", "--process-id", str(process_id)],
        cwd=ROOT, env=backend_env("jax"), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def _finish(procs, timeout=400):
    try:
        return [p.communicate(timeout=timeout)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@pytest.mark.slow
def test_two_processes_kill_then_resume_to_identical_weights(tmp_path, free_port):
    run = tmp_path / "run"
    # 1. A process killed mid-training ends the other within the bound.
    procs = [_recipe(run, free_port, i, epochs=6) for i in (0, 1)]
    metadata = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 400
    while not metadata.exists() and procs[0].poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metadata.exists(), _finish(procs)[0][-4000:]
    first_chief = procs[0].pid
    procs[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    try:
        procs[0].wait(timeout=HEARTBEAT_TIMEOUT_S + 30)
    finally:
        text = _finish(procs)[0]
    waited = time.monotonic() - killed
    print(f"the other process ended {waited:.1f} s after the kill")
    assert procs[0].returncode != 0, text[-3000:]
    assert waited < HEARTBEAT_TIMEOUT_S + 10, (waited, text[-3000:])
    assert "resume from the last backup" in text or "heartbeat" in text, text[-3000:]

    # 2. The same commands again resume from the backup and finish together:
    # identical weights, one model, one report, TensorBoard files of one process.
    with socket.socket() as s:  # the first port may linger in TIME_WAIT
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [_recipe(run, port, i, epochs=6) for i in (0, 1)]
    texts = _finish(procs)
    for text in texts:
        assert "WEIGHTS" in text, text[-4000:]
    assert re.search(r"resum", texts[0], re.I), texts[0][-3000:]
    hashes = [re.search(r"WEIGHTS (\w+)", t).group(1) for t in texts]
    assert hashes[0] == hashes[1]
    assert (run / "model.keras").is_file() and (run / "report" / "report.json").is_file()
    events = [p.name for p in (run / "tensorboard").rglob("events.out.*")]
    # TensorBoard names event files .<host>.<pid>.<n>: all are process 0's,
    # of the killed run and of the resumed one.
    chiefs = (f".{first_chief}.", f".{procs[0].pid}.")
    assert events and all(any(c in name for c in chiefs) for name in events), (chiefs, events)
    assert not list(run.glob("*.keras.*")), list(run.iterdir())
