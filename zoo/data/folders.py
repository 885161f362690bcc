"""The user's own files: folders with one subfolder per class, and CSV files.

``load_path(path)`` is the front door the recipes' ``--data`` uses: a folder
of images, a folder of text files or a ``.csv`` file, each turned into a
split ``Dataset``. The folder layout is the one Keras's
``image_dataset_from_directory`` and ``text_dataset_from_directory`` read::

    PHOTOS/cats/001.png        or     PHOTOS/train/cats/001.png
    PHOTOS/dogs/002.jpg               PHOTOS/train/dogs/...
                                      PHOTOS/test/cats/...   (and/or validation/)

Class names are the subfolder names, sorted, as in Keras. What this adds to
Keras's indexing: existing ``train/``, ``validation/`` and ``test/``
subfolders are kept as splits, the missing ones are carved off seeded and
stratified (``train_val_test_split``), and a bad folder is refused with a
message naming the path and what is allowed.
"""

import os
import warnings

import numpy as np

from zoo.data.splits import Splits, train_val_test_split

IMAGE_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")  # as Keras's
TEXT_FORMATS = (".txt",)
TABLE_FORMATS = (".csv",)
_SPLIT_FOLDERS = {"train": "train", "validation": "val", "val": "val", "test": "test"}
_KINDS = {"image": "a folder of images (png/jpg/bmp/gif) with one subfolder per class",
          "text": "a folder of .txt files with one subfolder per class",
          "table": "a .csv file with a header row"}


def _layout_hint(path, formats):
    example = os.path.join(path, "CLASS_A", "file" + formats[0])
    return (f"expected one subfolder per class holding {'/'.join(f[1:] for f in formats)} "
            f"files (e.g. {example}), optionally inside train/, validation/ and test/")


def existing_folder(path, owner, formats):
    """``path`` as a string, refused unless it is an existing folder."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{owner}: `path` {path!r} does not exist; "
                                f"{_layout_hint(path, formats)}.")
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{owner}: `path` {path!r} is a file, and a folder is "
                                 f"needed: {_layout_hint(path, formats)}.")
    return path


def _subfolders(path):
    return sorted(d for d in os.listdir(path)
                  if not d.startswith(".") and os.path.isdir(os.path.join(path, d)))


def _files(folder, formats):
    found = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, n) for n in sorted(names)
                  if not n.startswith(".") and n.lower().endswith(formats)]
    return found


def _index_classes(folder, formats, owner, class_names=None):
    """``(files, labels, class_names)`` of ``folder/CLASS/**/file``."""
    classes = _subfolders(folder)
    if not classes:
        loose = len([n for n in os.listdir(folder) if n.lower().endswith(formats)])
        found = f"it holds {loose} such files but no subfolders" if loose else "it is empty"
        raise ValueError(f"{owner}: folder {folder!r} has no class subfolders ({found}); "
                         f"{_layout_hint(folder, formats)}.")
    names = classes if class_names is None else class_names
    unknown = sorted(set(classes) - set(names))
    if unknown:
        raise ValueError(f"{owner}: folder {folder!r} has classes {unknown} that the "
                         f"train/ folder lacks; its classes are {names}.")
    files, labels, empty = [], [], []
    for name in classes:
        found = _files(os.path.join(folder, name), formats)
        if not found:
            empty.append(name)
        files += found
        labels += [names.index(name)] * len(found)
    allowed = "/".join(f[1:] for f in formats)
    if not files:
        raise ValueError(f"{owner}: folder {folder!r} holds no {allowed} files in its "
                         f"subfolders {classes}; {_layout_hint(folder, formats)}.")
    if empty:
        raise ValueError(f"{owner}: class folder(s) {empty} in {folder!r} hold no "
                         f"{allowed} files; remove them or add examples.")
    if class_names is None and len(classes) < 2:
        raise ValueError(f"{owner}: folder {folder!r} has one class only ({classes[0]!r}); "
                         "a classifier needs at least 2 class subfolders.")
    return np.array(files), np.array(labels, dtype=np.int64), names


def index_folder(path, formats, owner):
    """Index a class folder: ``({split: (files, labels)}, class_names)``.

    The split keys are ``"train"``, ``"val"``, ``"test"`` for the split
    subfolders found, or ``"all"`` when there are none.
    """
    path = existing_folder(path, owner, formats)
    given = {_SPLIT_FOLDERS[d.lower()]: d for d in _subfolders(path)
             if d.lower() in _SPLIT_FOLDERS}
    if not given:
        files, labels, names = _index_classes(path, formats, owner)
        return {"all": (files, labels)}, names
    if "train" not in given:
        raise ValueError(f"{owner}: folder {path!r} has {sorted(given.values())} but no "
                         "train/ subfolder; add train/ or put the class folders at the top.")
    files, labels, names = _index_classes(os.path.join(path, given["train"]), formats, owner)
    parts = {"train": (files, labels)}
    for split in ("val", "test"):
        if split in given:
            found = _index_classes(os.path.join(path, given[split]), formats, owner, names)
            parts[split] = found[:2]
    return parts, names


def split_index(parts, seed=0, val_size=0.15, test_size=None):
    """``Splits`` of file paths and labels: given split folders are kept and
    missing splits are carved off the training files, seeded and stratified."""
    if "all" in parts:
        return train_val_test_split(*parts["all"], val_size=val_size, test_size=test_size,
                                    seed=seed)
    train = parts["train"]
    if "test" in parts and "val" in parts:
        return Splits(*train, *parts["val"], *parts["test"])
    if "test" in parts:  # validation comes out of train/, as for MNIST-1D
        return train_val_test_split(*train, val_size=val_size, seed=seed,
                                    test_data=parts["test"])
    rest = train_val_test_split(*train, val_size=0, test_size=test_size, seed=seed)
    return Splits(rest.x_train, rest.y_train, *parts["val"], rest.x_test, rest.y_test)


def data_kind(path, owner="load_path"):
    """``"image"``, ``"text"`` or ``"table"``: what ``path`` holds."""
    path = os.fspath(path)
    if os.path.isfile(path):
        if path.lower().endswith(TABLE_FORMATS):
            return "table"
        raise NotADirectoryError(
            f"{owner}: `path` {path!r} is a file but not a .csv table; expected "
            f"{_KINDS['image']}, {_KINDS['text']}, or {_KINDS['table']}.")
    folder = existing_folder(path, owner, IMAGE_FORMATS + TEXT_FORMATS)
    images, texts = len(_files(folder, IMAGE_FORMATS)), len(_files(folder, TEXT_FORMATS))
    if images and texts and min(images, texts) * 10 > max(images, texts):
        raise ValueError(f"{owner}: folder {folder!r} mixes images ({images}) and .txt "
                         f"files ({texts}); expected {_KINDS['image']} or {_KINDS['text']}.")
    if images and texts:  # a few notes among many images (or the reverse) are left out
        warnings.warn(f"{owner}: folder {folder!r} holds {images} images and {texts} .txt "
                      f"files; reading the {'images' if images > texts else '.txt files'} "
                      "and leaving the others out.", stacklevel=3)
    if not images and not texts:
        raise ValueError(f"{owner}: folder {folder!r} holds no images and no .txt files; "
                         f"expected {_KINDS['image']} or {_KINDS['text']}.")
    return "image" if images > texts else "text"


def load_path(path, kinds=("image", "text", "table"), *, target=None, task="auto",
              image_size=None, seed=0, val_size=0.15, test_size=None, **options):
    """Load the user's own data from a folder or a CSV file into a ``Dataset``.

    Args:
        path: a folder of images or of ``.txt`` files with one subfolder per
            class (see the module docstring), or a ``.csv`` file.
        kinds: what the caller can train on, some of ``"image"``,
            ``"text"``, ``"table"``; other data are refused, naming them.
        target: the CSV column to predict (tables only, required there).
        task: ``"auto"`` or one of ``TASKS``, for tables.
        image_size: ``(height, width)`` or one int for square images; None
            keeps ``load_image_folder``'s default.
        seed, val_size, test_size: as in ``train_val_test_split``.
        **options: passed on to ``load_image_folder``, ``load_text_folder``
            or ``load_table``.

    Returns:
        A ``Dataset``: images stream from the folder (``data.streamed``),
        texts and tables are token ids and encoded columns in memory; each
        has ``data.encoder`` for raw inputs (see ``Dataset.end_to_end``).

    Example:

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,colour,y\\n" + "".join(f"{i},{'rg'[i % 2]},{i % 2}\\n" for i in range(40)))
    >>> data = load_path(p, target="y")
    >>> data.task, data.input_kind, data.input_shape
    ('binary', 'features', (4,))
    """
    kind = data_kind(path)
    if kind not in kinds:
        wanted = "; or ".join(_KINDS[k] for k in kinds)
        raise ValueError(f"`path` {os.fspath(path)!r} holds {kind} data; this needs {wanted}.")
    split = dict(seed=seed, val_size=val_size, test_size=test_size)
    if kind == "table":
        from zoo.data.tables import load_table

        if target is None:
            raise ValueError(f"A table needs `target`, the column to predict in {path!r}.")
        return load_table(path, target, task=task, **split, **options)
    if target is not None:
        raise ValueError(f"`target` names a CSV column; {os.fspath(path)!r} is a folder "
                         "whose subfolder names are the classes.")
    if kind == "image":
        from zoo.data.images import load_image_folder

        if image_size is not None:
            options["image_size"] = image_size
        return load_image_folder(path, **split, **options)
    from zoo.data.texts import load_text_folder

    return load_text_folder(path, **split, **options)
