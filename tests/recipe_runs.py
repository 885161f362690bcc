"""Run recipes end to end as separate processes, for the recipe tests."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT_S = 600


def recipe_env():
    # Unbuffered, so TensorFlow's stderr cannot split a printed table.
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
                MPLBACKEND="Agg", PYTHONUNBUFFERED="1")


def listed_recipes():
    """``{name: line}`` from ``python -m recipes list``."""
    text = subprocess.run([sys.executable, "-m", "recipes", "list"], cwd=ROOT, env=recipe_env(),
                          capture_output=True, text=True, timeout=60, check=True).stdout
    return {line.split()[0]: line for line in text.splitlines() if line.strip()}


def run_quick(root, names, as_script=()):
    """``{name: (run folder, output)}`` of every recipe in ``names`` run with
    ``--quick``, all started together (mostly TensorFlow start-up, which
    overlaps well). Names in ``as_script`` run as ``python recipes/NAME.py``,
    the others through ``python -m recipes run NAME``."""
    procs = {}
    for name in names:
        command = ([f"recipes/{name}.py"] if name in as_script
                   else ["-m", "recipes", "run", name])
        procs[name] = subprocess.Popen(
            [sys.executable, *command, "--quick", "--log-dir", str(root / name)],
            cwd=ROOT, env=recipe_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
    out = {}
    try:
        for name, proc in procs.items():
            text = proc.communicate(timeout=TIMEOUT_S)[0]
            assert proc.returncode == 0, f"{name} --quick failed:\n{text[-4000:]}"
            out[name] = (root / name, text)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    return out


def result_rows(run_folder):
    """A study's results table as ``{variant: row}``, from its JSON file."""
    rows = json.loads((run_folder / "report" / "results.json").read_text())
    return {row["variant"]: row for row in rows}
