"""A run folder records what made its run; a rerun is checked against it.

``recipes.common.start`` calls `open_run` before it touches anything. The
run folder's ``run.json`` holds what made the run: the recipe, the seed, the
epochs, every other recipe option, a fingerprint of each option that names a
file or folder (data), the package versions and, once the recipe has loaded
its data, a fingerprint of the split arrays (`check_data`). The rules:

- a new or empty folder starts a new run;
- the same recipe with the same options into an interrupted run's folder
  resumes it and says so ("resuming run runs/x at epoch 6 of 40");
- any difference (seed, epochs, options, data, recipe) is refused before
  anything is touched, naming each difference and the ways out: another
  ``--log-dir``, or ``--fresh``, which moves the old run aside to
  ``<folder>.old-<time>`` (nothing is ever deleted);
- a finished run (``print_outputs`` ran, or ``model.keras`` exists) is never
  overwritten: refused the same way;
- a damaged backup is refused the same way, naming the damaged file;
- a folder with files but no ``run.json`` cannot be checked: refused.
"""

import datetime
import hashlib
import json
import os
import pathlib
import sys

from zoo.core.files import write_text

RECORD = "run.json"
_NOT_COMPARED = {"log_dir", "fresh", "recipe", "coordinator", "process_id",
                 "takes_hardware"}  # where, not what
_MAX_HASHED_FILE = 256 << 20  # bigger files: size and time, not content


class RunFolderError(SystemExit):
    """A rerun that would mix two runs or overwrite one; exits with its message."""

    def __init__(self, message):
        super().__init__(f"error: {message}")


def describe(args):
    """What made a run, from its parsed command-line options (JSON-able)."""
    options = {k: _plain(v) for k, v in sorted(vars(args).items())
               if k not in _NOT_COMPARED and not k.startswith("_")}
    data = {k: fingerprint_path(v) for k, v in options.items()
            if isinstance(v, str) and v and os.path.exists(v)}
    defaults = {k: _plain(v) for k, v in getattr(args, "_defaults", {}).items()}
    # The recipe's own code: an edit is noted on resume, not refused (a
    # comment or a print changes nothing; other weights fail to load anyway).
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    source = fingerprint_path(script) if script and os.path.isfile(script) else None
    return {"recipe": getattr(args, "recipe", None), "options": options,
            "data_files": data, "source": source, "versions": _versions(),
            "_defaults": defaults}


def fingerprint_path(path):
    """A short hash of a file's bytes, or of a folder's file names, sizes and
    modification times (a folder of images is not read whole)."""
    path = pathlib.Path(path)
    digest = hashlib.sha256()
    if path.is_file() and path.stat().st_size <= _MAX_HASHED_FILE:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    else:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            stat = file.stat()
            digest.update(f"{file.relative_to(path) if file != path else ''}"
                          f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def data_fingerprint(data):
    """A short hash of the six split arrays of ``data`` (values, shapes, dtypes)."""
    import numpy as np

    digest = hashlib.sha256()
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        value = getattr(data, name, None)
        if value is None:
            digest.update(f"{name}:None".encode())
            continue
        try:
            value = np.ascontiguousarray(value)
        except (TypeError, ValueError):  # e.g. a pipeline: its files say more
            digest.update(f"{name}:{type(value).__name__}".encode())
            continue
        digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        if value.dtype == object:  # bytes of an object array are addresses
            digest.update("\0".join(map(str, value.ravel())).encode())
        else:
            digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def open_run(root, made, fresh=False):
    """Check folder ``root`` against ``made`` (what `describe` returns) and
    record the run there; returns the line to print (new, resumed, ...).

    Raises:
        RunFolderError: the folder holds another run, a finished run, a
            damaged backup or files without a record, and ``fresh`` is false.

    Example:

    >>> import argparse, os, tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "run")
    >>> made = lambda seed: describe(argparse.Namespace(recipe="demo", seed=seed, epochs=3))
    >>> open_run(folder, made(0))  # doctest: +ELLIPSIS
    'new run .../run'
    >>> open_run(folder, made(1))  # doctest: +ELLIPSIS, +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RunFolderError: error: .../run holds another run; this one differs in:
      - --seed: 0 before, 1 now
    ...
    >>> open_run(folder, made(1), fresh=True)  # doctest: +ELLIPSIS
    '--fresh: moved the old run .../run aside to .../run.old-...; new run .../run'
    """
    root = pathlib.Path(root)
    if root.exists() and not root.is_dir():
        raise RunFolderError(f"--log-dir {root} is a file, not a folder: give a "
                             "folder path for the run.")
    if fresh and _has_files(root):
        if root.resolve() in (pathlib.Path.cwd(), *pathlib.Path.cwd().parents):
            raise RunFolderError(f"--fresh would move {root}, the current folder or "
                                 "one above it, aside: give a --log-dir of its own.")
        aside = _move_aside(root)
        note = f"--fresh: moved the old run {root} aside to {aside}; "
    else:
        note = ""
    record = _read_record(root)
    if record is None and not _has_files(root):
        _write(root, {**_recorded(made), "started": _now(), "finished": False})
        return f"{note}new run {root}"
    ways = _ways_out(root)
    if record is None:
        raise RunFolderError(
            f"{root} already holds files but no {RECORD} (made by another "
            f"program, or before runs were recorded), so a rerun cannot tell "
            f"whether it is the same run. {ways}")
    differences = _differences(record, made)
    if differences:
        listed = "\n".join(f"  - {line}" for line in differences)
        raise RunFolderError(
            f"{root} holds another run; this one differs in:\n{listed}\n"
            f"Refusing to mix two runs (nothing was touched). {ways}")
    if record.get("finished") or (root / "model.keras").exists():
        raise RunFolderError(
            f"{root} holds a finished run (its model and report are there); "
            f"refusing to overwrite it. {ways}")
    return _resume(root, record, made, ways)


def check_data(root, data):
    """Record the fingerprint of ``data``'s splits in the run record; refuse
    (before training) if a resumed run recorded other splits."""
    root = pathlib.Path(root)
    record = _read_record(root) or {}
    now = data_fingerprint(data)
    before = record.get("data_splits")
    if before is not None and before != now:
        raise RunFolderError(
            f"{root} holds a run trained on other data: the split arrays' "
            f"fingerprint was {before}, it is {now} now (the data files or the "
            f"way they are split changed). Refusing to mix two runs. {_ways_out(root)}")
    if before is None:
        _write(root, {**record, "data_splits": now})


def mark_finished(root):
    """Record that the run in ``root`` finished: a rerun will not overwrite it."""
    root = pathlib.Path(root)
    record = _read_record(root)
    if record is not None and not record.get("finished"):
        _write(root, {**record, "finished": True, "ended": _now()})


def _resume(root, record, made, ways):
    from callbacks.backup_and_restore import BackupDamagedError, check_backup

    epochs = made["options"].get("epochs")
    done = []
    backup = root / "backup"
    folders = sorted({p.parent for p in backup.rglob("*") if p.is_file()}) \
        if backup.is_dir() else []
    for folder in folders:
        try:
            epoch = check_backup(folder)
        except BackupDamagedError as error:
            raise RunFolderError(f"{error} {ways}") from None
        if epoch is not None:
            name = folder.relative_to(backup).as_posix()
            variant = "" if name == "." else f"variant {name} "  # a study's
            done.append(f"{variant}at epoch {epoch + 1} of {epochs}")
    # The record is left as it was: `check_data` may still refuse the rerun.
    changed = [f"{k} {record.get('versions', {}).get(k)} -> {v}"
               for k, v in made["versions"].items()
               if record.get("versions", {}).get(k) != v]
    if made.get("source") and record.get("source") not in (None, made["source"]):
        changed.append("the recipe's code")
    changed = f" (changed since it started: {', '.join(changed)})" if changed else ""
    if not done:
        aside = _move_aside(root / "tensorboard") if (root / "tensorboard").exists() else None
        moved = f"; its partial TensorBoard logs moved to {aside}" if aside else ""
        return (f"run {root} was interrupted before its first backup: "
                f"starting it over{moved}{changed}")
    return f"resuming run {root}{' ' if len(done) == 1 else ': '}{', '.join(done)}{changed}"


def _recorded(made):
    return {k: v for k, v in made.items() if not k.startswith("_")}


def _differences(record, made):
    out = []
    if record.get("recipe") != made["recipe"]:
        out.append(f"recipe: {record.get('recipe')!r} before, {made['recipe']!r} now")
    before, now = record.get("options", {}), made["options"]
    for key in sorted(set(before) | set(now)):
        new_at_default = key not in before and now.get(key) == made["_defaults"].get(key, ())
        if before.get(key) != now.get(key) and not new_at_default:
            out.append(f"--{key.replace('_', '-')}: {_show(before, key)} before, "
                       f"{_show(now, key)} now")
    before, now = record.get("data_files", {}), made["data_files"]
    for key in sorted(set(before) & set(now)):
        if before[key] != now[key]:
            out.append(f"data: the files under --{key.replace('_', '-')} "
                       f"{made['options'][key]} changed since the run started")
    return out


def _show(options, key):
    return repr(options[key]) if key in options else "not given"


def _ways_out(root):
    return (f"Ways out: give another --log-dir for a new run, or rerun with "
            f"--fresh, which moves {root} aside to {root}.old-<time> (nothing is "
            "deleted).")


def _has_files(root):
    return root.is_dir() and any(root.iterdir())


def _move_aside(path):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside, n = path.with_name(f"{path.name}.old-{stamp}"), 1
    while aside.exists():
        aside, n = path.with_name(f"{path.name}.old-{stamp}-{n}"), n + 1
    os.rename(path, aside)
    return aside


def _read_record(root):
    path = root / RECORD
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record
    except (OSError, ValueError) as error:
        raise RunFolderError(
            f"the run record {path} is damaged ({error}), so a rerun cannot "
            f"tell whether it is the same run. {_ways_out(root)}") from None


def _write(root, record):
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / RECORD, json.dumps(record, indent=2) + "\n")


def _versions():
    from importlib import metadata

    out = {}
    for name in ("keras-recipe-zoo", "keras"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
