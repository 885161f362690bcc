"""Write a file whole or not at all.

Every file the package writes over an earlier one (backups, saved models,
tuning results, reports, plots) goes through `atomic_path`. What it adds
over a plain `open(path, "w")` or `model.save(path)`:

- `path` holds either the old file or the complete new one, never half a
  file, even when the process is killed mid-write: the data goes to a
  temporary file in the same folder, which `os.replace` then swaps in
  (an atomic rename on POSIX and Windows);
- when the writer raises, the temporary file is removed, the old file is
  left as it was, and the exception gets a note naming `path`;
- it serves writers that take a path rather than a file object
  (`model.save`, `save_weights`, `savefig`, `np.savez`): the temporary name
  ends with the real file name, so suffix checks (`.keras`, `.weights.h5`)
  and format detection (`.png`) still work.

It guards against a killed process, not against a power cut (there is no
`fsync`, which would slow down backups at every epoch).
"""

import contextlib
import os
import pathlib
import secrets


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; swap it in if the block succeeds.

    Args:
        path: the file to write (str or path-like); its folder must exist.

    Yields:
        A path (str) in the same folder, ending with the same file name, that
        does not exist yet. Write the whole file there.

    Raises:
        Whatever the block raises, with a note naming `path`; the temporary
        file is removed and `path` is unchanged. `FileNotFoundError` if the
        block wrote nothing.

    Example:

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "scores.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("0.93\\n")
    >>> target.read_text()
    '0.93\\n'
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{secrets.token_hex(4)}-{name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if hasattr(error, "add_note"):  # Python >= 3.11
            error.add_note(f"While writing {path!r}; the file there, if any, is unchanged.")
        raise


def remove_stale_temporaries(folder):
    """Remove what `atomic_path` left behind in `folder` (and below) when its
    process was killed mid-write: the temporary files of processes no longer
    running. Those of running processes are kept. Returns the paths removed.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".tmp-999999999-00ff00ff-model.keras").write_bytes(b"half")
    >>> [p.name for p in remove_stale_temporaries(folder)]
    ['.tmp-999999999-00ff00ff-model.keras']
    """
    removed = []
    for path in sorted(pathlib.Path(folder).rglob(".tmp-*")):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or not path.is_file() or _running(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0  # exists but is not ours; an absurd pid is not running
    return True


def write_text(path, text, encoding="utf-8"):
    """Write `text` to `path` atomically (newlines kept as given).

    Example:

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> write_text(target, '{"accuracy": 0.9}\\n')
    >>> target.read_text()
    '{"accuracy": 0.9}\\n'
    """
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as f:
            f.write(text)


def save_figure(figure, path, **kwargs):
    """Save a matplotlib ``figure`` to `path` atomically (``savefig`` keyword
    arguments pass through; the format follows `path`'s suffix).

    Example:

    >>> import pathlib, tempfile
    >>> from matplotlib.figure import Figure
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "curve.png"
    >>> save_figure(Figure(), target, dpi=50)
    >>> target.read_bytes()[:4]
    b'\\x89PNG'
    """
    path = os.fspath(path)
    kwargs.setdefault("format", os.path.splitext(path)[1][1:] or "png")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, **kwargs)


def write_bytes(path, data):
    """Write `data` (bytes) to `path` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
