"""Scikit-learn validation metrics as Keras logs and TensorBoard data."""

import warnings

import keras
import numpy as np

from callbacks import _score_history as score_history
from callbacks import _validation_hook
from callbacks._chart_once import chart_once
from callbacks._detached_copy import detached_copy
from callbacks._epoch_images import EpochImages
from callbacks._fixed_batches import FixedBatches
from callbacks._sklearn_charts import charts, check_average, image_title, log_names
from callbacks._summary import SummaryWriter
from callbacks._validation_predictions import PredictionSink
from callbacks._validation_data import check_validation_data, probe_outputs
from zoo.core.checks import check_bool, check_choice, check_number, check_str
from zoo.core.checks import renamed_arguments
from zoo.core.heads import resolve_head
from zoo.core.pipelines import is_dataset
from zoo.core.tasks import TASKS
from zoo.evaluation import figures
from zoo.evaluation import scores

_OWNER = "SklearnMetrics"
_AVERAGES = ("binary", "macro", "micro", "weighted", "samples")
_DEFAULT_BATCH_SIZE = 32  # Keras's own default for `predict`


class SklearnMetrics(keras.callbacks.Callback):
    """Scikit-learn validation metrics in the epoch logs and TensorBoard.

    At the end of every `update_freq`-th epoch scikit-learn scores the
    model's predictions for the validation set: those of fit's own
    validation pass when it runs on the same data (nothing is predicted
    twice: `callbacks._validation_predictions`), else predicted once.
    The scores are added to the epoch logs as `<prefix><name>`, so
    `EarlyStopping`, `ModelCheckpoint`, `History` and keras-tuner
    objectives can use them, e.g. `monitor="val_f1", mode="max"`.

    Over Keras's compiled metrics this adds: exact scores on the whole
    validation set with scikit-learn's definitions (ROC AUC and average
    precision without threshold buckets, macro/micro/weighted F1), a
    confusion matrix, ROC and confusion-matrix images in TensorBoard, and a
    check, before the first training step, that the labels fit the head.

    Logged names (prefix `val_` by default):

    - classification: `accuracy` (subset accuracy for multilabel),
      `precision`, `recall`, `f1` (averaged with `average`), `f1_macro`,
      `f1_micro`, `f1_weighted`, `roc_auc` and `average_precision`
      (one-vs-rest macro for multiclass/multilabel; left out, with one
      warning, when a class has no samples in `y_val`), and
      `hamming_loss` for multilabel.
    - regression: `mse`, `mae`, `rmse` (for several targets the mean of
      per-target RMSEs, as in scikit-learn), `r2`.

    Scores and images come from `zoo.evaluation.scores` and `.figures`, as
    in `zoo.evaluation.evaluate`: the same data give the same numbers.

    A key that Keras already put in the logs (e.g. `val_accuracy` from a
    compiled metric on `fit(validation_data=...)`) is left untouched, with
    one warning; use another `prefix` to keep both.

    With `log_dir`, TensorBoard gets the scores in the run `validation`,
    each once, named by its averaging, with a description
    (`sklearn/f1_macro`, ...: `callbacks._sklearn_charts`; Keras's
    `TensorBoard` on that `log_dir` leaves them out), and the confusion
    matrix and ROC curves as images `sklearn/confusion_matrix` and
    `sklearn/roc_curve`, at step = the 0-based epoch, named in the title.
    Images cost more than the scores, so by default they are drawn once,
    when `fit` ends, for the best scored epoch (highest `f1`, the first on
    ties); `image_freq=n` adds epochs n, 2n, ... as they are scored, and the
    last epoch when `fit` ends.

    Non-finite predictions (a diverged model) give a warning naming the
    epoch, and NaN scores for that epoch, which never count as an
    improvement for `EarlyStopping` or `ModelCheckpoint`.

    `get_state()` / `set_state()` save and restore `history` and the last
    confusion matrix (JSON-able) for resumable training.

    Callback order: with `fit(validation_data=...)` the scores (of this
    callback's own `validation_data`) are computed in Keras's validation
    pass, before any `on_epoch_end`, so every callback, Keras's
    `ModelCheckpoint` and `CSVLogger` included, sees them in that epoch
    wherever it is listed; for this the model's `evaluate` is wrapped during
    `fit` (your own `evaluate` calls pass through untouched). On epochs
    `fit` does not validate, or with a `prefix` not starting with `val_`,
    they come in `on_epoch_end`: list this callback before Keras callbacks
    that read them (ours decide after every callback).

    Args:
        validation_data: tuple `(x_val, y_val)` of arrays, or a finite
            batched `tf.data.Dataset` of `(x, y)`, read into arrays once,
            here (fit's validation pass on that same dataset is reused if it
            gives the rows in the same order). `y_val`: class
            ids or one-hot rows (binary, multiclass), a 0/1 matrix
            (multilabel) or targets (regression). Shared, not copied, by
            `copy.deepcopy` and not part of `get_config()`.
        task: `"auto"` (default) or one of `"binary"`, `"multiclass"`,
            `"multilabel"`, `"regression"`. `"auto"` reads the compiled
            loss, the output layer's activation, the output width and the
            labels. Binary heads are 1-unit sigmoid or 2-unit softmax.
        update_freq: score every this many epochs (epochs n, 2n, ...);
            other epochs have no such keys in their logs. Named like
            `keras.callbacks.TensorBoard(update_freq=)`; the old name
            `every_n_epochs` still works, with a `DeprecationWarning`.
        batch_size: batch size for prediction. Defaults to 32.
        log_dir: TensorBoard directory, or `None` to write nothing.
        threshold: probability at or above which a binary or multilabel
            output counts as positive. Defaults to 0.5.
        prefix: prefix of the log keys. Defaults to `"val_"`.
        average: averaging of `precision`, `recall` and `f1`: `None`
            (default: `"binary"` for binary, `"macro"` otherwise) or one of
            `"binary"`, `"macro"`, `"micro"`, `"weighted"`, `"samples"`
            (multilabel only).
        from_logits: whether the model outputs logits. `None` (default)
            infers it from the output activation, then the loss.
        write_images: whether to write the confusion-matrix and ROC images
            when `log_dir` is set (matplotlib: about 0.05-0.08 s a figure on a
            small CPU). Defaults to `True`.
        image_freq: also draw the images at epochs n, 2n, ... (1: every
            scored epoch) as they are scored, and at the last epoch when
            `fit` ends; `None` (default): the best epoch only.

    Attributes:
        history: dict of lists, `"epoch"` (0-based indices of scored
            epochs) and one list per log key; `None` where a score was not
            computed.
        confusion_matrix: NumPy confusion matrix of the last scored epoch
            (`(k, k)`, rows true classes; `(k, 2, 2)` for multilabel).

    Example:

    >>> x = np.random.rand(64, 4)
    >>> y = (x[:, 0] > 0.5).astype(int)
    >>> model = keras.Sequential([
    ...     keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model.compile("adam", "binary_crossentropy")
    >>> scorer = SklearnMetrics(validation_data=(x, y))
    >>> stop = keras.callbacks.EarlyStopping(
    ...     monitor="val_f1", mode="max", patience=2)
    >>> history = model.fit(x, y, epochs=3, callbacks=[scorer, stop],
    ...                     verbose=0)
    >>> len(history.history["val_f1"])
    3
    """

    @renamed_arguments(every_n_epochs="update_freq")
    def __init__(
        self,
        validation_data,
        task="auto",
        update_freq=1,
        batch_size=None,
        log_dir=None,
        threshold=0.5,
        prefix="val_",
        average=None,
        from_logits=None,
        write_images=True,
        image_freq=None,
    ):
        super().__init__()
        self._x, self._y = check_validation_data(validation_data)
        check_choice("task", task, ("auto",) + TASKS, owner=_OWNER, exact=True)
        check_number("update_freq", update_freq, 1, integer=True, owner=_OWNER)
        check_number("batch_size", batch_size, 1, integer=True,
                     allow_none=True, owner=_OWNER)
        check_number("threshold", threshold, 0, 1, low_open=True,
                     high_open=True, owner=_OWNER)
        check_str("prefix", prefix, owner=_OWNER)
        if average is not None:
            check_choice("average", average, _AVERAGES, owner=_OWNER,
                         exact=True)
        check_average(average, task)
        if from_logits is not None:
            check_bool("from_logits", from_logits, owner=_OWNER)
        check_bool("write_images", write_images, owner=_OWNER)
        check_number("image_freq", image_freq, 1, integer=True,
                     allow_none=True, owner=_OWNER)
        self.task = task
        self.update_freq = int(update_freq)
        self.batch_size = batch_size
        self.log_dir = log_dir
        self.threshold = float(threshold)
        self.prefix = prefix
        self.average = average
        self.from_logits = from_logits
        self.write_images = bool(write_images)
        self.image_freq = image_freq
        self._images = EpochImages(image_freq)
        self.history = {}
        self.confusion_matrix = None
        self._writer = SummaryWriter(log_dir, "validation")
        self._head = None
        self._with_ranking = True
        self._collision_warned = False
        self._epoch = 0
        self._scored = None  # (epoch, `_score` result) from fit's validation
        self._added, self._theirs = set(), set()  # val_ keys added by us / Keras
        self._batches = None  # FixedBatches of x_val, made at train begin
        self._sink = PredictionSink(self._x, self._y,  # fit's predictions
                                    validation_data if is_dataset(validation_data) else None)

    def get_config(self):
        """Constructor arguments except `validation_data` (arrays)."""
        return {
            "task": self.task,
            "update_freq": self.update_freq,
            "batch_size": self.batch_size,
            "log_dir": self.log_dir,
            "threshold": self.threshold,
            "prefix": self.prefix,
            "average": self.average,
            "from_logits": self.from_logits,
            "write_images": self.write_images,
            "image_freq": self.image_freq,
        }

    def on_train_begin(self, logs=None):
        # The head's shape and value range from one batch, called eagerly:
        # with fit's validation data no predict function is ever traced.
        self._batches = self._batches or FixedBatches(
            self._x, self.batch_size or _DEFAULT_BATCH_SIZE)
        probe = probe_outputs(self)  # after checking x_val, y_val against the model
        head = resolve_head(self._y, probe, self.task, self.from_logits,
                            self.model, labels_name="y_val", owner=_OWNER)
        check_average(self.average, head.task)
        missing = scores.single_outcome_classes(
            head.labels, head.task, head.n_classes
        )
        self._with_ranking = not missing
        if missing:
            warnings.warn(
                f"SklearnMetrics: class(es) {missing} have no positive or no "
                "negative samples in y_val, so roc_auc and average_precision "
                "are undefined and are not logged.",
                stacklevel=2,
            )
        self._head = head
        self._collision_warned = False
        self._scored = None
        self._images.reset()
        self._theirs = set()  # keys Keras had in the logs: Keras charts them
        chart_once(self, self.log_dir, lambda: {self.prefix + n for n in log_names(
            head.task, self._with_ranking)} - self._theirs)
        if self.params:  # inside fit, not hooks called by hand
            _validation_hook.attach(self)
            self._sink.attach(self.model)

    def on_test_begin(self, logs=None):
        self._sink.start()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _add_validation_scores(self, val_logs, x=None, y=None):
        # Called by `fit`'s validation pass (`_validation_hook`), before any
        # callback's `on_epoch_end`: the `val_*` keys go into the dict that
        # `evaluate` returns (names without `val_`); Keras's own keys win.
        epoch = self._epoch
        if (epoch + 1) % self.update_freq:
            return
        self._scored = (epoch, self._score(epoch, self._sink.take(x, y)))
        for name, value in self._scored[1][0].items():
            key = self.prefix + name
            if key.startswith("val_") and key[4:] not in val_logs:
                val_logs[key[4:]] = float(value)
                self._added.add(key)

    @_validation_hook.detach_on_error
    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.update_freq:
            return
        if self._head is None:
            self.on_train_begin()
        scored, self._scored = self._scored, None  # from fit's validation
        values, matrix, prob = (scored[1] if scored and scored[0] == epoch
                                else self._score(epoch))
        named = {self.prefix + name: float(v) for name, v in values.items()}
        added, self._added = self._added, set()
        if logs is not None:
            self._theirs |= {k for k in named if k in logs and k not in added}
            # Same name, same number (e.g. accuracy): nothing to warn about.
            clashes = sorted(k for k in named if k in logs
                             and not np.isclose(float(logs[k]), named[k], atol=1e-6))
            if clashes and not self._collision_warned:
                self._collision_warned = True
                warnings.warn(
                    f"SklearnMetrics: {clashes} already in the logs (from "
                    "the model's compiled metrics); kept Keras's values. "
                    "Pass another `prefix` to log both.",
                    stacklevel=2,
                )
            logs.update({k: v for k, v in named.items() if k not in logs})
        score_history.record(self.history, epoch, named)
        if matrix is not None:
            self.confusion_matrix = matrix
        if prob is not None:
            self._write(epoch, values, matrix, prob)

    def on_train_end(self, logs=None):
        _validation_hook.detach(self)
        self._sink.detach()
        for epoch, (matrix, prob) in self._images.at_end():
            self._write_images(epoch, matrix, prob)
        self._writer.close()

    def _score(self, epoch, raw=None):
        """`(scores by name, confusion matrix, probabilities)` for one epoch."""
        head = self._head
        raw = self._batches.predict(self.model) if raw is None else raw
        bad = np.size(raw) - np.count_nonzero(np.isfinite(raw))
        if bad:
            warnings.warn(
                f"SklearnMetrics: at epoch {epoch + 1} the model predicted "
                f"{bad} non-finite value(s) (NaN or inf) for the validation "
                "data, so its metrics are NaN for this epoch. Training has "
                "probably diverged (try a lower learning rate).",
                stacklevel=3,
            )
            names = log_names(head.task, self._with_ranking)
            return dict.fromkeys(names, float("nan")), None, None
        # The same scoring code as `zoo.evaluation.evaluate`: only the keys
        # logged, and scikit-learn's input checks left to the ones already
        # run (labels at train begin, finite predictions just above).
        names = log_names(head.task, self._with_ranking)
        if head.task == "regression":
            prob = raw.astype(np.float64).reshape(head.labels.shape)
            found = scores.regression_scores(head.labels, prob)
        else:
            prob = scores.probabilities(raw, head.task, head.from_logits)
            found = scores.classification_scores(
                head.labels, prob, head.task, threshold=self.threshold,
                average=self.average, keys=names + ("confusion_matrix",), checked=True,
            )
        values = {name: float("nan") if found[name] is None else found[name]
                  for name in names}
        return values, found.get("confusion_matrix"), prob

    def _write(self, epoch, values, matrix, prob):
        if not self._writer.enabled:
            return
        shown = charts([n for n in values if self.prefix + n not in self._theirs],
                       self._head.task, self.average, self.prefix)
        self._writer.scalars({tag: values[n] for n, (tag, _) in shown.items()},
                             epoch, descriptions=dict(shown.values()))
        if self.write_images and matrix is not None and self._images.scored(
                epoch, values.get("f1"), (matrix, prob)):
            self._write_images(epoch, matrix, prob)
        self._writer.flush()

    def _write_images(self, epoch, matrix, prob):
        # Fixed margins (layout=None): the same frame at every epoch.
        figure = figures.plot_confusion_matrix(
            matrix, title=image_title("Confusion matrix", epoch), layout=None)
        self._writer.figure("sklearn/confusion_matrix", figure, epoch)
        if self._with_ranking:
            figure = figures.plot_roc_curves(
                self._head.labels, prob, title=image_title("ROC", epoch),
                layout=None)
            self._writer.figure("sklearn/roc_curve", figure, epoch)

    def get_state(self):
        """JSON-able state for resuming: the history and confusion matrix.

        Non-finite scores are stored as `None`.
        """
        return score_history.get_state(self.history, self.confusion_matrix)

    def set_state(self, state):
        """Restore what `get_state()` returned."""
        self.history, self.confusion_matrix = score_history.set_state(state, _OWNER)

    def __deepcopy__(self, memo):
        # keras-tuner copies callbacks for every trial: share the read-only
        # validation arrays, and leave the model and per-fit state behind.
        memo[id(self._x)] = self._x
        memo[id(self._y)] = self._y
        memo[id(self._sink.source)] = self._sink.source  # a tf.data.Dataset, or None
        return detached_copy(self, memo, _head=None, _scored=None,
                             _batches=None, _images=EpochImages(self.image_freq),
                             _sink=self._sink.fresh())
