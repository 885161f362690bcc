"""Command line: ``python -m recipes list | run NAME [recipe options]``.

The console script ``keras-recipe-zoo`` is the same program.
"""

import argparse
import difflib
import errno
import os
import runpy
import sys

from recipes.catalog import list_recipes


def _run(name, recipe_argv):
    names = [r.name for r in list_recipes()]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise SystemExit(
            f"error: unknown recipe {name!r}.{hint} Available: {', '.join(names)}"
        )
    _set_backend(recipe_argv)
    sys.argv = [f"recipes/{name}.py", *recipe_argv]
    try:
        runpy.run_module(f"recipes.{name}", run_name="__main__", alter_sys=True)
    except Exception as error:  # noqa: BLE001 (only write failures are caught)
        message = _write_failure(error)
        if message is None:
            raise
        raise SystemExit(message) from None


def _set_backend(recipe_argv):
    """``--backend NAME`` sets ``KERAS_BACKEND`` before the recipe imports
    Keras (the recipe checks it again; ``recipes.common``)."""
    for i, arg in enumerate(recipe_argv):
        if arg.startswith("--backend="):
            os.environ["KERAS_BACKEND"] = arg.split("=", 1)[1]
        elif arg == "--backend" and i + 1 < len(recipe_argv):
            os.environ["KERAS_BACKEND"] = recipe_argv[i + 1]


# A file the run could not write: the user can fix these and rerun. Errors
# that reading can give too count only with `atomic_path`'s "While writing".
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
_WRITE_ERRORS = {errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EEXIST}


def _write_failure(error):
    """The message for a failed write (disk full, permission, path is a
    file), or ``None`` for any other error. Every file is written whole and
    swapped in (``zoo.core.files``), so the old one is intact. TensorFlow's
    TensorBoard writer reports a full disk as its own error type."""
    text = " ".join([str(error), *getattr(error, "__notes__", [])])
    code = getattr(error, "errno", None)
    if not (code in _FULL or "No space left" in text
            or (code in _WRITE_ERRORS and "While writing" in text)):
        return None
    return (f"error: the run could not write a file: {text}\n"
            "Files written before (model, report, backup) are unchanged and no "
            "partial file was left. Free some space or fix the path or "
            "permission, then rerun the same command: it resumes from the backup.")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m recipes",
        description="List and run the keras-recipe-zoo training recipes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the recipes with one-line descriptions")
    run = sub.add_parser(
        "run",
        help="run one recipe; options after NAME go to the recipe "
        "(--quick, --log-dir DIR, --seed N, --epochs N, --devices all|N, "
        "--backend jax, --coordinator HOST:PORT --num-processes N --process-id I)",
    )
    run.add_argument("name")
    sub.add_parser(
        "tune", add_help=False,
        help="hyperparameter search over a zoo model: tune NAME --strategy "
        "{grid,random,bayesian,hyperband} --max-trials N (tune --help for more)",
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "tune":
        from recipes import tuning_cli

        return tuning_cli.main(rest)

    if args.command == "list" and rest:
        parser.error(f"list takes no arguments; got {' '.join(rest)!r}")
    if args.command == "list":
        recipes = list_recipes()
        width = max(len(r.name) for r in recipes)
        for recipe in recipes:
            print(f"{recipe.name:<{width}}  {recipe.description}")
        return 0
    _run(args.name, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
