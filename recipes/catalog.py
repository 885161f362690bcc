"""The recipes in this folder: every ``recipes/<name>.py`` not starting with ``_``
and not one of the package's own modules, described by its docstring's first line."""

import ast
import dataclasses
import pathlib

_HERE = pathlib.Path(__file__).parent
_NOT_RECIPES = {"__init__", "__main__", "catalog", "common", "compare", "tuning_cli"}


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    path: pathlib.Path


def list_recipes():
    """All recipes, sorted by name (read from the files, nothing imported)."""
    recipes = []
    for path in sorted(_HERE.glob("*.py")):
        if path.stem.startswith("_") or path.stem in _NOT_RECIPES:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first_line = doc.strip().splitlines()[0] if doc.strip() else ""
        recipes.append(Recipe(path.stem, first_line, path))
    return recipes
