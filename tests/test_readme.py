"""The README's Python examples run as written, each in a fresh interpreter
in an empty folder, and leave the files the README says they leave."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
# What each example (by a phrase of its code) leaves behind, relative to its folder.
LEAVES = {
    'out_dir="runs/ten_lines"': "runs/ten_lines/report.json",
    'log_dir="runs/ten_lines"': "runs/ten_lines/report.json",
    'log_dir="runs/demo"': "runs/demo/validation",
    'project_name="cancer"': "runs/tuning/cancer/trials.csv",
}


def _expected(code):
    return [path for phrase, path in LEAVES.items() if phrase in code]


def test_every_example_is_checked():
    assert BLOCKS, "no ```python blocks found in README.md"
    assert all(_expected(code) for code in BLOCKS), "add the example's output to LEAVES"


@pytest.mark.slow
@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_as_written(code, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(README.parent), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for path in _expected(code):
        assert (tmp_path / path).exists(), path


def test_pictures_shown_exist_and_stay_small():
    # Made by scripts/tensorboard_screenshots.sh; a renamed or missing file
    # would show as a broken image.
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert pictures
    for picture in pictures:
        path = README.parent / picture
        assert path.is_file(), picture
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture
        assert path.stat().st_size < 300_000, picture

