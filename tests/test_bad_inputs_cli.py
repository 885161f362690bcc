"""The bad-input battery, command-line part (issue #11, section 4).

Each case runs the real command line in-process (`recipes.common.parse_args`,
`python -m recipes`'s `main`, `python -m recipes tune`'s `main`) and asserts
that it exits (`SystemExit`) before any training, with a message naming the
option and what is allowed, and that no run folder was made. One case runs
as a real process: a worker whose chief never answers gives up within its
bound and says what it waited for (it was silent for minutes).
"""

import os
import subprocess
import sys
import time

import pytest

from recipes import __main__ as cli
from recipes import tuning_cli
from recipes.common import parse_args


def exits(capsys, call, *words):
    """Run `call`, expect `SystemExit`; return its message and stderr, checked."""
    with pytest.raises(SystemExit) as info:
        call()
    code = info.value.code
    text = (code if isinstance(code, str) else "") + capsys.readouterr().err
    assert code not in (0, None), text
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
    return text


def _file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return str(path)


RECIPE_CASES = [
    ("seed_negative", ["--seed", "-1"], ["--seed", "0 ... 4294967295"]),
    ("seed_too_large", ["--seed", "99999999999"], ["--seed", "0 ... 4294967295"]),
    ("seed_text", ["--seed", "abc"], ["--seed", "invalid int value"]),
    ("epochs_zero", ["--epochs", "0"], ["--epochs", "positive integer"]),
    ("epochs_negative", ["--epochs", "-3"], ["--epochs", "positive integer"]),
    ("epochs_fraction", ["--epochs", "1.5"], ["--epochs", "invalid int value"]),
    ("log_dir_empty", ["--log-dir", ""], ["--log-dir", "current folder"]),
    ("logdir_old_name_empty", ["--logdir", " "], ["--log-dir", "current folder"]),
    ("log_dir_is_a_file", ["--log-dir", "{file}"], ["--log-dir", "a_file", "is a file"]),
    ("log_dir_under_a_file", ["--log-dir", "{file}/run"], ["--log-dir", "under the file"]),
    ("log_dir_under_proc", ["--log-dir", "/proc/runs"], ["--log-dir", "/proc"]),
    ("unknown_option", ["--epoch-count", "3"], ["unrecognized arguments", "--epoch-count"]),
]


@pytest.mark.parametrize("case", RECIPE_CASES, ids=[c[0] for c in RECIPE_CASES])
def test_recipe_options_are_checked(capsys, tmp_path, case):
    _, argv, words = case
    argv = [a.format(file=_file(tmp_path)) for a in argv]
    exits(capsys, lambda: parse_args("A recipe.", epochs=3, argv=argv), *words)


@pytest.mark.parametrize("case", RECIPE_CASES[:2] + RECIPE_CASES[6:7],
                         ids=[c[0] for c in RECIPE_CASES[:2] + RECIPE_CASES[6:7]])
def test_a_recipe_run_exits_before_training(capsys, monkeypatch, tmp_path, case):
    """Through `python -m recipes run`, the recipe script itself."""
    _, argv, words = case
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # `run` rewrites it
    run_dir = tmp_path / "run"
    if "--log-dir" not in argv:
        argv = argv + ["--log-dir", str(run_dir)]
    exits(capsys, lambda: cli.main(["run", "digits_cnn", *argv]), *words)
    assert not run_dir.exists()


MAIN_CASES = [
    ("list_with_argument", ["list", "extra"], ["list takes no arguments", "extra"]),
    ("unknown_recipe", ["run", "digit_cnn"], ["unknown recipe 'digit_cnn'", "digits_cnn",
                                               "Available"]),
    ("unknown_command", ["lst"], ["invalid choice", "'list'"]),
    ("no_command", [], ["required", "command"]),
]


@pytest.mark.parametrize("case", MAIN_CASES, ids=[c[0] for c in MAIN_CASES])
def test_main_commands_are_checked(capsys, case):
    _, argv, words = case
    exits(capsys, lambda: cli.main(argv), *words)


TUNE_CASES = [
    ("max_trials_zero", ["--max-trials", "0"], ["--max-trials", ">= 1"]),
    ("epochs_zero", ["--epochs", "0"], ["--epochs", ">= 1"]),
    ("prune_min_trials_zero", ["--prune-min-trials", "0"], ["--prune-min-trials", ">= 1"]),
    ("seed_negative", ["--seed", "-1"], ["--seed", "0 ... 4294967295"]),
    ("seed_too_large", ["--seed", "99999999999"], ["--seed", "0 ... 4294967295"]),
    ("log_dir_is_a_file", ["--log-dir", "{file}"], ["--log-dir", "is a file"]),
    ("directory_under_proc", ["--directory", "/proc/tuning"], ["--log-dir", "/proc"]),
    ("log_dir_empty", ["--log-dir", ""], ["--log-dir", "current folder"]),
    ("role_without_address", ["--role", "worker"], ["--role", "--oracle-address HOST:PORT"]),
    ("role_typo", ["--role", "workr"], ["--role", "invalid choice", "'worker'"]),
    ("strategy_typo", ["--strategy", "bayes"], ["--strategy", "invalid choice",
                                                 "'bayesian'"]),
    ("chief_timeout_zero", ["--chief-timeout", "0"], ["--chief-timeout", "> 0"]),
    ("unknown_model", ["--dataset", "digits"], ["`name`", "'cnn.simple'"]),
    ("unknown_dataset", ["--dataset", "digit"], ["`name`", "'digits'"]),
    ("space_without_value", ["--space", "depth"], ["--space", "KEY=VALUE"]),
    ("space_unknown_key", ["--space", "dept=1:3"], ["`space`", "dept", "Allowed keys"]),
]


@pytest.mark.parametrize("case", TUNE_CASES, ids=[c[0] for c in TUNE_CASES])
def test_tune_options_are_checked(capsys, tmp_path, case):
    case_id, argv, words = case
    name = "cnn.simpel" if case_id == "unknown_model" else "mlp.baseline"
    argv = [a.format(file=_file(tmp_path)) for a in argv]
    if not any(a in ("--log-dir", "--directory") for a in argv):
        argv += ["--log-dir", str(tmp_path / "tuning")]
    exits(capsys, lambda: tuning_cli.main([name, "--quick", *argv]), *words)
    assert not (tmp_path / "tuning").exists()


def test_a_worker_without_chief_gives_up_in_time_and_says_why(capsys, tmp_path):
    """Every wait is bounded and announced; the environment is restored."""
    before = dict(os.environ)
    start = time.monotonic()
    exits(capsys, lambda: tuning_cli.main(
        ["mlp.baseline", "--quick", "--role", "worker", "--oracle-address", "127.0.0.1:1",
         "--chief-timeout", "2", "--log-dir", str(tmp_path)]),
        "Waiting up to 2 s for the chief at 127.0.0.1:1",
        "Could not reach the chief at 127.0.0.1:1 within 2 s")
    assert time.monotonic() - start < 60
    assert dict(os.environ) == before  # no KERASTUNER_* left for a later search
    assert not list(tmp_path.rglob("trial_*"))


def test_a_worker_process_without_chief_exits_with_the_reason(tmp_path):
    """The reported hang, as a user runs it: `python -m recipes tune --role worker`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-m", "recipes", "tune", "mlp.baseline", "--quick", "--role",
         "worker", "--oracle-address", "127.0.0.1:1", "--chief-timeout", "2",
         "--log-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    assert "Waiting up to 2 s for the chief at 127.0.0.1:1" in done.stderr
    assert "Could not reach the chief at 127.0.0.1:1 within 2 s" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("trial_*"))


def test_the_battery_counts_at_least_150_cases_as_the_readme_says():
    import pathlib
    import re

    from tests import test_bad_inputs_api as api
    from tests import test_bad_inputs_args as args

    api_cases = len(api.DATA_CASES) + len(args.ARGUMENT_CASES) + len(api.SEARCH_CASES) + 1
    cli_cases = len(RECIPE_CASES) + 3 + len(MAIN_CASES) + len(TUNE_CASES) + 2
    assert api_cases + cli_cases >= 150
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    said = re.search(r"covers (\d+) bad inputs", readme)
    assert said and int(said.group(1)) == api_cases + cli_cases
