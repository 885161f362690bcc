"""Every `>>>` example in the public docstrings of `zoo` and `callbacks` runs.

One test per module, found by walking the package folders. Private modules
(a name part starting with `_`) are included only when they hold examples.
Then one test per registered model runs the example of `zoo.describe(name)`
(the RNN builders are `functools.partial`s, which module walks skip).
"""

import doctest
import importlib
import os
import pathlib

import pytest

import zoo
from zoo.models import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("zoo", "callbacks")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            private = any(part.startswith("_") for part in parts)
            if private and ">>>" not in path.read_text(encoding="utf-8"):
                continue
            names.append(".".join(parts))
    return names


MODULES = _module_names()


def test_modules_found():
    # Guards the walk itself: an empty list would pass every test below.
    assert {"zoo", "zoo.models.registry", "callbacks"} <= set(MODULES)


@pytest.fixture(autouse=True)
def _sandbox(tmp_path, monkeypatch):
    # Examples that write files write them in a fresh folder; a model an
    # example registers is gone afterwards, and so are environment variables
    # an example sets (`configure_distributed` makes every later keras-tuner
    # search in this process a worker of a chief that does not exist).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    environ = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(environ)


def _run(tests):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out = []
    for test in tests:
        if test.examples:
            runner.run(test, out=out.append, clear_globs=True)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(out)
    return result.attempted


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    _run(doctest.DocTestFinder(exclude_empty=True).find(module, module_name))


@pytest.mark.parametrize("name", zoo.list_models())
def test_model_documentation_example(name):
    doc = zoo.describe(name).doc
    test = doctest.DocTestParser().get_doctest(doc, {}, f"zoo.describe({name!r})", None, 0)
    assert _run([test]) >= 2, "every model's documentation has an example"
