"""Every registered model builds, trains, saves and reloads; heads and masks work."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import zoo

# Keras's own `model.save` trips a NumPy 2 deprecation inside TensorFlow; not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
SMALL = {"width": 8, "depth": 1}
VOCAB = 20


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _small_options(name):
    options = dict(SMALL)
    if "vocab_size" in zoo.describe(name).required:
        options["vocab_size"] = VOCAB
    return options


def _inputs(kind, n=16, seed=0):
    """Real digits for images, random arrays of the kind's example shape otherwise."""
    rng = np.random.default_rng(seed)
    if kind == "image":
        return (load_digits().images[:n] / 16.0).astype("float32")[..., None]
    shape = (n,) + zoo.models.inputs.EXAMPLE_SHAPES[kind]
    if kind == "tokens":
        x = rng.integers(1, VOCAB, size=shape)
        x[: n // 2, -4:] = 0  # half the rows end in padding
        return x
    return rng.normal(size=shape).astype("float32")


@pytest.mark.parametrize("name", zoo.list_models())
def test_build_fit_save_reload(name, tmp_path):
    info = zoo.describe(name)
    model = zoo.build(name, input_shape=info.example_input_shape, num_classes=3,
                      **_small_options(name))
    zoo.compile_model(model, optimizer="adam", learning_rate=0.01)
    # Eager fit costs a fifth of a traced one on a shared 2-core machine;
    # test_graph_mode_fit covers tf.function tracing of the custom layers.
    model.run_eagerly = True
    x = _inputs(info.input_kind)
    y = np.arange(len(x)) % 3
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    path = tmp_path / "model.keras"
    model.save(path)
    keras.backend.clear_session()
    reloaded = keras.saving.load_model(path, safe_mode=True)
    expected = _np(model(x, training=False))
    assert expected.shape == (len(x), 3)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(_np(reloaded(x, training=False)), expected, rtol=1e-6, atol=1e-6)


def test_graph_mode_fit_with_variable_length():
    model = zoo.build("transformer.text", input_shape=(None,), num_classes=2, task="binary",
                      max_len=16, **_small_options("transformer.text"))
    zoo.compile_model(model, learning_rate=0.01)
    assert not model.run_eagerly
    for length in (6, 11):  # two lengths: the traced step must accept both
        x = _pad(TOKEN_ROWS * 4, length)
        history = model.fit(x, np.arange(len(x)) % 2, epochs=1, batch_size=12, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_fresh_process_loads_with_only_import_zoo(tmp_path):
    x = _inputs("tokens", n=4)
    model = zoo.build("transformer.text", input_shape=(12,), num_classes=2, task="binary",
                      **_small_options("transformer.text"))
    model.save(tmp_path / "text.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.predict(x, verbose=0))
    script = (
        "import sys, numpy as np, keras, zoo\n"
        "d = sys.argv[1]\n"
        "m = keras.saving.load_model(d + '/text.keras', safe_mode=True)\n"
        "np.testing.assert_allclose(m.predict(np.load(d + '/x.npy'), verbose=0),"
        " np.load(d + '/expected.npy'), rtol=1e-6, atol=1e-6)\n"
        "print('layers', sorted({type(l).__name__ for l in m.layers}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TransformerEncoder" in done.stdout and "PositionEmbedding" in done.stdout


@pytest.mark.parametrize(
    "task, num_classes, y, units, activation, loss",
    [
        ("binary", 2, np.array([0, 1] * 4), 1, "sigmoid", "BinaryCrossentropy"),
        ("binary", 1, np.array([0, 1] * 4), 1, "sigmoid", "BinaryCrossentropy"),
        ("multiclass", 3, np.arange(8) % 3, 3, "softmax", "SparseCategoricalCrossentropy"),
        ("multilabel", 4, np.maximum(np.eye(4)[np.arange(8) % 4], np.eye(4)[np.arange(8) % 2]), 4,
         "sigmoid", "BinaryCrossentropy"),
        ("regression", 2, np.linspace(-1, 1, 16).reshape(8, 2), 2, "linear",
         "MeanSquaredError"),
        ("regression", None, np.linspace(-1, 1, 8), 1, "linear", "MeanSquaredError"),
    ],
)
def test_every_task_compiles_and_fits(task, num_classes, y, units, activation, loss):
    model = zoo.build("mlp.baseline", input_shape=(5,), num_classes=num_classes, task=task,
                      **SMALL)
    head = model.layers[-1]
    assert head.units == units
    assert head.get_config()["activation"] == activation
    zoo.compile_model(model)  # task read back from the head
    # Eager keeps this fast; graph-mode training of every model is covered above.
    model.run_eagerly = True
    assert type(model.loss).__name__ == loss
    x = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
    history = model.fit(x, y.astype("float32"), epochs=1, batch_size=8, verbose=0)
    expected = {"binary": {"accuracy", "auc"}, "multilabel": {"accuracy", "auc"},
                "multiclass": {"accuracy"}, "regression": {"mae", "rmse"}}[task]
    assert expected | {"loss"} == set(history.history)
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_one_hot_multiclass_uses_categorical_loss():
    model = zoo.build("cnn.simple", input_shape=(8, 8), num_classes=10, **SMALL)
    zoo.compile_model(model, task="multiclass", one_hot=True, optimizer="sgd")
    model.run_eagerly = True
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    digits = load_digits()
    x, y = digits.images[:16] / 16.0, np.eye(10)[digits.target[:16]]
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert 0.0 <= history.history["accuracy"][0] <= 1.0
    assert isinstance(zoo.loss_for_task("multiclass"), keras.losses.SparseCategoricalCrossentropy)


def _pad(rows, length, value=0):
    out = np.full((len(rows), length) + rows[0].shape[1:], value, dtype=rows[0].dtype)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


TOKEN_ROWS = [np.array([5, 3, 7]), np.array([2, 9, 4, 4, 1]), np.array([8, 6])]


@pytest.mark.parametrize(
    "name, options",
    [
        ("rnn.simple_rnn_tokens", {}),
        ("rnn.lstm_tokens", {"bidirectional": True}),
        ("rnn.gru_tokens", {"depth": 2}),
        ("transformer.text", {"max_len": 16, "depth": 2}),
    ],
)
def test_token_models_ignore_padding(name, options):
    options = {**_small_options(name), **options}
    model = zoo.build(name, input_shape=(None,), num_classes=3, **options)
    short, long = _np(model(_pad(TOKEN_ROWS, 6))), _np(model(_pad(TOKEN_ROWS, 11)))
    np.testing.assert_allclose(short, long, rtol=1e-5, atol=1e-6)
    # The control: with masking off the padding does change the prediction.
    unmasked = zoo.build(name, input_shape=(None,), num_classes=3, mask_zero=False, **options)
    assert not np.allclose(_np(unmasked(_pad(TOKEN_ROWS, 6))),
                           _np(unmasked(_pad(TOKEN_ROWS, 11))), atol=1e-6)


@pytest.mark.parametrize("name", ["rnn.lstm", "transformer.timeseries"])
def test_sequence_models_skip_mask_value(name):
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=(n, 2)).astype("float32") for n in (3, 5, 2)]
    options = {**SMALL, "depth": 2, **({"max_len": 16} if "transformer" in name else {})}
    model = zoo.build(name, input_shape=(None, 2), num_classes=3, mask_value=-1.0, **options)
    np.testing.assert_allclose(_np(model(_pad(rows, 6, -1.0))),
                               _np(model(_pad(rows, 11, -1.0))), rtol=1e-5, atol=1e-6)
    unmasked = zoo.build(name, input_shape=(None, 2), num_classes=3, **options)
    assert not np.allclose(_np(unmasked(_pad(rows, 6, -1.0))),
                           _np(unmasked(_pad(rows, 11, -1.0))), atol=1e-6)


@pytest.mark.parametrize("name", zoo.list_models())
def test_common_options_reach_the_layers(name):
    info = zoo.describe(name)
    common = {"depth", "width", "activation", "kernel_initializer", "l1", "l2", "dropout"}
    assert common <= set(info.options)
    model = zoo.build(name, input_shape=info.example_input_shape, num_classes=2, task="binary",
                      activation="selu", kernel_initializer="kaiming_normal", l1=1e-3, l2=1e-3,
                      dropout=0.2, **_small_options(name))
    config = json.dumps(model.get_config())
    assert '"selu"' in config and '"HeNormal"' in config and '"L1L2"' in config
    assert model.losses, "l1/l2 added no regularization loss"
    shape, small = info.example_input_shape, _small_options(name)
    base = zoo.build(name, input_shape=shape, num_classes=3, **small)
    wider = zoo.build(name, input_shape=shape, num_classes=3, **{**small, "width": 16})
    deeper = zoo.build(name, input_shape=shape, num_classes=3, **{**small, "depth": 2})
    assert wider.count_params() > base.count_params()
    assert len(deeper.layers) > len(base.layers)


def test_registry_lists_and_describes():
    names = zoo.list_models()
    assert names == sorted(names)
    assert {"cnn.simple", "cnn.vgg", "cnn.resnet", "cnn.fcn1d", "rnn.simple_rnn", "rnn.lstm",
            "rnn.gru", "transformer.text", "transformer.timeseries", "transformer.vit",
            "mlp.baseline"} <= set(names)
    assert zoo.list_models(input_kind="image") == ["cnn.resnet", "cnn.simple", "cnn.vgg",
                                                   "transformer.vit"]
    assert zoo.list_models(family="transformer") == ["transformer.text",
                                                     "transformer.timeseries",
                                                     "transformer.vit"]
    info = zoo.describe("rnn.lstm_tokens")
    assert (info.name, info["input_kind"], info.required) == ("rnn.lstm_tokens", "tokens",
                                                             ("vocab_size",))
    assert info.description and info.options["width"] == 32


@pytest.mark.parametrize("name", zoo.list_models())
def test_describe_shows_the_builders_documentation(name):
    info = zoo.describe(name)
    text = str(info)
    assert text.startswith(f"{name}: {info.input_kind} input") and info.doc in text
    args = text[text.index("\nArgs:\n"):text.index("\nExample:\n")]
    documented = re.findall(r"^    (\w+): ", args, flags=re.MULTILINE)
    assert documented == list(info.options)  # every option, in signature order
    for option, default in info.options.items():
        entry = re.split(r"\n    (?=\w)", args[args.index(f"    {option}: "):])[0]
        assert "Required." in entry if option in info.required else f"`{default!r}`" in entry
    assert f'zoo.build("{name}"' in text  # its own example (run by test_doctests)
    assert info.builder.__doc__ == info.doc and info.to_dict()["doc"] == info.doc


def test_register_adds_a_model():
    @zoo.register("mlp.test_tiny", input_kind="features", description="one layer")
    def tiny(x, *, width=4, activation="relu"):
        return keras.layers.Dense(width, activation=activation)(x)

    try:
        assert "mlp.test_tiny" in zoo.list_models(family="mlp")
        model = zoo.build("mlp.test_tiny", input_shape=(3,), num_classes=2, activation="tanh")
        assert model.layers[1].get_config()["activation"] == "tanh"
        # No docstring: `register` still documents every option.
        assert "    width: size of the first block" in zoo.describe("mlp.test_tiny").doc
        with pytest.raises(ValueError, match="no validator"):
            zoo.register("mlp.bad", input_kind="features", description="")(
                lambda x, *, colour=1: x)

        def misdocumented(x, *, width=4):
            """Misdocumented.

            Args:
                depth: it takes no depth.
            """
            return x

        with pytest.raises(ValueError, match=r"describes \['depth'\], which it does not take"):
            zoo.register("mlp.misdocumented", input_kind="features", description="")(
                misdocumented)
    finally:
        zoo.models.registry._REGISTRY.pop("mlp.test_tiny", None)


def test_layers_round_trip_their_config():
    for layer in (zoo.models.layers.PositionEmbedding(max_len=7),
                  zoo.models.layers.TransformerEncoder(2, 16, dropout=0.1, activation="relu",
                                                kernel_regularizer="l2")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
