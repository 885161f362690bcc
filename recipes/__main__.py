"""Command line: ``python -m recipes list | run NAME [recipe options]``.

The console script ``keras-recipe-zoo`` is the same program.
"""

import argparse
import difflib
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
    sys.argv = [f"recipes/{name}.py", *recipe_argv]
    runpy.run_module(f"recipes.{name}", run_name="__main__", alter_sys=True)


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
        "(--quick, --log-dir DIR, --seed N, --epochs N)",
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
