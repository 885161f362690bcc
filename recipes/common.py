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

    def check_data(self, data):
        """Record a fingerprint of ``data``'s split arrays in the run record;
        a resumed run whose splits differ is refused here, before training.

        Call it once the recipe has its data (``recipes.run_folder``).
        """
        from recipes.run_folder import check_data

        check_data(self.root, data)


def parse_args(description, *, epochs, quick_epochs=2, argv=None, extra=None,
               hardware=False):
    """Parse the options every recipe takes.

    Args:
        description: the recipe's docstring (shown by ``--help``).
        epochs: default number of epochs for a full run.
        quick_epochs: epochs used by ``--quick`` (a smoke test for CI).
        argv: arguments to parse (default ``sys.argv[1:]``).
        extra: optional callable ``extra(parser)`` adding recipe-specific options.
        hardware: whether the recipe trains on several devices or processes
            (``zoo.core.hardware``); if not, ``--devices`` and the process
            options are refused.
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
    parser.add_argument("--fresh", action="store_true",
                        help="start over: move an earlier run in --log-dir aside "
                        "to <log-dir>.old-<time> (never deleted)")
    _hardware_options(parser)
    add_data_options(parser)
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.recipe = name  # recorded in the run folder, not an option
    args.takes_hardware = hardware  # not an option either
    # An option added since a run was recorded is no difference at its default.
    args._defaults = {a.dest: a.default for a in parser._actions if a.dest != "help"}
    if args.epochs is None:
        args.epochs = quick_epochs if args.quick else epochs
    if args.epochs < 1:
        parser.error(f"--epochs must be a positive integer, got {args.epochs}")
    check_common_options(parser, args)
    return args


def check_common_options(parser, args):
    """`--seed` fits a NumPy seed and `--log-dir` is a folder that can be
    written, else ``parser.error`` (exit 2, usage and the reason)."""
    from zoo.core.checks import check_folder

    if not 0 <= args.seed < 2**32:
        parser.error(f"--seed must be an integer in 0 ... {2**32 - 1}; got {args.seed}")
    try:
        check_folder("--log-dir", args.log_dir)
    except (TypeError, ValueError) as error:
        parser.error(str(error))


def add_data_options(parser):
    """Train on the user's own data (README "Your data"; `zoo.data.load_path`)."""
    group = parser.add_argument_group("your data")
    group.add_argument("--data", default=None, metavar="PATH",
                       help="a folder of images or .txt files with one subfolder per class "
                       "(optionally inside train/, validation/, test/), or a .csv file")
    group.add_argument("--image-size", type=int, default=64, metavar="N",
                       help="images are resized to N x N pixels (default %(default)s)")
    group.add_argument("--target", default=None, metavar="COLUMN",
                       help="the CSV column to predict (with --data FILE.csv)")


def user_data(args, kinds, **options):
    """The data set at ``--data`` (``zoo.data.load_path``), or None without
    ``--data``. Bad data end the run before training with ``error: --data:
    ...``, the path and what is allowed; ``kinds`` is what the recipe can take."""
    if args.data is None:
        return None
    from zoo.data import load_path

    try:
        return load_path(args.data, kinds, target=args.target, seed=args.seed,
                         image_size=args.image_size, **options)
    except (OSError, ValueError, TypeError) as error:
        raise SystemExit(f"error: --data: {error}") from None


def _devices(value):
    if value != "all" and not (value.isdigit() and int(value) >= 1):
        raise argparse.ArgumentTypeError(f"must be 'all' or a number >= 1, got {value!r}")
    return value if value == "all" else int(value)


def _hardware_options(parser):
    """Where to train (README "More hardware"; `zoo.core.hardware`)."""
    group = parser.add_argument_group("hardware")
    group.add_argument("--devices", type=_devices, default=None,
                       help="data-parallel over 'all' local devices or N of them; "
                       "the global batch is the recipe's batch times the devices")
    group.add_argument("--backend", choices=("tensorflow", "jax"), default=None,
                       help="Keras backend (python -m recipes run sets it before Keras loads)")
    group.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                       help="several processes (JAX): process 0's address "
                       "(or KRZ_COORDINATOR)")
    group.add_argument("--num-processes", type=int, default=None, metavar="N",
                       help="several processes: how many (or KRZ_NUM_PROCESSES, SLURM_NTASKS)")
    group.add_argument("--process-id", type=int, default=None, metavar="I",
                       help="several processes: this one, 0..N-1 (or KRZ_PROCESS_ID, "
                       "SLURM_PROCID); process 0 writes the run's files")


def _setup_hardware(args):
    """Sets up `--devices` and several processes; returns whether this
    process writes the run's files (process 0)."""
    import keras

    from zoo.core import hardware

    given = {"--devices": getattr(args, "devices", None) not in (None, 1),
             "--coordinator": getattr(args, "coordinator", None) is not None,
             "--num-processes": getattr(args, "num_processes", None) not in (None, 1),
             "--process-id": getattr(args, "process_id", None) is not None}
    asked = [name for name, yes in given.items() if yes]
    if asked and not getattr(args, "takes_hardware", True):
        raise SystemExit(f"error: recipe {args.recipe} trains on one device: it does "
                         f"not take {', '.join(asked)} (digits_cnn does, for one; README "
                         "\"More hardware\").")
    backend = getattr(args, "backend", None)
    if backend and backend != keras.backend.backend():
        raise SystemExit(f"error: --backend {backend} but Keras already runs on "
                         f"{keras.backend.backend()}: use `python -m recipes run NAME "
                         f"--backend {backend}` or set KERAS_BACKEND={backend}.")
    try:
        hardware.setup(getattr(args, "devices", None), getattr(args, "coordinator", None),
                       getattr(args, "num_processes", None), getattr(args, "process_id", None))
    except (TypeError, ValueError) as e:
        raise SystemExit(f"error: {e}") from None
    return hardware.is_chief()


def start(args):
    """Check the run folder, seed everything, make TensorFlow deterministic.

    The run folder records what made the run (``run.json``: recipe, options,
    data fingerprints, versions). A rerun into it resumes only the same
    interrupted run and says so; another run, a finished run or a damaged
    backup there is refused before anything is touched, unless ``--fresh``
    moves the old run aside (``recipes.run_folder`` has the rules). Op
    determinism costs a little speed on CPU (see README) and buys identical
    metrics for identical seeds on the same machine.
    """
    import keras
    import tensorflow as tf

    from recipes.run_folder import describe, open_run
    from zoo.core import hardware
    from zoo.core.files import remove_stale_temporaries

    chief = _setup_hardware(args)
    if chief:  # the other processes follow process 0's run folder
        print(open_run(args.log_dir, describe(args), fresh=getattr(args, "fresh", False)))
        if os.path.isdir(args.log_dir):  # half-written files of a killed run
            remove_stale_temporaries(args.log_dir)
    hardware.barrier("run folder checked")  # before any process reads its backup
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
    if not chief:  # writes nothing in the shared folder but reads its backup
        import atexit
        import shutil
        import tempfile

        private = pathlib.Path(tempfile.mkdtemp(prefix="krz-process-"))
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        dirs = dataclasses.replace(dirs, root=private, tensorboard=private / "tensorboard",
                                   report=private / "report", model=private / "model.keras")
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
    """Record the run as finished, and print where it left its report, model
    and TensorBoard logs. A finished run is never overwritten by a rerun."""
    from recipes.run_folder import mark_finished

    mark_finished(dirs.root)
    print(f"\nReport and plots: {dirs.report}")
    if dirs.model.exists():
        print(f"Model: {dirs.model}")
    print(f"TensorBoard logs: {dirs.tensorboard}  (view: tensorboard --logdir {dirs.tensorboard})")
