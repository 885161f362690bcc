"""What every recipe shares: its command-line options and a reproducible start.

A recipe stays a plain script; it calls ``parse_args`` and ``start`` at the
top and then tells its own story (data, model, training, evaluation).
"""

import argparse
import dataclasses
import os
import pathlib
import sys


@dataclasses.dataclass(frozen=True)
class RunDirs:
    """Where a run writes: TensorBoard logs, the report, the saved model."""

    root: pathlib.Path
    tensorboard: pathlib.Path
    report: pathlib.Path
    backup: pathlib.Path
    model: pathlib.Path


def parse_args(description, *, epochs, quick_epochs=2, argv=None, extra=None):
    """Parse the options every recipe takes.

    Args:
        description: the recipe's docstring (shown by ``--help``).
        epochs: default number of epochs for a full run.
        quick_epochs: epochs used by ``--quick`` (a smoke test for CI).
        argv: arguments to parse (default ``sys.argv[1:]``).
        extra: optional callable ``extra(parser)`` adding recipe-specific options.
    """
    name = pathlib.Path(sys.argv[0]).stem if argv is None else "recipe"
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true",
                        help="a few steps on a slice of the data (for tests)")
    parser.add_argument("--log-dir", "--logdir", dest="log_dir",
                        default=os.path.join("runs", name),
                        help="run folder: TensorBoard logs, report, model (default "
                        "%(default)s; --logdir is its old name)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for data splits, initialization and shuffling")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"training epochs (default {epochs}, {quick_epochs} with --quick)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = quick_epochs if args.quick else epochs
    if args.epochs < 1:
        parser.error(f"--epochs must be a positive integer, got {args.epochs}")
    return args


def start(args):
    """Seed everything, make TensorFlow deterministic, create the run folder.

    Op determinism costs a little speed on CPU (see README) and buys identical
    metrics for identical seeds on the same machine.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    root = pathlib.Path(args.log_dir)
    dirs = RunDirs(
        root=root,
        tensorboard=root / "tensorboard",
        report=root / "report",
        backup=root / "backup",
        model=root / "model.keras",
    )
    dirs.report.mkdir(parents=True, exist_ok=True)
    return dirs


def save_model(model, path):
    """Save ``model`` to ``path`` unless a weight is NaN or Inf.

    A diverged run must never replace a good model on disk, and neither
    must a save cut short: the file is written whole, then swapped in.
    """
    from zoo.core.files import atomic_path
    from zoo.core.finite import describe_rows, non_finite_weights

    bad = non_finite_weights(model)
    if bad:
        raise RuntimeError(f"Not saving to {path}: the model has non-finite "
                           f"weights (training diverged): "
                           f"{describe_rows('the model', bad, 'weights')}.")
    with atomic_path(path) as tmp:
        model.save(tmp)


def print_outputs(dirs):
    """Print where the run left its report, model and TensorBoard logs."""
    print(f"\nReport and plots: {dirs.report}")
    if dirs.model.exists():
        print(f"Model: {dirs.model}")
    print(f"TensorBoard logs: {dirs.tensorboard}  (view: tensorboard --logdir {dirs.tensorboard})")
