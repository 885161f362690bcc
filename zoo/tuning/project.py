"""The project folder of a search: who owns it, who runs it, safe overwrite.

A search holds an exclusive lock (`fcntl.flock`) on
`<project>/.zoo_tuning.lock` while it runs, and writes an owner file
`<project>/zoo_tuning.json` (model, strategy, objective) when it creates
the project. Then:

- a second search of the same project while one runs is refused, instead
  of two oracles overwriting each other's state;
- `overwrite=True` deletes only a folder made by `zoo.tuning` (owner file
  present) that no running process holds; anything else is refused with
  a clear error and left untouched;
- resuming a project with another model, strategy, objective, data set
  (its name, or the `data` fingerprint a job gives), number of epochs,
  search space or fixed values is refused (more `max_trials` is fine:
  the search goes on).

The kernel drops the lock when its process dies, even by SIGKILL, so a
killed search never blocks its own resume. Distributed workers take no
lock: the chief holds it for the whole search.
"""

import errno
import fcntl
import json
import os
import shutil
import socket
import time

from zoo.core.checks import renamed_arguments
from zoo.core.files import write_text

OWNER_NAME = "zoo_tuning.json"
LOCK_NAME = ".zoo_tuning.lock"
# Facts of the owner file that must match to resume a project: a trial
# trained for other epochs, on other data, or drawn from another space would
# be ranked against trials it is not comparable with. `max_trials` may grow.
MATCH_KEYS = ("model", "strategy", "objective", "dataset", "data", "epochs", "space", "fixed")


class ProjectInUseError(RuntimeError):
    """Another process is running a search in this project folder."""


class Project:
    """A search's project folder, locked for the life of the search.

    Args:
        log_dir: the folder that holds projects (keras-tuner's `directory`,
            the old name of this argument, still accepted with a
            `DeprecationWarning`).
        project_name: the project's sub-folder.
        info: JSON-ready facts about the job; `MATCH_KEYS` must match the
            owner file of an existing project to resume it.

    Example:

    >>> with Project("runs/tuning", "digits", {"model": "cnn.simple"}).open():
    ...     pass  # run the search
    """

    @renamed_arguments(directory="log_dir")
    def __init__(self, log_dir, project_name, info=None):
        self.log_dir = os.fspath(log_dir)
        self.project_name = project_name
        self.path = os.path.join(self.log_dir, project_name)
        self.info = dict(info or {})
        self._lock_file = None

    def get_config(self):
        return {"log_dir": self.log_dir, "project_name": self.project_name,
                "info": dict(self.info)}

    def owner(self):
        """The owner file's content, or None if there is none."""
        try:
            with open(os.path.join(self.path, OWNER_NAME), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def open(self, overwrite=False, lock=True):
        """Lock the folder, then apply `overwrite` or check it can be resumed.

        Args:
            overwrite: start afresh: delete the folder's content first.
            lock: take the lock (False on a distributed worker).

        Returns:
            self, a context manager that releases the lock on exit.
        """
        os.makedirs(self.path, exist_ok=True)
        if lock:
            self._acquire()
        try:
            if overwrite:
                self._clear()
            else:
                self._check_resumable()
            if self.owner() is None:
                self._write_owner()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Release the lock (the lock file stays, for the next search)."""
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor drops the flock
            self._lock_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _acquire(self):
        f = open(os.path.join(self.path, LOCK_NAME), "a+", encoding="utf-8")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = f.read() if f.seek(0) == 0 else ""
            f.close()
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise ProjectInUseError(
                f"The tuning project {self.path!r} is in use by another process "
                f"({holder.strip() or 'unknown'}). Wait for it to finish, or use another "
                "`project_name`/`log_dir`; nothing was changed."
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on host {socket.gethostname()}\n")
        f.flush()
        self._lock_file = f

    def _clear(self):
        if self._lock_file is None:
            raise ValueError(
                "`overwrite=True` needs the project lock; a distributed worker cannot "
                "overwrite (only the chief may)."
            )
        others = [n for n in os.listdir(self.path) if n != LOCK_NAME]
        if others and self.owner() is None:
            raise ValueError(
                f"Refusing `overwrite=True`: {self.path!r} holds files that zoo.tuning did "
                f"not create (no {OWNER_NAME}), e.g. {sorted(others)[:3]}. Delete it "
                "yourself or choose another `project_name`."
            )
        for name in others:  # the lock file stays: we hold it
            full = os.path.join(self.path, name)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.remove(full)

    def _check_resumable(self):
        owner = self.owner()
        if owner is None:
            return
        # As the owner file holds them (tuples become lists); a fact an
        # older owner file lacks is not compared.
        now = json.loads(json.dumps(self.info, default=str))
        changed = {k: _difference(owner[k], now[k]) for k in MATCH_KEYS
                   if k in now and k in owner and owner[k] != now[k]}
        if changed:
            details = ", ".join(f"{k}: {old!r} there, {new!r} now"
                                for k, (old, new) in changed.items())
            raise ValueError(
                f"The tuning project {self.path!r} was made by another search ({details}). "
                "Pass `overwrite=True` (`--overwrite`) to start afresh, or use another "
                "`project_name` (`--project-name`)."
            )

    def _write_owner(self):
        owner = dict(self.info, created=time.strftime("%Y-%m-%dT%H:%M:%S"),
                     host=socket.gethostname(), pid=os.getpid())
        write_text(os.path.join(self.path, OWNER_NAME),
                   json.dumps(owner, indent=2, default=str))


def _difference(old, new):
    """``(old, new)``, cut to the entries that differ when both are dicts."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in {**old, **new} if old.get(k, _MISSING) != new.get(k, _MISSING)]
        return ({k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new})
    return old, new


_MISSING = object()
