"""Model options the teaching texts ask for: initial weight scale, the leaky
ReLU slope, and the convolution/pooling knobs, each on a real tiny model."""

import keras
import numpy as np
import pytest

import callbacks
import zoo
from zoo.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", seed=0)
    return data.x_train[:64], data.y_train[:64]


def _first_step_norms(model, x, y):
    """Per-layer gradient norms of one SGD step on the whole of `x`."""
    zoo.compile_model(model, optimizer="sgd", learning_rate=1e-3)
    monitor = callbacks.GradientNormMonitor(log_dir=None)
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, callbacks=[monitor])
    return {layer: norms[0] for layer, norms in monitor.history["layer_norm"].items()}


# ## Initial weight scale (seed 000: too small vanishes, too large explodes)

def test_init_scale_moves_the_first_step_gradients_the_stated_way(digits):
    norms, stds = {}, {}
    for name, init in {"small": "random_normal(stddev=0.01)", "he": "he_normal",
                       "large": "random_normal(stddev=1.0)"}.items():
        keras.backend.clear_session()  # the same layer names for each
        keras.utils.set_random_seed(0)
        model = zoo.build("mlp.baseline", input_shape=(8, 8, 1), num_classes=10, depth=6,
                          width=32, kernel_initializer=init)
        stds[name] = float(np.std(model.get_layer("dense").kernel.numpy()))
        norms[name] = _first_step_norms(model, *digits)["dense"]  # the first layer
    # The initializer got its parameter: He's std for 64 inputs is sqrt(2/64) ~ 0.18.
    assert stds["small"] == pytest.approx(0.01, rel=0.1)
    assert stds["large"] == pytest.approx(1.0, rel=0.1)
    # Too small: the first layer's gradient vanishes; too large: it explodes.
    assert norms["small"] < 1e-3 * norms["he"]
    assert norms["large"] > 1e3 * norms["he"]


def test_each_layer_draws_its_own_weights_from_a_parametrized_initializer():
    model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, depth=2, width=4,
                      kernel_initializer="truncated_normal(mean=0.0, stddev=0.5)")
    first, second = (model.get_layer(n).kernel.numpy() for n in ("dense", "dense_1"))
    assert not np.allclose(first[:4], second[:4])
    assert type(model.get_layer("dense").kernel_initializer).__name__ == "TruncatedNormal"


BAD_SPECS = [
    ("kernel_initializer", "random_normal(stddev=-1)", ValueError, r"`stddev` must be .*> 0"),
    ("kernel_initializer", "random_normal(std=1)", ValueError,
     r"unknown parameter\(s\) \['std'\].*allowed: \['mean', 'stddev'\]"),
    ("kernel_initializer", "he_normal(scale=2)", ValueError,
     r"'he_normal' takes no parameters here; these do: 'random_normal\(mean=..., stddev"),
    ("kernel_initializer", "random_normal(0.5)", ValueError,
     r"must be a name or `name\(key=value, ...\)`"),
    ("kernel_initializer", "random_uniform(minval=1, maxval=0)", ValueError,
     r"`minval` must be below `maxval`"),
    ("kernel_initializer", "random_normal(stddev='big')", ValueError, r"numbers as values"),
    ("kernel_initializer", 0.5, TypeError, r"`kernel_initializer` must be a string"),
    ("activation", "leaky_relu(negative_slope=1.5)", ValueError,
     r"`negative_slope` must be a finite number >= 0.0 and < 1.0; got 1.5"),
    ("activation", "relu(negative_slope=0.1)", ValueError, r"'relu' takes no parameters"),
    ("activation", "leaky(negative_slope=0.1)", ValueError, r"`activation`.*'leaky'"),
]


@pytest.mark.parametrize("option, value, error, message", BAD_SPECS)
def test_bad_parametrized_options_are_refused_by_name(option, value, error, message):
    with pytest.raises(error, match=message):
        zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, **{option: value})


# ## Leaky ReLU slope (seed 004: about 0.01; Keras's leaky_relu has 0.2)

def test_leaky_relu_slope_is_used_trained_and_saved(digits, tmp_path):
    model = zoo.build("mlp.baseline", input_shape=(8, 8, 1), num_classes=10, depth=1, width=16,
                      activation="leaky_relu(negative_slope=0.01)")
    zoo.compile_model(model)
    model.fit(*digits, epochs=1, verbose=0)
    dense, act = (next(layer for layer in model.layers if isinstance(layer, kind))
                  for kind in (keras.layers.Dense, keras.layers.Activation))
    probe = keras.Model(model.input, [dense.output, act.output])
    before, after = probe.predict(digits[0], verbose=0)
    assert (before < 0).any()
    np.testing.assert_allclose(after, np.where(before < 0, 0.01 * before, before), rtol=1e-5)
    # Plain "leaky_relu" keeps Keras's 0.2.
    plain = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, activation="Leaky-ReLU")
    assert "leaky_relu" in [layer.get_config().get("activation") for layer in plain.layers]
    path = tmp_path / "leaky.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_layer(act.name).activation.negative_slope == 0.01
    np.testing.assert_allclose(loaded.predict(digits[0], verbose=0),
                               model.predict(digits[0], verbose=0), rtol=1e-6)


def test_leaky_slope_reaches_recurrent_cells_and_reloads(tmp_path):
    model = zoo.build("rnn.simple_rnn", input_shape=(5, 2), num_classes=2, task="binary",
                      activation="leaky_relu(negative_slope=0.05)")
    model.save(tmp_path / "rnn.keras")
    loaded = keras.saving.load_model(tmp_path / "rnn.keras", safe_mode=True)
    assert loaded.layers[1].cell.activation.negative_slope == 0.05
    x = np.random.default_rng(0).normal(size=(3, 5, 2))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# ## Convolution and pooling knobs (seed 000: stride, padding, pooling kind and size)

def _maps(model, kind):
    return [tuple(layer.output.shape[1:-1]) for layer in model.layers
            if type(layer).__name__.startswith(kind)]


@pytest.mark.parametrize("options, convs, pools, pool_kind", [
    ({}, [(8, 8), (4, 4)], [(4, 4), (2, 2)], "MaxPooling2D"),
    ({"strides": 2}, [(4, 4), (1, 1)], [(2, 2)], "MaxPooling2D"),  # a 1x1 map is not pooled
    ({"padding": "valid"}, [(6, 6), (1, 1)], [(3, 3)], "MaxPooling2D"),
    ({"pooling": "average", "pool_size": 4}, [(8, 8), (2, 2)], [(2, 2), (1, 1)],
     "AveragePooling2D"),
])
def test_conv_knobs_shape_the_feature_maps_of_cnn_simple(options, convs, pools, pool_kind):
    model = zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10, **options)
    assert _maps(model, "Conv2D") == convs
    assert _maps(model, pool_kind) == pools
    other = "AveragePooling2D" if pool_kind == "MaxPooling2D" else "MaxPooling2D"
    assert _maps(model, other) == []


def test_conv_knobs_of_vgg_and_fcn1d_and_a_training_run(digits):
    vgg = zoo.build("cnn.vgg", input_shape=(8, 8, 1), num_classes=10, depth=1,
                    padding="valid", pooling="avg")
    assert _maps(vgg, "Conv2D") == [(6, 6), (4, 4)]
    assert _maps(vgg, "AveragePooling2D") == [(2, 2)]
    fcn = zoo.build("cnn.fcn1d", input_shape=(40, 1), num_classes=3, strides=2, pooling="max")
    assert [layer.output.shape[1] for layer in fcn.layers
            if isinstance(layer, keras.layers.Conv1D)] == [20, 10, 5]
    assert isinstance(fcn.layers[-2], keras.layers.GlobalMaxPooling1D)
    model = zoo.compile_model(zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=10,
                                        strides=2, pooling="average", padding="valid",
                                        kernel_size=2, depth=1), learning_rate=1e-2)
    history = model.fit(*digits, epochs=10, verbose=0).history
    assert np.isfinite(history["loss"]).all() and history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize("name, options, message", [
    ("cnn.simple", {"padding": "valid", "depth": 3},
     r"`padding`='valid'.*shrinks from \(1, 1\) to \(0, 0\) at block 3's convolution 1 "
     r"\(kernel 3, stride 1\).*Use padding='same', a smaller `depth`, `kernel_size`, "
     r"`strides`, `pool_size`"),
    ("cnn.vgg", {"padding": "valid", "pool_size": 3, "depth": 2},
     r"from \(1, 1\) to \(0, 0\) at block 2's convolution 1"),
    ("cnn.simple", {"padding": "valid", "pool_size": 7, "depth": 1},
     r"from \(6, 6\) to \(0, 0\) at block 1's pooling \(window 7\)"),
    ("cnn.fcn1d", {"padding": "valid", "strides": 2},
     r"from \(3,\) to \(0,\) at block 2's convolution 1 \(kernel 5, stride 2\).*"
     r"a smaller `depth`, `strides`, or"),
])
def test_conv_knobs_that_shrink_the_map_to_nothing_are_refused_before_building(
        name, options, message):
    shape = (12, 1) if name == "cnn.fcn1d" else (8, 8, 1)
    keras.backend.clear_session()
    with pytest.raises(ValueError, match=message):
        zoo.build(name, input_shape=shape, num_classes=3, **options)
    # No convolution was created: the next one gets the first name.
    conv = keras.layers.Conv1D if name == "cnn.fcn1d" else keras.layers.Conv2D
    assert conv(1, 1).name in ("conv1d", "conv2d")


@pytest.mark.parametrize("options, error, message", [
    ({"padding": "full"}, ValueError, r"`padding` must be one of \['same', 'valid'\]"),
    ({"pooling": "min"}, ValueError, r"`pooling` must be one of \['average', 'avg', 'max'\]"),
    ({"pool_size": 0}, ValueError, r"`pool_size` must be an integer >= 1"),
    ({"strides": 1.5}, TypeError, r"`strides` must be an integer"),
])
def test_bad_conv_knob_values_are_refused(options, error, message):
    with pytest.raises(error, match=message):
        zoo.build("cnn.simple", input_shape=(8, 8, 1), num_classes=3, **options)
