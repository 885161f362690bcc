"""``python -m recipes tune NAME``: a hyperparameter search over a zoo model.

    python -m recipes tune cnn.simple --strategy bayesian --max-trials 20 \\
        [--objective val_f1] [--dataset digits] [--epochs 20] [--prune] \\
        [--space learning_rate=1e-4:1e-1:log --space optimizer=adam,sgd] \\
        [--fixed activation=relu] [--log-dir runs/tuning] [--overwrite] \\
        [--role chief|worker --oracle-address HOST:PORT] [--quick]

The data set defaults to the model's input kind (image: digits, sequence:
mnist1d, tokens: tokens, features: breast_cancer); ``--data PATH`` takes
your own image or text folder, or a CSV file with ``--target COLUMN``
(README "Your data"). The search decides on
the validation split (scikit-learn metrics such as ``val_f1`` are logged by
``callbacks.SklearnMetrics``); the test split is used once, to report on
the best model. Running the same command again resumes the search.
"""

import argparse
import os
import sys
import warnings

from recipes.common import add_data_options, check_common_options, user_data

DEFAULT_DATASETS = {"image": "digits", "sequence": "mnist1d", "tokens": "tokens",
                    "features": "breast_cancer"}
_QUICK = {"train": 256, "val": 128, "epochs": 2}


def parse_value(text):
    """`"3"` -> 3, `"1e-3"` -> 0.001, `"true"` -> True, `"none"` -> None, else the text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text.strip()


def parse_spec(text):
    """`"1e-4:1e-1:log"` -> a range tuple; `"adam,sgd"` -> a list; `"none"` -> None."""
    if ":" in text:
        return tuple(parse_value(part) for part in text.split(":"))
    value = parse_value(text)
    if value is None:
        return None
    return [parse_value(part) for part in text.split(",")]


def _pairs(items, option, parse):
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{option} expects KEY=VALUE; got {item!r}.")
        out[key.strip()] = parse(value)
    return out


def build_parser():
    p = argparse.ArgumentParser(prog="python -m recipes tune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", help="a zoo model, e.g. cnn.simple (see zoo.list_models())")
    p.add_argument("--strategy", default="random",
                   choices=("grid", "random", "bayesian", "hyperband", "lipo", "tpe"))
    p.add_argument("--max-trials", type=int, default=10, help="trial budget (default 10)")
    p.add_argument("--objective", default=None,
                   help="metric to optimize, e.g. val_f1, val_loss, max:val_auc "
                   "(default val_f1, val_loss for regression)")
    p.add_argument("--log-dir", "--directory", "--logdir", dest="log_dir",
                   default=os.path.join("runs", "tuning"),
                   help="folder holding the projects (default %(default)s; --directory "
                   "and --logdir are old names)")
    p.add_argument("--project-name", default=None, help="default: NAME-STRATEGY")
    p.add_argument("--dataset", default=None, help="default from the model's input kind")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs per trial (default 20, {_QUICK['epochs']} with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--space", action="append", metavar="KEY=SPEC",
                   help="tune KEY: LOW:HIGH[:log|:STEP], A,B,C or none (repeatable)")
    p.add_argument("--fixed", action="append", metavar="KEY=VALUE",
                   help="pin KEY to VALUE in every trial (repeatable)")
    p.add_argument("--no-default-space", action="store_true",
                   help="tune only the --space keys")
    p.add_argument("--prune", action="store_true", help="median stopping rule")
    p.add_argument("--prune-warmup", type=int, default=0, metavar="EPOCHS")
    p.add_argument("--prune-min-trials", type=int, default=5, metavar="N")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh (only a zoo.tuning project no process is running)")
    p.add_argument("--role", choices=("chief", "worker"), default=None,
                   help="distributed search: the chief serves the oracle, workers train")
    p.add_argument("--oracle-address", default=None, metavar="HOST:PORT")
    p.add_argument("--tuner-id", default=None, help="worker id (default from the role)")
    p.add_argument("--chief-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="a worker exits when the chief does not answer within this "
                   "(default %(default)g)")
    p.add_argument("--quick", action="store_true",
                   help=f"a slice of the data ({_QUICK['train']} training rows) and "
                   f"{_QUICK['epochs']} epochs, for tests")
    add_data_options(p)
    return p


def _load_data(args, input_kind):
    from zoo.data import load_dataset

    if args.data:  # the user's folder or CSV file (README "Your data")
        kinds = {"image": ("image",), "tokens": ("text",), "features": ("table", "image")}
        if input_kind not in kinds:
            raise ValueError(f"Model {args.name!r} reads {input_kind} inputs; --data "
                             "holds images, texts or tables.")
        return user_data(args, kinds[input_kind])
    name = args.dataset or DEFAULT_DATASETS[input_kind]
    data = load_dataset(name, seed=args.seed)
    if input_kind != "features" and data.input_kind != input_kind:
        raise ValueError(
            f"Model {args.name!r} reads {input_kind} inputs; data set {name!r} holds "
            f"{data.input_kind}. Use --dataset {DEFAULT_DATASETS[input_kind]}."
        )
    return data


def _fingerprint(args, data):
    """What makes a rerun's data the same, by name (a refused rerun shows
    the parts that differ): the split arrays, which ``--seed`` draws, and
    for ``--data`` the files' names, sizes and times."""
    from recipes.run_folder import data_fingerprint, fingerprint_path

    parts = {"files": fingerprint_path(args.data)} if args.data else {}
    return dict(parts, seeded_split=data_fingerprint(data))


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for option in ("max_trials", "epochs", "prune_min_trials"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be >= 1")
    if args.role and not args.oracle_address:
        parser.error("--role needs --oracle-address HOST:PORT")
    if not args.chief_timeout > 0:
        parser.error(f"--chief-timeout must be > 0 seconds; got {args.chief_timeout:g}")
    check_common_options(parser, args)
    try:
        return _tune(args)
    except ValueError as e:  # the user's input, checked before training
        raise SystemExit(f"error: {e}") from None


def _tune(args):
    import keras
    import tensorflow as tf

    import callbacks
    import zoo
    from recipes.compare import subset
    from zoo.evaluation import evaluate
    from zoo.tuning import (DistributedSearchError, MedianStopping, ProjectInUseError,
                            ZooHyperModel, run_search)

    tf.get_logger().setLevel("ERROR")
    warnings.filterwarnings("ignore", message=r"SklearnMetrics: .* already in the logs")
    info = zoo.describe(args.name)
    data = _load_data(args, info.input_kind)
    # `data` stays whole: its printed sizes and test split are the full ones.
    fit_data = subset(data, _QUICK["train"], _QUICK["val"]) if args.quick else data
    fit = fit_data.fit_args(32)  # arrays, or pipelines when images stream from a folder
    epochs = args.epochs or (_QUICK["epochs"] if args.quick else 20)
    fixed = _pairs(args.fixed, "--fixed", parse_value)
    if data.vocab_size and "vocab_size" in info.options:
        fixed.setdefault("vocab_size", data.vocab_size)
    try:
        hypermodel = ZooHyperModel(
            args.name, data.input_shape, data.num_classes, data.task,
            space=_pairs(args.space, "--space", parse_spec), fixed=fixed,
            defaults=not args.no_default_space,
        )
    except TypeError as e:
        raise ValueError(str(e)) from None
    objective = args.objective or ("val_loss" if data.task == "regression" else "val_f1")
    keras.utils.set_random_seed(args.seed)
    distributed = None
    if args.role:
        distributed = {"role": args.role, "oracle_address": args.oracle_address,
                       "tuner_id": args.tuner_id, "chief_timeout": args.chief_timeout,
                       "connect_timeout": args.chief_timeout}
    project_name = args.project_name or f"{args.name}-{args.strategy}"
    info = {"dataset": data.name}
    if args.role != "worker":  # a worker's own copy of the files may differ in times
        info["data"] = _fingerprint(args, fit_data)
    print(f"Tuning {args.name} on {data.name} ({data}); strategy {args.strategy}, "
          f"{args.max_trials} trials x {epochs} epochs, objective {objective}.", flush=True)
    try:
        result = run_search(
            hypermodel, args.strategy, objective, args.max_trials, args.log_dir,
            project_name, fit["x"], fit.get("y"), validation_data=fit["validation_data"],
            epochs=epochs, callbacks=[callbacks.SklearnMetrics(fit_data.val, task=data.task)],
            overwrite=args.overwrite, distributed=distributed, seed=args.seed,
            prune=MedianStopping(args.prune_warmup, args.prune_min_trials) if args.prune
            else None,
            info=info,
        )
    except (ProjectInUseError, DistributedSearchError) as e:
        raise SystemExit(f"error: {e}") from None
    if args.role == "worker":
        return 0
    if result.best is None or not os.path.exists(result.paths["best_model"]):
        print("No best model to evaluate.")
        return 1
    model = result.best_model()
    report = evaluate(model, **data.evaluate_args(),
                      log_dir=os.path.join(result.project_dir, "report"),
                      class_names=data.class_names)
    print(f"\nBest trial {result.best['trial_id']} on the test split:\n{report}")
    for key, path in result.paths.items():
        print(f"{key}: {path}")
    print(f"TensorBoard HParams: tensorboard --logdir {result.paths['tensorboard']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
