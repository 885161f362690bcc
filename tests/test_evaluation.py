"""evaluate(): metrics equal scikit-learn's, report files, and real PNG plots."""

import json

import keras
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn import metrics

from callbacks import LearningRateLogger, SklearnMetrics
from zoo.data import load_dataset
from zoo.evaluation import evaluate, evaluate_predictions, scores
from zoo.evaluation.figures import plot_confusion_matrix, plot_history, plot_roc_curves


def _train(data, head, loss, n_train=300, epochs=3):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(data.input_shape), keras.layers.Flatten(), head]
    )
    model.compile(keras.optimizers.Adam(0.05), loss, metrics=None if "mse" in str(loss) else ["accuracy"])
    history = model.fit(
        data.x_train[:n_train], data.y_train[:n_train],
        validation_data=data.val, epochs=epochs, batch_size=32, verbose=0,
    )
    return model, history


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", seed=0)
    model, history = _train(data, keras.layers.Dense(10, activation="softmax"),
                            "sparse_categorical_crossentropy")
    return data, model, history


@pytest.fixture(scope="module")
def cancer():
    data = load_dataset("breast_cancer", seed=0)
    model, history = _train(data, keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy")
    return data, model, history


@pytest.fixture(scope="module")
def diabetes():
    data = load_dataset("diabetes", seed=0)
    model, history = _train(data, keras.layers.Dense(1), "mse", epochs=2)
    return data, model, history


def _assert_real_plot(path):
    """A real, non-blank PNG with coloured content (curves, cells, dots)."""
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    rgb = image[..., :3]
    assert rgb.std() > 0.02
    coloured = (rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25  # not white/grey/black
    assert coloured.mean() > 0.002


def test_multiclass_report_equals_sklearn(digits, tmp_path):
    data, model, history = digits
    report = evaluate(model, data.x_test, data.y_test, log_dir=tmp_path,
                      history=history, class_names=data.class_names)
    probs = model.predict(data.x_test, verbose=0)
    y, pred = data.y_test, probs.argmax(axis=1)
    assert report.task == "multiclass" and report["num_samples"] == len(y)
    assert report["accuracy"] == metrics.accuracy_score(y, pred)
    for avg in ("macro", "micro", "weighted"):
        assert report[f"f1_{avg}"] == pytest.approx(metrics.f1_score(y, pred, average=avg))
        assert report[f"precision_{avg}"] == pytest.approx(
            metrics.precision_score(y, pred, average=avg, zero_division=0))
        assert report[f"recall_{avg}"] == pytest.approx(metrics.recall_score(y, pred, average=avg))
    assert report["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    assert report["average_precision"] == pytest.approx(
        metrics.average_precision_score(np.eye(10)[y], probs, average="macro"))
    per_class_f1 = metrics.f1_score(y, pred, average=None)
    assert [report["per_class"][n]["f1"] for n in data.class_names] == pytest.approx(per_class_f1)
    assert report["per_class"]["3"]["support"] == int((y == 3).sum())
    assert report["confusion_matrix"] == metrics.confusion_matrix(y, pred).tolist()
    assert 0.3 < report["accuracy"] < 1.0  # it learned something, so the numbers mean something


def test_report_files_parse_and_plots_have_content(digits, tmp_path):
    data, model, history = digits
    report = evaluate(model, data.x_test, data.y_test, log_dir=tmp_path, history=history.history)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved == json.loads(report.to_json())
    for key in ("task", "accuracy", "f1_macro", "precision_micro", "recall_weighted",
                "roc_auc", "per_class", "confusion_matrix", "training", "files"):
        assert key in saved
    assert saved["training"]["epochs"] == 3
    assert saved["training"]["final"]["val_loss"] == pytest.approx(history.history["val_loss"][-1])
    text = (tmp_path / "report.txt").read_text()
    for name in ("accuracy", "macro avg", "weighted avg", "roc_auc", "precision", "recall",
                 "f1", "confusion matrix"):
        assert name in text
    assert text.strip() == str(report) == report.to_text()
    for png in ("training_curves.png", "confusion_matrix.png", "roc_curve.png"):
        _assert_real_plot(tmp_path / png)
        assert png in saved["files"].values()
    assert plt.get_fignums() == []  # no pyplot figures left open


def test_binary_report_equals_sklearn(cancer, tmp_path):
    data, model, _ = cancer
    report = evaluate(model, data.x_test, data.y_test, log_dir=tmp_path,
                      class_names=data.class_names)
    p = model.predict(data.x_test, verbose=0).ravel()
    y, pred = data.y_test, (p >= 0.5).astype(int)
    assert report.task == "binary" and not report["from_logits"]
    assert report["accuracy"] == metrics.accuracy_score(y, pred)
    assert report["precision"] == pytest.approx(metrics.precision_score(y, pred))
    assert report["recall"] == pytest.approx(metrics.recall_score(y, pred))
    assert report["f1"] == pytest.approx(metrics.f1_score(y, pred))
    assert report["f1_macro"] == pytest.approx(metrics.f1_score(y, pred, average="macro"))
    assert report["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, p))
    assert report["average_precision"] == pytest.approx(metrics.average_precision_score(y, p))
    assert report["confusion_matrix"] == metrics.confusion_matrix(y, pred).tolist()
    assert set(report["per_class"]) == {"malignant", "benign"}
    assert report["accuracy"] > 0.8
    _assert_real_plot(tmp_path / "roc_curve.png")
    _assert_real_plot(tmp_path / "confusion_matrix.png")
    assert not (tmp_path / "training_curves.png").exists()  # no history given


def test_regression_report_equals_sklearn(diabetes, tmp_path):
    data, model, history = diabetes
    report = evaluate(model, data.x_test, data.y_test, log_dir=tmp_path, history=history)
    pred = model.predict(data.x_test, verbose=0).ravel()
    y = data.y_test
    assert report.task == "regression"
    assert report["mse"] == pytest.approx(metrics.mean_squared_error(y, pred))
    assert report["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, pred)))
    assert report["mae"] == pytest.approx(metrics.mean_absolute_error(y, pred))
    assert report["r2"] == pytest.approx(metrics.r2_score(y, pred))
    assert "accuracy" not in report and "confusion_matrix" not in report
    assert not (tmp_path / "roc_curve.png").exists()
    assert not (tmp_path / "confusion_matrix.png").exists()
    _assert_real_plot(tmp_path / "predictions.png")
    _assert_real_plot(tmp_path / "training_curves.png")
    text = (tmp_path / "report.txt").read_text()
    assert all(name in text for name in ("mse", "rmse", "mae", "r2"))


def test_multilabel_model_report_equals_sklearn(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((120, 5)).astype(np.float32)
    y = (x[:, :3] > 0.5).astype(np.int64)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    model.fit(x[:80], y[:80], epochs=3, verbose=0)
    report = evaluate(model, x[80:], y[80:], log_dir=tmp_path, class_names=["a", "b", "c"])
    s = model.predict(x[80:], verbose=0)
    pred = (s >= 0.5).astype(int)
    assert report.task == "multilabel"
    assert report["accuracy"] == metrics.accuracy_score(y[80:], pred)
    assert report["hamming_loss"] == pytest.approx(metrics.hamming_loss(y[80:], pred))
    assert report["f1_micro"] == pytest.approx(metrics.f1_score(y[80:], pred, average="micro"))
    assert report["roc_auc"] == pytest.approx(metrics.roc_auc_score(y[80:], s, average="macro"))
    assert report["roc_auc_micro"] == pytest.approx(metrics.roc_auc_score(y[80:], s, average="micro"))
    assert report["average_precision"] == pytest.approx(
        metrics.average_precision_score(y[80:], s, average="macro"))
    assert report["per_class"]["b"]["confusion_matrix"] == \
        metrics.multilabel_confusion_matrix(y[80:], pred)[1].tolist()
    _assert_real_plot(tmp_path / "roc_curve.png")
    assert not (tmp_path / "confusion_matrix.png").exists()


def test_logits_and_one_hot_give_the_same_numbers(digits):
    data, model, _ = digits
    probs = model.predict(data.x_test, verbose=0)
    base = evaluate_predictions(data.y_test, probs)
    logits = evaluate_predictions(data.y_test, np.log(probs) + 3.0)
    one_hot = evaluate(model, data.x_test, np.eye(10)[data.y_test])
    assert logits["from_logits"] and not base["from_logits"]
    for report in (logits, one_hot):
        assert report.task == "multiclass"
        for key in ("accuracy", "f1_macro", "confusion_matrix"):
            assert report[key] == base[key]
        assert report["roc_auc"] == pytest.approx(base["roc_auc"], abs=1e-6)


def test_mismatches_and_bad_input_are_clear_errors(digits):
    data, model, _ = digits
    x, y = data.x_test, data.y_test
    with pytest.raises(ValueError, match=r"evaluate: `y_test` has 27 rows with class ids >= 10 "
                       r"\(rows 0, 1, 2, .*; allowed: integer labels in 0 \.\.\. 9"):
        evaluate(model, x, np.where(y == 9, 12, y))
    with pytest.raises(ValueError, match=r"do not fit the model \(task='binary', model head: 10 "
                       r"units, softmax activation\)\. Found an output of 10 units"):
        evaluate(model, x, y, task="binary")
    with pytest.raises(ValueError, match="Did you mean 'multiclass'"):
        evaluate(model, x, y, task="multiclas")
    with pytest.raises(ValueError, match=r"x_test has shape \(270, 64\) but the model expects"):
        evaluate(model, x.reshape(len(x), -1), y)
    bad = x.copy()
    bad[[5, 9]] = np.nan
    with pytest.raises(ValueError, match=r"x_test has 2 rows with NaN or Inf \(rows 5, 9\)"):
        evaluate(model, bad, y)
    with pytest.raises(ValueError, match="same number of rows"):
        evaluate(model, x, y[:-1])
    with pytest.raises(TypeError, match="History"):
        evaluate(model, x, y, history=[0.5, 0.4])
    with pytest.raises(ValueError, match="class_names has 2 names but there are 10"):
        evaluate(model, x, y, class_names=["a", "b"])
    with pytest.raises(TypeError, match="predict"):
        evaluate(object(), x, y)
    with pytest.raises(ValueError, match="diverged"):
        evaluate_predictions(y, np.full((len(y), 10), np.nan))


def test_plot_history_pairs_train_and_validation():
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
               "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7],
               "learning_rate": [0.1, 0.1, 0.05]}
    fig = plot_history(history)
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert list(panels) == ["loss", "accuracy", "learning rate"]
    assert [line.get_label() for line in panels["loss"].lines] == ["train", "validation"]
    np.testing.assert_allclose(panels["loss"].lines[1].get_ydata(), history["val_loss"])
    assert [line.get_label() for line in panels["learning rate"].lines] == ["learning_rate"]
    with pytest.raises(ValueError, match="no per-epoch values"):
        plot_history({})


def _legends(fig):
    return {ax.get_title(): [line.get_label() for line in ax.lines] for ax in fig.axes}


def test_training_curves_of_a_real_fit_group_and_label_truthfully():
    # 3 classes: SklearnMetrics's val_f1 (macro average) equals val_f1_macro.
    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    x = (rng.normal(scale=2.0, size=(3, 4))[y] + rng.normal(size=(90, 4))).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    scorer = SklearnMetrics(validation_data=(x[60:], y[60:]))
    history = model.fit(x[:60], y[:60], validation_data=(x[60:], y[60:]), epochs=3,
                        callbacks=[scorer, LearningRateLogger()], verbose=0)
    assert history.history["val_f1"] == history.history["val_f1_macro"]

    legends = _legends(plot_history(history))
    assert list(legends) == ["loss", "accuracy", "validation scores", "learning rate"]
    assert legends["loss"] == legends["accuracy"] == ["train", "validation"]
    scores = legends["validation scores"]
    assert all(label.endswith(" (validation)") for label in scores)
    # Equal series are drawn once (balanced classes: weighted F1 is macro F1 too).
    assert [label for label in scores if "f1_macro" in label] == [
        "f1 = f1_macro = f1_weighted (validation)"]
    shown = {name for label in scores for name in label[:-13].split(" = ")}
    assert shown == {key[4:] for key in history.history
                     if key.startswith("val_") and key not in ("val_loss", "val_accuracy")}
    assert legends["learning rate"] == ["learning_rate"]



def test_figures_stay_readable_with_many_classes():
    rng = np.random.default_rng(0)
    y = np.arange(500) % 25
    probs = rng.dirichlet(np.ones(25), size=500)
    matrix = metrics.confusion_matrix(y, probs.argmax(axis=1))
    small = plot_confusion_matrix(matrix[:5, :5]).axes[0]
    # Every non-zero cell numbered, zeros blank.
    assert sorted(t.get_text() for t in small.texts) == sorted(
        str(v) for v in matrix[:5, :5].ravel() if v)
    assert len(small.figure.axes) == 1  # no colour bar beside numbers
    big = plot_confusion_matrix(matrix, layout=None).axes[0]
    assert len(big.texts) == 0 and len(big.get_xticks()) <= 20
    roc = plot_roc_curves(y, probs, title="ROC").axes[0]
    assert roc.get_title() == "ROC, first 10 of 25 classes"
    assert len(roc.lines) == 11  # 10 classes and the chance line
    stack = metrics.multilabel_confusion_matrix(y[:, None] == [0, 1, 2], probs[:, :3] > 0.04)
    table = plot_confusion_matrix(stack, ["a", "b", "c"]).axes[0]
    assert [t.get_text() for t in table.get_xticklabels()] == ["TN", "FP", "FN", "TP"]
    assert [t.get_text() for t in table.get_yticklabels()] == ["a", "b", "c"]
    assert len(table.texts) == np.count_nonzero(stack)

def test_several_regression_targets_score_the_same_in_callback_and_report():
    # Targets on different scales: the mean of per-target RMSEs (scikit-learn's
    # definition, used by both) is far from the square root of the mean MSE.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = x[:, :3] * np.array([1.0, 5.0, 20.0]) + rng.normal(size=(120, 3))
    x_val, y_val = x[80:], y[80:]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    scorer = SklearnMetrics(validation_data=(x_val, y_val), batch_size=len(x_val))
    history = model.fit(x[:80], y[:80], epochs=2, callbacks=[scorer], verbose=0)
    report = evaluate(model, x_val, y_val, batch_size=len(x_val))
    assert report.task == "regression"
    for name in ("mse", "rmse", "mae", "r2"):
        assert history.history[f"val_{name}"][-1] == report[name], name
    pred = model.predict(x_val, batch_size=len(x_val), verbose=0)
    assert report["rmse"] == pytest.approx(metrics.root_mean_squared_error(y_val, pred))
    assert report["rmse"] != pytest.approx(np.sqrt(report["mse"]), rel=0.05)


def test_class_absent_from_test_set_is_reported_not_hidden():
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2  # class 2 never occurs
    probs = rng.dirichlet(np.ones(3), size=40)
    report = evaluate_predictions(y, probs, class_names=["a", "b", "c"])
    assert report["per_class"]["c"]["roc_auc"] is None and "'c'" in report["roc_auc_note"]
    expected = np.mean([metrics.roc_auc_score(y == c, probs[:, c]) for c in (0, 1)])
    assert report["roc_auc"] == pytest.approx(expected)
    assert "note:" in str(report)
    json.loads(report.to_json())  # None, not NaN, so the JSON stays valid


def test_out_dir_is_a_deprecated_alias_of_log_dir(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    x, y = np.random.rand(30, 4), np.arange(30) % 3
    with pytest.warns(DeprecationWarning, match=r"evaluate\(out_dir=...\).*use `log_dir`"):
        report = evaluate(model, x, y, out_dir=tmp_path / "old")
    assert json.loads((tmp_path / "old" / "report.json").read_text())["task"] == "multiclass"
    with pytest.warns(DeprecationWarning, match=r"EvaluationReport.save\(out_dir=...\)"):
        report.save(out_dir=tmp_path / "again")
    assert (tmp_path / "again" / "report.txt").read_text() == str(report) + "\n"
    with pytest.raises(TypeError, match="pass only `log_dir`"):
        evaluate(model, x, y, out_dir=tmp_path, log_dir=tmp_path)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_scores_under_their_keys_equal_sklearns_functions(task):
    # Each key holds what scikit-learn's function of that name gives, with
    # tied scores, a class never predicted and a class without samples
    # (zero_division=0, one-outcome classes left out of the ranking means).
    rng = np.random.default_rng(3)
    for trial in range(6):
        n, k = 60 + trial, 4
        if task == "binary":
            y = (rng.random(n) < 0.4).astype(int)
            probs = np.round(rng.random(n), 1)  # ties
            truth = y[:, None]
        elif task == "multiclass":
            y = rng.integers(0, k - 1, n)  # class k - 1 has no samples
            probs = np.round(rng.dirichlet(np.ones(k), n), 1 + trial % 2)
            probs[:, 1] = 0.0  # class 1 never predicted
            truth = y[:, None] == np.arange(k)
        else:
            y = (rng.random((n, k)) < [0.3, 0.5, 0.0, 0.7]).astype(int)  # label 2 never true
            probs = np.round(rng.random((n, k)), 1)
            truth = y
        found = scores.classification_scores(y, probs, task)
        pred = scores.predicted_labels(probs, task)
        labels = list(range(2 if task == "binary" else k))
        assert found["accuracy"] == metrics.accuracy_score(y, pred)
        for avg in ("macro", "micro", "weighted"):
            expected = metrics.precision_recall_fscore_support(
                y, pred, labels=labels, average=avg, zero_division=0)[:3]
            got = [found[f"{key}_{avg}"] for key in ("precision", "recall", "f1")]
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-15), avg
        per_class = metrics.precision_recall_fscore_support(
            y, pred, labels=labels, average=None, zero_division=0)
        for i, name in enumerate(found["per_class"]):
            row = found["per_class"][name]
            assert [row["precision"], row["recall"], row["f1"], row["support"]] == \
                pytest.approx([v[i] for v in per_class], rel=1e-12, abs=1e-15)
        columns = [c for c in range(truth.shape[1]) if 0 < truth[:, c].sum() < n]
        score = probs[:, None] if task == "binary" else probs
        aucs = [metrics.roc_auc_score(truth[:, c], score[:, c]) for c in columns]
        aps = [metrics.average_precision_score(truth[:, c], score[:, c]) for c in columns]
        assert found["roc_auc"] == pytest.approx(np.mean(aucs), rel=1e-12)
        assert found["average_precision"] == pytest.approx(np.mean(aps), rel=1e-12)
        if task != "binary":
            for c, auc, ap in zip(columns, aucs, aps):
                row = found["per_class"][str(c)]
                assert (row["roc_auc"], row["average_precision"]) == pytest.approx(
                    (auc, ap), rel=1e-12)
        if task == "multilabel":
            assert found["roc_auc_micro"] == pytest.approx(
                metrics.roc_auc_score(y, probs, average="micro"), rel=1e-12)
        # What SklearnMetrics asks at each epoch: those keys only, each the
        # same number, with scikit-learn's input checks skipped.
        asked = ["accuracy", "f1", "f1_micro", "roc_auc", "average_precision",
                 "confusion_matrix"] + (["hamming_loss"] if task == "multilabel" else [])
        lean = scores.classification_scores(y, probs, task, keys=asked, checked=True)
        assert sorted(lean) == sorted(asked)
        for key in asked:
            assert np.array_equal(lean[key], found[key]), key


def test_classification_scores_refuses_unknown_keys():
    y, probs = np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.4, 0.3])
    with pytest.raises(ValueError, match=r"keys \['hamming_loss', 'r2'\] are not scores "
                                         r"of a binary task; the keys are \['accuracy'"):
        scores.classification_scores(y, probs, "binary", keys=["f1", "r2", "hamming_loss"])
