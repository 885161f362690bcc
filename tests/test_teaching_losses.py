"""Losses and scoring the teaching texts ask for: the choice of loss in
`zoo.compile_model`, center loss, and ensembles, each on real tiny runs."""

import json

import keras
import numpy as np
import pytest

import callbacks
import zoo
from zoo.data import load_dataset
from zoo.evaluation import Ensemble, evaluate_ensemble, evaluate_predictions
from zoo.models.layers import CenterLoss


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", seed=0)
    return data.x_train[:256], data.y_train[:256], data.x_test[:128], data.y_test[:128]


def _mlp(depth=1, width=16, **options):
    return zoo.build("mlp.baseline", input_shape=(8, 8, 1), num_classes=10, depth=depth,
                     width=width, **options)


# ## The choice of loss (002 §3.4.11)

def test_compile_model_trains_on_the_loss_it_is_given(digits):
    x, y = digits[0], keras.utils.to_categorical(digits[1], 10)
    model = zoo.compile_model(_mlp(), loss="MSE", one_hot=True)
    model.fit(x, y, epochs=1, verbose=0)
    expected = np.mean((model.predict(x, verbose=0) - y) ** 2)
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(expected, rel=1e-4)
    huber = keras.losses.Huber(delta=0.1)
    assert zoo.compile_model(_mlp(), loss=huber, one_hot=True).loss is huber
    # Without `loss` the task's loss stays.
    assert zoo.compile_model(_mlp()).loss.name == "sparse_categorical_crossentropy"


def test_mse_learns_slowly_from_a_saturated_softmax_and_cross_entropy_does_not(digits):
    x, y = digits[0], keras.utils.to_categorical(digits[1], 10)
    norms = {}
    for loss in ("mse", "categorical_crossentropy"):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = _mlp(activation="sigmoid")
        model.get_layer("head_multiclass").bias.assign(np.eye(10)[0] * 10.0)  # saturated
        zoo.compile_model(model, optimizer="sgd", learning_rate=0.5, one_hot=True, loss=loss)
        monitor = callbacks.GradientNormMonitor(log_dir=None)
        model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, callbacks=[monitor])
        norms[loss] = monitor.history["layer_norm"]["head_multiclass"][0]
    # MSE's gradient carries the softmax's derivative, ~0 when saturated.
    assert norms["categorical_crossentropy"] > 100 * norms["mse"]


@pytest.mark.parametrize("loss, one_hot, error, message", [
    ("msee", True, ValueError, r"`loss` must be one of \[.*got 'msee'. Did you mean 'mse'"),
    ("mse", False, ValueError, r"`loss`='mse' does not fit integer labels.*one_hot=True"),
    ("categorical_crossentropy", False, ValueError, r"does not fit integer labels"),
    ("sparse_categorical_crossentropy", True, ValueError, r"does not fit one-hot labels"),
    (3, False, TypeError, r"`loss` must be a loss name, a keras.losses.Loss or a callable"),
])
def test_bad_losses_are_refused_before_compiling(loss, one_hot, error, message):
    model = _mlp()
    with pytest.raises(error, match=message):
        zoo.compile_model(model, loss=loss, one_hot=one_hot)
    assert not model.compiled


# ## Center loss (002 §3.4.13)

def _spread(features, labels):
    """Within-class over between-class mean squared distance."""
    means = np.stack([features[labels == k].mean(axis=0) for k in range(10)])
    within = np.mean(np.sum((features - means[labels]) ** 2, axis=1))
    return within / np.mean(np.sum((means - means.mean(axis=0)) ** 2, axis=1)), means


def test_center_loss_pulls_features_toward_their_class_centre(digits):
    x, y = digits[0], digits[1]
    ratios = {}
    for weight in (0.0, 0.5):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = _mlp(depth=2, width=8)
        train = zoo.compile_model(zoo.models.with_center_loss(model, weight=weight),
                                  learning_rate=1e-2)
        train.fit([x, y], y, epochs=15, batch_size=32, verbose=0)
        # The classifier alone, label-free, computes the features.
        features = keras.Model(model.input, model.layers[-1].input).predict(x, verbose=0)
        ratios[weight], means = _spread(features, y)
        centres = keras.ops.convert_to_numpy(train.get_layer("center_loss").centers)
        # The centres followed their class means (alpha moves them each step):
        # each centre is nearest to its own class's mean.
        gaps = np.linalg.norm(centres[:, None] - means[None], axis=-1)
        np.testing.assert_array_equal(gaps.argmin(axis=1), np.arange(10))
    assert ratios[0.5] < 0.5 * ratios[0.0]


def test_center_loss_layer_follows_wen_et_al():
    layer = CenterLoss(num_classes=3, weight=2.0, alpha=0.5)
    features = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]], dtype="float32")
    labels = np.array([0, 0, 2])
    layer.build([(None, 2), (None,)])
    layer.centers.assign(np.array([[1.0, 1.0], [5.0, 5.0], [0.0, 0.0]]))
    out = layer([features, labels], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), features)
    # weight * 1/2 * mean ||x_i - c_{y_i}||^2 = 2 * 0.5 * mean(1, 5, 4)
    assert float(layer.losses[0]) == pytest.approx(10 / 3)
    # c_j -= alpha * sum_{y_i = j} (c_j - x_i) / (1 + n_j); class 1 is absent.
    expected = [[1 - 0.5 * ((0 + -2) / 3), 1 - 0.5 * (2 / 3)], [5, 5], [0, 0 - 0.5 * (-2 / 2)]]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centers), expected, rtol=1e-6)
    # Inference: no loss, centres untouched.
    layer([features, labels], training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centers), expected, rtol=1e-6)


def test_center_loss_models_reload_in_safe_mode(digits, tmp_path):
    x, y = digits[0][:64], digits[1][:64]
    model = _mlp(depth=2, width=8)
    train = zoo.compile_model(zoo.models.with_center_loss(model, feature_layer="dense_1",
                                                          weight=0.1, alpha=0.3))
    train.fit([x, y], y, epochs=1, verbose=0)
    train.save(tmp_path / "train.keras")
    model.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "train.keras", safe_mode=True)
    layer = loaded.get_layer("center_loss")
    assert (layer.num_classes, layer.weight, layer.alpha) == (10, 0.1, 0.3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centers),
                               keras.ops.convert_to_numpy(train.get_layer("center_loss").centers))
    np.testing.assert_allclose(loaded.predict([x, y], verbose=0),
                               train.predict([x, y], verbose=0), rtol=1e-6)
    classifier = keras.saving.load_model(tmp_path / "classifier.keras", safe_mode=True)
    np.testing.assert_allclose(classifier.predict(x, verbose=0),
                               train.predict([x, y], verbose=0), rtol=1e-6)


def test_with_center_loss_refuses_what_it_cannot_split():
    model = _mlp()
    with pytest.raises(ValueError, match=r"Unknown `feature_layer`='embedding'; the layers"):
        zoo.models.with_center_loss(model, feature_layer="embedding")
    cnn = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=3)
    with pytest.raises(ValueError, match=r"`feature_layer` must output one tensor \(batch, dim"):
        zoo.models.with_center_loss(cnn, feature_layer=cnn.layers[2].name)
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3, name="a")(inputs)
    b = keras.layers.Dense(3, name="b")(a)
    skip = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
        keras.layers.Add()([a, b])))
    with pytest.raises(ValueError, match=r"Cannot split .* skip connection"):
        zoo.models.with_center_loss(skip, feature_layer="b")
    with pytest.raises(TypeError, match=r"functional keras.Model"):
        zoo.models.with_center_loss("model")
    with pytest.raises(ValueError, match=r"`alpha` must be"):
        CenterLoss(3, alpha=1.5)
    with pytest.raises(ValueError, match=r"`weight` must be"):
        CenterLoss(3, weight=-1.0)


# ## Ensembles (003 key points)

def test_ensemble_score_equals_the_score_of_the_averaged_probabilities(digits, tmp_path):
    x, y, x_test, y_test = digits
    members = []
    for seed in range(3):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = zoo.compile_model(_mlp())
        model.fit(x, y, epochs=3, verbose=0)
        members.append(model)
    mean = np.mean([m.predict(x_test, verbose=0) for m in members], axis=0)
    report = evaluate_ensemble(members, x_test, y_test, log_dir=tmp_path)
    expected = evaluate_predictions(y_test, mean)
    for key in ("accuracy", "f1_macro", "roc_auc", "average_precision"):
        assert report[key] == pytest.approx(expected[key]), key
    np.testing.assert_array_equal(report["confusion_matrix"], expected["confusion_matrix"])
    singles = [evaluate_predictions(y_test, m.predict(x_test, verbose=0))["roc_auc"]
               for m in members]
    assert report["roc_auc"] not in singles
    assert json.loads((tmp_path / "report.json").read_text())["task"] == "multiclass"
    assert (tmp_path / "confusion_matrix.png").exists()


def test_ensemble_refuses_what_it_cannot_average():
    with pytest.raises(TypeError, match=r"`models` must be a list or tuple"):
        Ensemble(_mlp())
    with pytest.raises(ValueError, match=r"two or more models.*got 1"):
        Ensemble([_mlp()])
    with pytest.raises(TypeError, match=r"`models\[1\]` must have a predict method"):
        Ensemble([_mlp(), "model"])
    three = zoo.build("mlp.baseline", input_shape=(8, 8, 1), num_classes=3)
    with pytest.raises(ValueError, match=r"outputs of different shapes"):
        Ensemble([_mlp(), three]).predict(np.zeros((2, 8, 8, 1)))
