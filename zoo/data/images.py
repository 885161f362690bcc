"""``load_image_folder(path)``: a folder of images, one subfolder per class,
as a ``Dataset`` whose splits stream from the files with ``tf.data``.

Stands on Keras's ``image_dataset_from_directory`` (layout, formats,
decoding and resizing, see ``zoo.data.folders`` and ``zoo.data.streams``)
and adds: three seeded, stratified splits (or the folder's own), a check of
every file's header before training (a corrupt or unreadable image is named,
and skipped with a count only when asked), a warning when sizes or colour
modes differ (all are resized and converted), and an in-memory cache of the
decoded images when they fit.
"""

import concurrent.futures
import os
import warnings

import keras
import numpy as np

from zoo.core.checks import check_choice, check_int
from zoo.data.folders import IMAGE_FORMATS, index_folder, split_index
from zoo.data.loading import Dataset, encode_targets
from zoo.data.streams import ImageStreams

_OWNER = "load_image_folder"
_PIL_FORMATS = {"PNG", "JPEG", "BMP", "GIF"}  # what tf.io.decode_image reads
_SHOWN = 5


def _inspect(path):
    """``(size, mode, None)`` of an image file, or ``(None, None, problem)``."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            size, mode, kind = image.size, image.mode, image.format
            if kind not in _PIL_FORMATS:
                return None, None, f"{kind} data, not png/jpg/bmp/gif"
            image.verify()  # reads the whole file: catches truncated PNGs
        return size, mode, None
    except Exception as error:  # PIL raises many types for bad files
        return None, None, str(error).splitlines()[0][:120] or type(error).__name__


def scan_images(files, skip_bad_files=False, where="the folder"):
    """Check every image's header; returns ``(ok_mask, sizes, modes)``.

    Raises ``ValueError`` naming the bad files unless ``skip_bad_files``,
    which warns with their count instead.
    """
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        found = list(pool.map(_inspect, files, chunksize=64))
    bad = [(f, problem) for f, (_, _, problem) in zip(files, found) if problem]
    if bad:
        shown = "; ".join(f"{f} ({problem})" for f, problem in bad[:_SHOWN])
        more = f"; ... ({len(bad) - _SHOWN} more)" if len(bad) > _SHOWN else ""
        if not skip_bad_files:
            raise ValueError(
                f"{_OWNER}: {len(bad)} of {len(files)} files in {where} are not readable "
                f"png/jpg/bmp/gif images: {shown}{more}. Fix or remove them, or pass "
                "skip_bad_files=True to leave them out.")
        warnings.warn(f"{_OWNER}: skipped {len(bad)} of {len(files)} unreadable images in "
                      f"{where}: {shown}{more}.", stacklevel=3)
    ok = np.array([problem is None for _, _, problem in found], dtype=bool)
    sizes = {size for size, _, _ in found if size is not None}
    modes = {mode for _, mode, _ in found if mode is not None}
    return ok, sizes, modes


def _size(image_size):
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in image_size)):
        raise ValueError(f"{_OWNER}: `image_size` must be an int or (height, width) of "
                         f"positive ints; got {image_size!r}.")
    return tuple(int(s) for s in image_size)


def load_image_folder(path, image_size=(64, 64), color_mode="rgb", seed=0, val_size=0.15,
                      test_size=None, batch_size=32, skip_bad_files=False, cache_mb=1024,
                      name=None):
    """Load a folder of images with one subfolder per class into a ``Dataset``.

    ``data.x_train`` (and ``x_val``, ``x_test``) hold the file paths and
    ``data.y_*`` the class ids; ``data.train``/``val``/``test`` are batched
    ``tf.data`` pipelines of float32 images in [0, 1] (see ``Dataset``).
    ``data.encoder`` is a ``Rescaling(1/255)`` model: the end-to-end model
    (``data.end_to_end(model)``) takes raw 0-255 pixels at ``image_size``,
    e.g. from ``keras.utils.load_img(path, target_size=image_size)``.

    Args:
        path: the folder (see ``zoo.data.folders`` for the layout).
        image_size: ``(height, width)`` (or one int) every image is resized to.
        color_mode: ``"rgb"`` (3 channels) or ``"grayscale"`` (1).
        seed, val_size, test_size: as in ``train_val_test_split``, for the
            splits the folder does not have.
        batch_size: batch size of ``data.val`` and ``data.test``.
        skip_bad_files: leave out unreadable or corrupt files with a warning
            that counts them, instead of refusing the folder.
        cache_mb: keep the decoded images (uint8) in memory after the first
            epoch when all of them fit in this many megabytes; else every
            epoch reads the files again (memory stays flat).
        name: data set name; default the folder's name.

    Example:

    >>> import os, tempfile, numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for c in ("dark", "light"):
    ...     os.makedirs(os.path.join(root, c))
    ...     for i in range(10):
    ...         pixels = np.full((12, 10, 3), 40 if c == "dark" else 200, "uint8")
    ...         Image.fromarray(pixels).save(os.path.join(root, c, f"{i}.png"))
    >>> data = load_image_folder(root, image_size=8)
    >>> data.class_names, data.input_shape, data.sizes()
    (['dark', 'light'], (8, 8, 3), {'train': 14, 'val': 3, 'test': 3})
    >>> x, y = next(iter(data.train))
    >>> x.shape, float(x.numpy().max()) <= 1.0
    (TensorShape([14, 8, 8, 3]), True)
    """
    image_size = _size(image_size)
    channels = {"rgb": 3, "grayscale": 1}[check_choice("color_mode", color_mode,
                                                       ("rgb", "grayscale"), owner=_OWNER)]
    check_int("batch_size", batch_size, 1, owner=_OWNER)
    parts, class_names = index_folder(path, IMAGE_FORMATS, _OWNER)
    sizes, modes = set(), set()
    for split, (files, labels) in parts.items():
        ok, split_sizes, split_modes = scan_images(files, skip_bad_files, where=str(path))
        parts[split] = (files[ok], labels[ok])
        sizes |= split_sizes
        modes |= split_modes
    if len(sizes) > 1 or len(modes) > 1:
        shown = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:_SHOWN])
        warnings.warn(
            f"{_OWNER}: images in {path} differ: {len(sizes)} sizes (width x height: "
            f"{shown}{', ...' if len(sizes) > _SHOWN else ''}) and colour modes "
            f"{sorted(modes)}; all are resized to {image_size[0]}x{image_size[1]} "
            f"(height x width) and read as {color_mode}.", stacklevel=2)
    splits = split_index(parts, seed=seed, val_size=val_size, test_size=test_size)
    y, task, k, class_names = encode_targets(
        np.concatenate([splits.y_train, splits.y_val, splits.y_test]), "auto", class_names)
    shape = (*image_size, channels)
    pixels = keras.Input(shape, name="pixels")
    scale = keras.layers.Rescaling(1 / 255, name="pixels_to_unit_range")
    encoder = keras.Model(pixels, scale(pixels), name="image_encoder")
    total_mb = sum(splits.sizes().values()) * int(np.prod(shape)) / 2**20
    streams = ImageStreams(image_size, channels, scale, cache=total_mb <= cache_mb,
                           seed=seed, batch_size=batch_size)
    return Dataset(
        *splits, name=name or os.path.basename(os.fspath(path).rstrip("/\\")), task=task,
        num_classes=k, input_shape=shape, input_kind="image", class_names=class_names,
        encoder=encoder, streams=streams, seed=seed)
