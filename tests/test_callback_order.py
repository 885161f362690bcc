"""Callback order: every callback of a `fit` sees `SklearnMetrics`' scores in
the same epoch wherever it is listed, and the hooks installed for that (the
model's `evaluate`, `History`'s hooks) are undone after `fit`."""

import copy
import csv

import keras
import numpy as np
import pytest
from sklearn import metrics

import callbacks
import tb_utils
from probes import StopAt


def blobs(n, seed):
    """Binary, nearly separable: float32 x of shape (n, 4), int labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = np.where(y[:, None] == 1, 1.5, -1.5) + rng.normal(size=(n, 4))
    return x.astype("float32"), y


def model(seed=0):
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input((4,)),
                            keras.layers.Dense(1, activation="sigmoid")])
    net.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    return net


def own_evaluate(net):
    """Whether `net.evaluate` is Keras's method again (no instance wrapper)."""
    return ("evaluate" not in net.__dict__
            and net.evaluate.__func__ is type(net).evaluate)


def test_keras_callbacks_listed_first_see_val_f1_of_that_epoch(tmp_path,
                                                               recwarn):
    x, y = blobs(64, seed=0)
    fit_val = blobs(32, seed=1)
    own_val = blobs(12, seed=2)  # scored by SklearnMetrics, not by fit
    net = model()
    saves = tmp_path / "ckpt-{epoch:02d}.keras"
    log = tmp_path / "log.csv"
    keras_stop = keras.callbacks.EarlyStopping(monitor="val_f1", mode="max",
                                               patience=100)
    history = net.fit(x, y, validation_data=fit_val, epochs=6, batch_size=16,
                      verbose=0, callbacks=[
                          keras.callbacks.ModelCheckpoint(
                              saves, monitor="val_f1", mode="max",
                              save_best_only=True),
                          keras.callbacks.CSVLogger(log),
                          keras_stop,
                          keras.callbacks.TensorBoard(tmp_path / "tb"),
                          callbacks.SklearnMetrics(own_val),
                      ])
    assert not [w for w in recwarn if "val_f1" in str(w.message)]
    f1 = history.history["val_f1"]
    assert len(f1) == 6
    # Scored on its own data (with the final weights for the last epoch);
    # Keras's val_loss is on fit's.
    pred = (net.predict(own_val[0], verbose=0)[:, 0] >= 0.5).astype(int)
    assert f1[-1] == pytest.approx(metrics.f1_score(own_val[1], pred))
    assert history.history["val_loss"][-1] == pytest.approx(
        net.evaluate(*fit_val, verbose=0), rel=1e-5)

    with open(log) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["val_f1"]) for r in rows] == f1

    # ModelCheckpoint wrote one file per improving epoch, and only those.
    best, improving = -np.inf, []
    for epoch, value in enumerate(f1, start=1):
        if value > best:
            best, improving = value, improving + [epoch]
    saved = sorted(int(p.stem.split("-")[1]) for p in tmp_path.glob("*.keras"))
    assert saved == improving
    assert len(improving) < 6  # some epoch did not improve: no file for it

    assert keras_stop.best == max(f1)
    scalars = tb_utils.read_scalars(tmp_path / "tb" / "validation")
    assert [v for _, v in scalars["epoch_f1"]] == pytest.approx(f1)
    assert own_evaluate(net)


def test_scored_once_per_epoch_with_validation_freq():
    x, y = blobs(48, seed=0)
    scorer = callbacks.SklearnMetrics(blobs(12, seed=2))
    net = model()
    history = net.fit(x, y, validation_data=blobs(16, seed=1),
                      validation_freq=2, epochs=4, batch_size=16, verbose=0,
                      callbacks=[scorer])
    # Epochs 2 and 4 scored during fit's validation, 1 and 3 at epoch end.
    assert scorer.history["epoch"] == [0, 1, 2, 3]
    assert history.history["val_f1"] == scorer.history["val_f1"]
    assert len(history.history["val_loss"]) == 2
    assert own_evaluate(net)


def test_update_freq_and_two_scorers_in_one_fit(tmp_path):
    x, y = blobs(48, seed=0)
    every = callbacks.SklearnMetrics(blobs(12, seed=2))
    second = callbacks.SklearnMetrics(blobs(12, seed=3), prefix="val_b_",
                                      update_freq=2)
    log = tmp_path / "log.csv"
    net = model()
    history = net.fit(x, y, validation_data=blobs(16, seed=1), epochs=4,
                      batch_size=16, verbose=0,
                      callbacks=[keras.callbacks.CSVLogger(log), every, second])
    with open(log) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["val_f1"]) for r in rows] == every.history["val_f1"]
    # (CSVLogger takes its columns from the first epoch, which has no val_b_.)
    assert second.history["epoch"] == [1, 3]
    assert history.history["val_b_f1"] == second.history["val_b_f1"]
    assert own_evaluate(net)


def test_without_fit_validation_scores_come_at_epoch_end():
    # Documented fallback: no validation pass to hook into, so the keys are
    # added in SklearnMetrics.on_epoch_end; our EarlyStopping decides after
    # every callback and still sees them.
    x, y = blobs(48, seed=0)
    stop = callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=0,
                                   stopping_threshold=0.0)
    history = model().fit(x, y, epochs=5, batch_size=16, verbose=0,
                          callbacks=[stop, callbacks.SklearnMetrics((x, y))])
    assert stop.stop_reason == "threshold" and history.epoch == [0]


def test_evaluate_called_by_the_user_is_not_intercepted():
    x, y = blobs(48, seed=0)
    seen = []

    class UserEvaluate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.evaluate(x, y, verbose=0, return_dict=True))

    net = model()
    history = net.fit(x, y, validation_data=(x, y), epochs=2, batch_size=16,
                      verbose=0, callbacks=[UserEvaluate(),
                                            callbacks.SklearnMetrics((x, y))])
    assert "val_f1" in history.history
    assert [sorted(logs) for logs in seen] == [["loss"], ["loss"]]
    assert own_evaluate(net)
    assert sorted(net.evaluate(x, y, verbose=0, return_dict=True)) == ["loss"]


def test_evaluate_restored_when_the_validation_pass_raises():
    x, y = blobs(48, seed=0)
    net = model()
    bad = (np.ones((8, 3), "float32"), np.ones(8))  # 3 features, not 4
    with pytest.raises(ValueError):
        net.fit(x, y, validation_data=bad, epochs=2, verbose=0,
                callbacks=[callbacks.SklearnMetrics((x, y))])
    assert own_evaluate(net)


def test_fit_raising_elsewhere_leaves_a_pass_through_until_the_next_fit():
    x, y = blobs(48, seed=0)
    net = model()
    with pytest.raises(RuntimeError, match="interrupted"):
        net.fit(x, y, validation_data=(x, y), epochs=3, verbose=0,
                callbacks=[StopAt(1), callbacks.SklearnMetrics((x, y))])
    # Nothing of ours ran after the error: the wrapper is still there, but
    # it only ever touches the validation call of a fit that holds its
    # scorer, so the user's evaluate is Keras's.
    keras_loss = keras.Model.evaluate(net, x, y, verbose=0)
    assert net.evaluate(x, y, verbose=0) == keras_loss
    # The next fit with a scorer on this model drops it for good.
    history = net.fit(x, y, validation_data=(x, y), epochs=1, verbose=0,
                      callbacks=[callbacks.SklearnMetrics((x, y))])
    assert "val_f1" in history.history
    assert own_evaluate(net)


def test_history_hooks_are_restored_and_a_listed_history_still_resumes(
        tmp_path):
    class Counter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(epoch)

        def get_state(self):
            return {"seen": self.seen}

        def set_state(self, state):
            self.seen = list(state["seen"])

    x, y = blobs(32, seed=0)
    net = model()
    with pytest.raises(RuntimeError, match="interrupted"):
        net.fit(x, y, epochs=4, verbose=0, callbacks=[
            StopAt(2), callbacks.BackupAndRestore(tmp_path), Counter()])
    # A History listed first runs before BackupAndRestore registers its
    # restore; the restore then comes at the first epoch's start.
    listed = keras.callbacks.History()
    counter = Counter()
    stop = callbacks.EarlyStopping(monitor="loss", patience=50)
    net.fit(x, y, epochs=4, verbose=0, callbacks=[
        listed, stop, callbacks.BackupAndRestore(tmp_path), counter])
    assert counter.seen == [0, 1, 2, 3]
    assert listed.epoch == [2, 3]
    for hook in ("on_train_begin", "on_epoch_end", "on_train_end"):
        assert hook not in listed.__dict__


def test_keras_tuner_style_deep_copy_mid_fit_is_detached():
    x, y = blobs(32, seed=0)
    scorer = callbacks.SklearnMetrics((x, y))
    copies = []

    class CopyAtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            copies.append(copy.deepcopy(scorer))

    net = model()
    net.fit(x, y, validation_data=(x, y), epochs=1, verbose=0,
            callbacks=[scorer, CopyAtEpochEnd()])
    clone = copies[0]
    assert clone._model is None and clone._scored is None
    other = model(seed=1)
    history = other.fit(x, y, validation_data=(x, y), epochs=2, verbose=0,
                        callbacks=[clone])
    assert len(history.history["val_f1"]) == 2
    assert own_evaluate(net) and own_evaluate(other)

