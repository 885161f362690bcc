"""Optimizer names map onto the right Keras classes and settings, and train."""

import keras
import numpy as np
import pytest

import zoo

EXPECTED = {
    # name: (Keras class, attributes the optimizer must hold)
    "sgd": (keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    "gd": (keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    "batch_gd": (keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    "full_batch_gd": (keras.optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    "momentum": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": False}),
    "nag": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    "nesterov": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (keras.optimizers.Adagrad, {}),
    "adadelta": (keras.optimizers.Adadelta, {}),
    "rmsprop": (keras.optimizers.RMSprop, {"momentum": 0.0}),
    "adam": (keras.optimizers.Adam, {}),
    "adamw": (keras.optimizers.AdamW, {}),
}


def test_every_name_is_listed():
    assert zoo.list_optimizers() == sorted(EXPECTED)


def test_each_name_gives_its_keras_optimizer_and_trains_a_step():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = np.arange(8) % 2
    model = zoo.build("mlp.baseline", input_shape=(3,), num_classes=2, task="binary",
                      depth=1, width=4)
    for name, (cls, attributes) in EXPECTED.items():
        optimizer = zoo.get_optimizer(name, learning_rate=0.05)
        assert type(optimizer) is cls, name
        assert float(optimizer.learning_rate) == pytest.approx(0.05)
        for attribute, value in attributes.items():
            assert getattr(optimizer, attribute) == value, (name, attribute)
        zoo.compile_model(model, optimizer=optimizer)
        # Eager keeps twelve compilations fast; `fit` still runs the optimizer.
        model.run_eagerly = True
        before = model.get_weights()
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights())), name


def test_hyperparameters_reach_keras():
    nag = zoo.get_optimizer("NAG", learning_rate=0.1, momentum=0.5, clipnorm=1.0)
    assert (nag.momentum, nag.nesterov, nag.clipnorm) == (0.5, True, 1.0)
    adamw = zoo.get_optimizer("adamw", weight_decay=0.01, global_clipnorm=2.0, beta_1=0.8)
    assert (adamw.weight_decay, adamw.global_clipnorm, adamw.beta_1) == (0.01, 2.0, 0.8)
    rms = zoo.get_optimizer("rmsprop", momentum=0.3, clipvalue=0.5, rho=0.8)
    assert (rms.momentum, rms.clipvalue, rms.rho) == (0.3, 0.5, 0.8)
    assert float(zoo.get_optimizer("sgd").learning_rate) == pytest.approx(0.01)  # Keras default
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert zoo.get_optimizer("adam", learning_rate=schedule).learning_rate is not None
    model = zoo.build("mlp.baseline", input_shape=(3,), num_classes=3, depth=1, width=4)
    zoo.compile_model(model, optimizer="momentum", learning_rate=0.2, momentum=0.7)
    assert (model.optimizer.momentum, float(model.optimizer.learning_rate)) == (
        0.7, pytest.approx(0.2))


def test_full_batch_size_is_the_number_of_samples():
    x = np.zeros((37, 4))
    assert zoo.full_batch_size(x) == 37
    assert zoo.full_batch_size({"a": x, "b": x}) == 37
    assert zoo.full_batch_size([x, x]) == 37
    with pytest.raises(ValueError, match="holds no samples"):
        zoo.full_batch_size(np.zeros((0, 4)))
    with pytest.raises(TypeError, match="`x` must be an array"):
        zoo.full_batch_size(3)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"name": "adamm"}, ValueError,
         r"`optimizer` must be one of \['adadelta', .*; got 'adamm'. Did you mean 'adam'"),
        ({"name": 3}, TypeError, r"`optimizer` must be a string, one of \['adadelta'"),
        ({"name": "sgd", "learning_rate": -0.01}, ValueError,
         r"`learning_rate` must be a finite number > 0; got -0.01"),
        ({"name": "sgd", "learning_rate": 0}, ValueError,
         r"`learning_rate` must be a finite number > 0; got 0"),
        ({"name": "momentum", "momentum": 1.0}, ValueError,
         r"`momentum` must be a number >= 0.0 and < 1.0; got 1.0"),
        ({"name": "nag", "momentum": -0.5}, ValueError,
         r"`momentum` must be a number >= 0.0 and < 1.0; got -0.5"),
        ({"name": "adam", "momentum": 0.9}, ValueError,
         r"`momentum` is not used by optimizer 'adam'; it applies to \['batch_gd', "
         r"'full_batch_gd', 'gd', 'momentum', 'nag', 'nesterov', 'rmsprop', 'sgd'\]"),
        ({"name": "adam", "weight_decay": -1}, ValueError, r"`weight_decay` must be a finite number >= 0; got -1"),
        ({"name": "adam", "clipnorm": 0}, ValueError, r"`clipnorm` must be a finite number > 0; got 0"),
        ({"name": "adam", "clipnorm": 1.0, "global_clipnorm": 1.0}, ValueError,
         r"Give at most one of \['clipnorm', 'clipvalue', 'global_clipnorm'\]"),
        ({"name": "sgd", "beta_1": 0.9}, TypeError,
         r"Unknown argument\(s\) \['beta_1'\] for optimizer 'sgd' \(keras.optimizers.SGD\). "
         r"Allowed: \["),
    ],
)
def test_bad_optimizer_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        zoo.get_optimizer(**kwargs)
