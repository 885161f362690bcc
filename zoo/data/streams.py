"""``tf.data`` pipelines for a ``Dataset``'s splits: images streamed from
their files, or arrays already in memory.

Images follow ``keras.utils.image_dataset_from_directory``: read, decoded
(``tf.io.decode_image``, png/jpg/bmp/gif) and resized (``tf.image.resize``,
bilinear) in parallel. What this adds: decoded images are kept as uint8 (a
quarter of Keras's float32) in an in-memory cache when the whole data set
fits the cache budget, the training split is reshuffled every epoch with a
seed (the file list before decoding, or the cached images), the other splits
keep their order, and batches are scaled to [0, 1] by the data set's own
``Rescaling`` layer (the one its end-to-end model starts with).
"""

import dataclasses

import keras
import numpy as np

from zoo.core.checks import check_choice

# TensorFlow is imported where a pipeline is built: importing zoo.data must
# not load it on another Keras backend.


def array_pipeline(x, y, shuffle=False, batch_size=32, seed=0):
    """A batched ``tf.data.Dataset`` of ``(x, y)`` from arrays in memory.

    Example:

    >>> import numpy as np
    >>> ds = array_pipeline(np.zeros((10, 3)), np.arange(10), batch_size=4)
    >>> [len(y) for _, y in ds]
    [4, 4, 2]
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass(eq=False)
class ImageStreams:
    """Builds the pipelines of image files for one data set.

    Attributes:
        image_size: ``(height, width)`` every image is resized to.
        channels: 1 (grayscale) or 3 (RGB).
        scale: the ``keras.layers.Rescaling`` applied to each batch.
        cache: keep the decoded images in memory after the first epoch.
        seed: shuffling seed of the training split.
        batch_size: batch size of ``data.val`` and ``data.test``.
    """

    image_size: tuple
    channels: int
    scale: object
    cache: bool = True
    seed: int = 0
    batch_size: int = 32
    interpolation: str = "bilinear"
    _built: dict = dataclasses.field(default_factory=dict, repr=False)

    def _load(self, path, label):
        import tensorflow as tf

        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        if self.channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        image.set_shape((None, None, self.channels))
        image = tf.image.resize(image, self.image_size, method=self.interpolation)
        return tf.saturate_cast(tf.round(image), tf.uint8), label

    def _scale(self, images, labels):
        import tensorflow as tf

        return self.scale(tf.cast(images, tf.float32)), labels

    def pipeline(self, files, labels, shuffle=False, batch_size=None):
        """A batched ``tf.data.Dataset`` of ``(images, labels)``, built once
        per ``(split, batch size)`` so that its cache fills once."""
        batch_size = batch_size or self.batch_size
        key = (id(files), shuffle, batch_size)
        if key not in self._built:
            import tensorflow as tf

            AUTOTUNE = tf.data.AUTOTUNE
            ds = tf.data.Dataset.from_tensor_slices((np.asarray(files, str), labels))
            if shuffle and not self.cache:  # shuffle names, not decoded images
                ds = ds.shuffle(len(files), seed=self.seed, reshuffle_each_iteration=True)
            ds = ds.map(self._load, num_parallel_calls=AUTOTUNE)
            if self.cache:
                ds = ds.cache()
                if shuffle:
                    ds = ds.shuffle(len(files), seed=self.seed, reshuffle_each_iteration=True)
            ds = ds.batch(batch_size).map(self._scale, num_parallel_calls=AUTOTUNE)
            self._built[key] = (files, ds.prefetch(AUTOTUNE))  # files: keeps id(files) unique
        return self._built[key][1]


class SplitAccess:
    """A ``Dataset``'s splits for ``fit``, ``evaluate`` and saving, the same
    calls whether they are arrays or stream from files (``data.streams``)."""

    @property
    def streamed(self):
        """True when the inputs stream from files (``x_*`` hold their paths)."""
        return self.streams is not None

    @property
    def train(self):
        return self.pipeline("train") if self.streamed else (self.x_train, self.y_train)

    @property
    def val(self):
        return self.pipeline("val") if self.streamed else (self.x_val, self.y_val)

    @property
    def test(self):
        return self.pipeline("test") if self.streamed else (self.x_test, self.y_test)

    def pipeline(self, split, batch_size=None):
        """Split ``"train"``, ``"val"`` or ``"test"`` as a batched
        ``tf.data.Dataset`` of ``(x, y)``: the training split reshuffled
        every epoch (seeded), the others in order; arrays or streamed."""
        split = check_choice("split", split, ("train", "val", "test"), owner="Dataset.pipeline")
        x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
        if self.streamed:
            return self.streams.pipeline(x, y, shuffle=split == "train", batch_size=batch_size)
        return array_pipeline(x, y, shuffle=split == "train", batch_size=batch_size or 32,
                              seed=self.seed)

    def fit_args(self, batch_size=32):
        """``model.fit``'s data arguments, the global batch ``batch_size``:
        for arrays ``zoo.core.hardware.fit_inputs`` (``x``, ``y``,
        ``batch_size``, ``validation_data``; Keras shuffles them), or the
        training and validation pipelines batched at ``batch_size`` when
        streamed."""
        from zoo.core import hardware

        if not self.streamed:
            return hardware.fit_inputs(self.x_train, self.y_train, batch_size, seed=self.seed,
                                       validation_data=(self.x_val, self.y_val))
        # The pipeline reshuffles itself; shuffle=False spares Keras's warning.
        return dict(x=self.pipeline("train", batch_size), shuffle=False,
                    validation_data=self.pipeline("val", batch_size))

    def evaluate_args(self, split="test"):
        """``zoo.evaluation.evaluate``'s data arguments for ``split``:
        ``x_test`` and ``y_test`` arrays, or ``x_test`` the split's pipeline."""
        if self.streamed:
            return dict(x_test=self.pipeline(split))
        return dict(x_test=getattr(self, f"x_{split}"), y_test=getattr(self, f"y_{split}"))

    def end_to_end(self, model):
        """``model`` behind ``encoder``: a model that takes raw inputs (the
        pixels, strings or CSV columns the data came as); ``model`` itself
        when the data need no encoding. Save this one to predict on new data."""
        if self.encoder is None:
            return model
        raw = keras.tree.map_structure(
            lambda t: keras.Input(t.shape[1:], dtype=t.dtype, name=t.name), self.encoder.input)
        return keras.Model(raw, model(self.encoder(raw)), name=f"{model.name}_end_to_end")
