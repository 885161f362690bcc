"""`tf.data` pipelines where the package takes arrays: `SklearnMetrics`,
`zoo.evaluation.evaluate`, `find_learning_rate`, `run_search` and
`BackupAndRestore` resume give the same numbers on arrays and on the
equivalent pipeline, and refuse an infinite one by the argument's name."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import callbacks
from tests.probes import RaiseAtEpochEnd
from zoo.evaluation import evaluate
from zoo.tuning import ZooHyperModel, run_search

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 5)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("int32") + (X[:, 2] > 1).astype("int32")  # 3 classes


def pipeline(x=X, y=Y, batch=8, shuffle=False, weights=None):
    parts = (x, y) if weights is None else (x, y, weights)
    ds = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle:
        ds = ds.shuffle(len(x), seed=3, reshuffle_each_iteration=True)
    return ds.batch(batch)


def model(seed=0, units=3):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(units, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    return m


# ---- zoo.evaluation.evaluate ------------------------------------------------------------


def test_evaluate_scores_a_pipeline_like_its_arrays_even_reshuffled():
    m = model()
    on_arrays = evaluate(m, X, Y)
    for ds in (pipeline(), pipeline(shuffle=True, batch=5)):
        on_pipeline = evaluate(m, ds)
        for key in ("accuracy", "f1_macro", "roc_auc", "num_samples"):
            assert on_pipeline[key] == pytest.approx(on_arrays[key]), key
        assert on_pipeline["confusion_matrix"] == on_arrays["confusion_matrix"]


def test_evaluate_refuses_infinite_pipelines_and_labels_beside_them():
    m = model()
    with pytest.raises(ValueError, match=r"evaluate: `x_test` is an infinite tf.data.Dataset"):
        evaluate(m, pipeline().repeat())
    with pytest.raises(ValueError, match=r"`y_test=None`"):
        evaluate(m, pipeline(), Y)
    with pytest.raises(ValueError, match=r"`x_test` yields elements of 3 part\(s\)"):
        evaluate(m, pipeline(weights=np.ones(len(X))))


# ---- callbacks.SklearnMetrics -----------------------------------------------------------


def _scored(validation, fit_validation):
    m = model()
    scorer = callbacks.SklearnMetrics(validation)
    m.fit(X, Y, validation_data=fit_validation, epochs=2, batch_size=16, shuffle=False,
          verbose=0, callbacks=[scorer])
    return scorer.history, m


def _same_history(history, expected):
    assert sorted(history) == sorted(expected) and "val_f1" in history
    for key, values in expected.items():
        assert history[key] == pytest.approx(values, abs=1e-6), key


def test_sklearn_metrics_takes_a_pipeline_and_reuses_fits_predictions():
    expected, _ = _scored((X, Y), (X, Y))
    ds = pipeline()
    history, m = _scored(ds, ds)
    assert m.predict_function is None  # scored from fit's own validation pass
    _same_history(history, expected)
    # A pipeline that reshuffles gives fit's rows in another order: the scorer
    # sees it and predicts its own copy, with the same scores.
    shuffled = pipeline(shuffle=True)
    history, m = _scored(shuffled, shuffled)
    assert m.predict_function is not None
    _same_history(history, expected)


def test_sklearn_metrics_refuses_infinite_or_weighted_pipelines():
    with pytest.raises(ValueError, match=r"SklearnMetrics: `validation_data` is an "
                                         r"infinite tf.data.Dataset.*\.take\(n\)"):
        callbacks.SklearnMetrics(pipeline().repeat())
    with pytest.raises(ValueError, match=r"`validation_data` yields elements of 3 part.*"
                                         r"sample weights"):
        callbacks.SklearnMetrics(pipeline(weights=np.ones(len(X))))


# ---- callbacks.find_learning_rate -------------------------------------------------------


def test_find_learning_rate_on_a_pipeline_matches_arrays():
    # One batch per epoch: Keras's shuffling of the arrays cannot change it.
    kwargs = dict(min_lr=1e-3, max_lr=10.0, num_steps=12)
    on_arrays = callbacks.find_learning_rate(model(), X, Y, batch_size=len(X), **kwargs)
    for ds in (pipeline(batch=len(X)), pipeline(batch=len(X)).repeat()):
        found = callbacks.find_learning_rate(model(), ds, **kwargs)
        assert found.losses == pytest.approx(on_arrays.losses, rel=1e-5)
        assert found.suggestion == pytest.approx(on_arrays.suggestion)
    with pytest.raises(ValueError, match=r"find_learning_rate: `x` is a tf.data.Dataset.*"
                                         r"`y=None`"):
        callbacks.find_learning_rate(model(), pipeline(), Y, **kwargs)


# ---- zoo.tuning.run_search ---------------------------------------------------------------


def test_run_search_on_pipelines_matches_arrays(tmp_path):
    # One trial (Keras's shuffling of arrays draws random numbers, so later
    # trials would start from other weights), the whole training set in one
    # batch, rebatched from 8 for the pipeline: order-free.
    hm = ZooHyperModel("mlp.baseline", (5,), 3, "multiclass",
                       space={"learning_rate": [0.1], "width": [8], "depth": [1],
                              "batch_size": [len(X)]})
    scores = {}
    for name, data in {"arrays": (X, Y, (X, Y)),
                       "pipelines": (pipeline(), None, pipeline())}.items():
        keras.utils.set_random_seed(0)
        x, y, val = data
        result = run_search(hm, "grid", "val_f1", 1, tmp_path, name, x, y, val, 3,
                            callbacks=[callbacks.SklearnMetrics(val)], seed=1,
                            progress=False)
        scores[name] = [row["score"] for row in result.rows]
    assert len(scores["arrays"]) == 1
    assert scores["pipelines"] == pytest.approx(scores["arrays"], abs=1e-6)
    with pytest.raises(ValueError, match=r"run_search: `x` is an infinite"):
        run_search(hm, "grid", "val_loss", 1, tmp_path, "bad", pipeline().repeat(), None,
                   pipeline(), 1, progress=False)
    with pytest.raises(ValueError, match=r"run_search: `validation_data` is an infinite"):
        run_search(hm, "grid", "val_loss", 1, tmp_path, "bad", pipeline(), None,
                   pipeline().repeat(), 1, progress=False)


# ---- callbacks.BackupAndRestore -----------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_backup_and_restore_resumes_a_fit_on_a_pipeline(tmp_path, weighted):
    weights = np.linspace(0.5, 1.5, len(X)).astype("float32") if weighted else None
    ds = pipeline(weights=weights)

    def fit(m, extra=()):
        plateau = callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5,
                                              min_delta=1.0)  # reduces on a schedule
        backup = callbacks.BackupAndRestore(str(tmp_path / "backup"))
        m.fit(ds, validation_data=ds, epochs=5, verbose=0,
              callbacks=[*extra, plateau, backup])
        return backup

    whole = model()
    expected = fit(whole).history
    resumed = model()
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(resumed, [RaiseAtEpochEnd(2)])
    history = fit(model()).history  # a fresh model, as after a restart
    assert history["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert history["learning_rate"] == pytest.approx(expected["learning_rate"])
