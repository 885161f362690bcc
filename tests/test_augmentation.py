"""`augment=`: random transformations inside the model, in training only.

Real models are built with `zoo.build(..., augment=...)`: their augmentation
layers change the batches `fit` sees and leave `predict` untouched, the
saved model reloads in safe mode with identical predictions (and still
augments when trained), padded sequence steps stay padding, the same holds
on JAX, and bad `augment=` values are refused with the allowed ones listed.
"""

import json

import keras
import numpy as np
import pytest

import zoo
from tests.backends import run_snippet
from zoo.models.augment import IMAGE, SEQUENCE, check_augment

IMAGES = "flip,rotate,zoom,translate,contrast"
SERIES = "shift,scale,jitter"
CASES = [  # (model, input shape, augment, layer names)
    ("cnn.simple", (8, 8, 1), IMAGES, list(IMAGE)),
    ("transformer.vit", (8, 8), {"rotate": 0.2, "zoom": None}, ["rotate", "zoom"]),
    ("cnn.fcn1d", (16, 2), SERIES, list(SEQUENCE)),
    ("rnn.gru", (16, 2), SERIES, list(SEQUENCE)),
    ("transformer.timeseries", (16, 2), "jitter=0.1", ["jitter"]),
]


def _data(shape, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape)).astype("float32"), np.arange(n) % 3


def _plain(config):
    return json.loads(json.dumps(config))  # tuples saved as lists


def _augmenter(model):
    """The model from its input to its last augmentation layer."""
    last = [layer for layer in model.layers if layer.name.startswith("augment_")][-1]
    return keras.Model(model.input, last.output)


@pytest.mark.parametrize("name, shape, augment, names", CASES)
def test_augmentation_changes_training_batches_only(name, shape, augment, names):
    keras.utils.set_random_seed(0)
    model = zoo.build(name, input_shape=shape, num_classes=3, augment=augment)
    assert [layer.name for layer in model.layers if layer.name.startswith("augment_")] \
        == [f"augment_{n}" for n in names]
    x, _ = _data(shape)
    augmenter = _augmenter(model)
    same = np.asarray(augmenter(x, training=False)).reshape(x.shape)
    np.testing.assert_array_equal(same, x)
    first = np.asarray(augmenter(x, training=True))
    second = np.asarray(augmenter(x, training=True))
    assert not np.allclose(first.reshape(x.shape), x)
    assert not np.allclose(first, second)  # new draws at every step
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saved_models_reload_in_safe_mode_with_identical_predictions(tmp_path):
    for name, shape, augment, _ in CASES:
        keras.utils.set_random_seed(0)
        model = zoo.compile_model(zoo.build(name, input_shape=shape, num_classes=3,
                                            augment=augment))
        x, y = _data(shape)
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        path = tmp_path / f"{name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                      model.predict(x, verbose=0), err_msg=name)
        # The augmentation came back with its settings, and still trains.
        for before, after in zip(model.layers, loaded.layers):
            if before.name.startswith("augment_"):
                assert type(after) is type(before)
                assert _plain(after.get_config()) == _plain(before.get_config()), name
        assert not np.allclose(np.asarray(_augmenter(loaded)(x, training=True)).reshape(
            x.shape), x), name


def test_padded_steps_stay_padding_under_augmentation():
    keras.utils.set_random_seed(0)
    model = zoo.build("rnn.lstm", input_shape=(10, 2), num_classes=3, augment=SERIES,
                      mask_value=-1.0)
    x, _ = _data((10, 2), n=8)
    x[:, 6:] = -1.0  # the last four steps are padding
    augmented = np.asarray(_augmenter(model)(x, training=True))
    padded = np.all(augmented == -1.0, axis=-1)
    assert (padded.sum(axis=1) == 4).all()  # moved by the shift, never altered
    assert not np.isin(augmented[~padded], x).all()  # the others are scaled and jittered
    # Inference: the padding after a sample still changes nothing.
    longer = np.concatenate([x, np.full((8, 5, 2), -1.0, "float32")], axis=1)
    short = zoo.build("rnn.lstm", input_shape=(None, 2), num_classes=3, augment=SERIES,
                      mask_value=-1.0)
    short.set_weights(model.get_weights())
    np.testing.assert_allclose(short.predict(x[:, :6], verbose=0),
                               short.predict(longer, verbose=0), atol=1e-6)


def test_augmentation_trains_saves_and_reloads_on_jax(tmp_path):
    out = run_snippet(f"""
        import json, keras, numpy as np, zoo
        keras.utils.set_random_seed(0)
        result = {{}}
        for name, shape, augment in [("cnn.simple", (8, 8, 1), "{IMAGES}"),
                                     ("cnn.fcn1d", (12, 2), "{SERIES}")]:
            model = zoo.compile_model(zoo.build(name, input_shape=shape, num_classes=3,
                                                augment=augment, depth=1, width=4))
            x = np.random.default_rng(0).random((16, *shape)).astype("float32")
            model.fit(x, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
            path = r"{tmp_path}/" + name + ".keras"
            model.save(path)
            loaded = keras.saving.load_model(path, safe_mode=True)
            last = [l for l in model.layers if l.name.startswith("augment_")][-1]
            augmenter = keras.Model(model.input, last.output)
            result[name] = dict(
                backend=keras.backend.backend(),
                same=bool(np.array_equal(loaded.predict(x, verbose=0),
                                         model.predict(x, verbose=0))),
                inference=bool(np.array_equal(
                    np.asarray(augmenter(x, training=False)).reshape(x.shape), x)),
                training=bool(not np.allclose(
                    np.asarray(augmenter(x, training=True)).reshape(x.shape), x)))
        print(json.dumps(result))
    """)
    for name, facts in out.items():
        assert facts == {"backend": "jax", "same": True, "inference": True,
                         "training": True}, name


@pytest.mark.parametrize("augment, error, message", [
    ("flip,rotat", ValueError, r"unknown augmentation 'rotat'; image models take "
     r"\['flip', 'rotate', 'zoom', 'translate', 'contrast'\], sequence models "
     r"\['shift', 'scale', 'jitter'\]\. Did you mean 'rotate'"),
    ({"rotate": 2}, ValueError, r"`augment\['rotate'\]` must be a number > 0 and <= 1 "
     r"\(default 0.1\), None or True; got 2"),
    ("zoom=-0.1", ValueError, r"`augment\['zoom'\]` must be a number > 0"),
    ({"jitter": "big"}, ValueError, r"`augment\['jitter'\]` must be a number > 0"),
    ({"flip": "diagonal"}, ValueError, r"`augment\['flip'\]` must be one of "
     r"\['horizontal', 'horizontal_and_vertical', 'vertical'\]"),
    (0.2, TypeError, r"`augment` must be None, names separated by commas"),
    ([1], TypeError, r"`augment` must be None, .* got 1 in a list"),
    ("jitter", ValueError, r"`augment`: \['jitter'\] are not for image models; they take "
     r"\['flip', 'rotate', 'zoom', 'translate', 'contrast'\]"),
])
def test_bad_augment_values_are_refused_with_what_is_allowed(augment, error, message):
    with pytest.raises(error, match=message):
        zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=3, augment=augment)


def test_augment_forms_and_what_describe_says():
    assert check_augment("augment", None) == {}
    assert check_augment("augment", " Zoom , rotate=0.2,flip=vertical") == {
        "flip": "vertical", "rotate": 0.2, "zoom": 0.1}
    assert check_augment("augment", ["shift", "jitter"]) == {"shift": 0.1, "jitter": 0.03}
    assert check_augment("augment", {"scale": True}) == {"scale": 0.1}
    with pytest.raises(ValueError, match=r"\['rotate'\] are not for sequence models"):
        zoo.build("rnn.gru", input_shape=(12, 2), num_classes=3, augment="rotate")
    with pytest.raises(TypeError, match="Unknown option.*augment"):  # token models: none
        zoo.build("transformer.text", input_shape=(12,), num_classes=2, vocab_size=50,
                  augment="jitter")
    doc = str(zoo.describe("cnn.resnet"))
    assert "augment:" in doc and "'flip'" in doc and "Defaults to `None`" in doc
