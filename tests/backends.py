"""Run a snippet of Python under another Keras backend, as its own process.

Keras fixes its backend when it is first imported, and the test process runs
TensorFlow, so JAX (or multi-device) checks run in a child process. The
snippet prints one JSON object as its last line; ``run_snippet`` returns it.
"""

import json
import os
import subprocess
import sys
import textwrap

from tests.recipe_runs import ROOT, recipe_env


def backend_env(backend="jax", devices=None, **extra):
    """The environment of a child process on ``backend``; ``devices=N`` asks
    the CPU for N logical devices (XLA's flag on JAX; TensorFlow's logical
    devices are set up by the snippet itself)."""
    env = dict(recipe_env(), KERAS_BACKEND=backend, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={int(devices)}"
    return env


def run_snippet(code, backend="jax", timeout=300, devices=None, cwd=None, **extra_env):
    """Run ``code`` (dedented) under ``backend``; return the JSON object it
    prints last. Fails with the child's output if it exits non-zero."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd or ROOT,
        env=backend_env(backend, devices, **extra_env),
        capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{backend} snippet failed:\n{output[-6000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"{backend} snippet printed nothing:\n{output[-6000:]}"
    return json.loads(lines[-1])
