"""The layout keeps its promises: the import rule, one definition per
concept, and modules small enough to read.

Imports are read with `ast` (function-level imports included) rather than
from `sys.modules`, because importing any `zoo` submodule runs
`zoo/__init__.py`, which registers the model families on purpose.
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("zoo", "callbacks", "recipes")
# What callbacks may use of zoo: the shared core, and the scores and
# figures that SklearnMetrics shares with zoo.evaluation.evaluate.
CALLBACKS_MAY_IMPORT = ("zoo.core", "zoo.evaluation.scores", "zoo.evaluation.figures")


def _sources(package):
    return sorted((ROOT / package).rglob("*.py"))


def _imported_modules(path):
    """Every module `path` imports, as dotted names (`from a import b` -> `a.b`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _within(name, prefixes):
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(package, allowed):
    """`file: module` for each import of another package of ours not allowed."""
    bad = []
    for path in _sources(package):
        for name in _imported_modules(path):
            top = name.split(".")[0]
            if top in PACKAGES and top != package and not allowed(name):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    return bad


def test_zoo_never_imports_callbacks_or_recipes():
    assert _violations("zoo", allowed=lambda name: False) == []


def test_callbacks_import_only_zoos_core():
    def allowed(name):
        return _within(name, CALLBACKS_MAY_IMPORT)

    assert _violations("callbacks", allowed) == []


def test_the_import_check_sees_a_forbidden_import(tmp_path):
    # The checks above would pass vacuously if the parser missed imports.
    fake = tmp_path / "m.py"
    fake.write_text("def f():\n    from zoo.models import registry\n    import callbacks\n")
    assert _imported_modules(fake) == ["zoo.models.registry", "callbacks"]
    assert not _within("zoo.models.registry", CALLBACKS_MAY_IMPORT)
    assert _within("zoo.core.tasks", CALLBACKS_MAY_IMPORT)


@pytest.mark.parametrize("package", PACKAGES + ("bench",))
def test_modules_stay_under_400_lines(package):
    long = {str(p.relative_to(ROOT)): n for p in _sources(package)
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def _definitions(pattern):
    """Files of zoo/ and callbacks/ whose source matches `pattern`."""
    regex = re.compile(pattern, re.MULTILINE)
    return sorted(str(p.relative_to(ROOT)) for package in ("zoo", "callbacks")
                  for p in _sources(package) if regex.search(p.read_text()))


@pytest.mark.parametrize("concept, pattern, home", [
    ("the task list", r"^TASKS = ", "zoo/core/tasks.py"),
    ("argument checks", r"^def check_choice\(", "zoo/core/checks.py"),
    ("atomic writes", r"os\.replace\(", "zoo/core/files.py"),
    ("confusion-matrix figures", r"^def \w*confusion\w*\(", "zoo/evaluation/figures.py"),
    ("ROC figures", r"^def (\w*_)?roc\w*\(", "zoo/evaluation/figures.py"),  # not process_*
    ("regression scores", r"^def regression_scores\(", "zoo/evaluation/scores.py"),
])
def test_one_definition_per_concept(concept, pattern, home):
    assert _definitions(pattern) == [home], concept
