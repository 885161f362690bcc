"""Options reach the layers, and every bad input is refused with a clear message."""

import keras
import pytest

import zoo
from zoo.models import options
from zoo.models.options import ACTIVATIONS, INITIALIZER_ALIASES, INITIALIZERS


def _mlp(**options):
    return zoo.build("mlp.baseline", input_shape=(4,), num_classes=3, depth=1, width=4,
                     **options)


def test_every_activation_builds():
    cases = [(a, a) for a in ACTIVATIONS] + [("swish", "silu"), ("Leaky-ReLU", "leaky_relu")]
    for given, expected in cases:
        model = _mlp(activation=given)
        names = [layer.get_config().get("activation") for layer in model.layers]
        assert expected in names, (given, names)


def test_initializers_and_aliases():
    cases = ([(name, name) for name in INITIALIZERS] + sorted(INITIALIZER_ALIASES.items())
             + [("Kaiming-Uniform", "he_uniform")])
    for given, expected in cases:
        dense = _mlp(kernel_initializer=given).layers[1]
        assert isinstance(dense, keras.layers.Dense)
        expected_class = type(keras.initializers.get(expected))
        assert type(dense.kernel_initializer) is expected_class, (given, dense.kernel_initializer)


def test_l1_l2_and_batch_norm_reach_the_layers():
    model = _mlp(l1=0.01, l2=0.02, batch_norm=True, dropout=0.5)
    dense = model.layers[1]
    assert (float(dense.kernel_regularizer.l1), float(dense.kernel_regularizer.l2)) == (
        pytest.approx(0.01), pytest.approx(0.02))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[1:5] == ["Dense", "BatchNormalization", "Activation", "Dropout"]
    assert model.layers[-1].kernel_regularizer is not None  # the head too


BAD_BUILDS = [
    # (name, build kwargs, error type, message pattern)
    ("cnn.resnt", {"input_shape": (8, 8, 1), "num_classes": 3}, ValueError,
     r"`name` must be one of \[.*'cnn.resnet'.*\]; got 'cnn.resnt'. Did you mean 'cnn.resnet'"),
    ("cnn.simple", {"input_shape": (8,), "num_classes": 3}, ValueError,
     r"`input_shape`=\(8,\) does not fit 'cnn.simple': image input must be \(H, W\) or "
     r"\(H, W, C\)"),
    ("rnn.lstm", {"input_shape": (4, 4, 4), "num_classes": 3}, ValueError,
     r"sequence input must be \(T,\) or \(T, F\)"),
    ("rnn.lstm_tokens", {"input_shape": (5, 2), "num_classes": 3, "vocab_size": 9}, ValueError,
     r"tokens input must be \(T,\)"),
    ("cnn.simple", {"num_classes": 3}, ValueError, r"`input_shape` is required.*\(8, 8, 1\)"),
    ("cnn.simple", {"input_shape": (8, 0, 1), "num_classes": 3}, ValueError,
     r"`input_shape`=\(8, 0, 1\) must hold positive ints; axis 1 is 0"),
    ("cnn.simple", {"input_shape": (None, 8, 1), "num_classes": 3}, ValueError,
     r"must hold positive ints; axis 0 is None"),
    ("mlp.baseline", {"input_shape": "four", "num_classes": 3}, TypeError,
     r"`input_shape` must be a tuple of ints, \(F,\) or any higher rank; got 'four'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 0}, ValueError,
     r"`num_classes` must be an integer >= 2; got 0"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": -1, "task": "regression"},
     ValueError, r"`num_classes` must be an integer >= 1; got -1"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 1}, ValueError,
     r"`num_classes` must be an integer >= 2; got 1"),
    ("mlp.baseline", {"input_shape": (4,)}, ValueError,
     r"`num_classes` is required for task='multiclass'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "task": "binary"}, ValueError,
     r"`num_classes` must be 2 or 1 for task='binary'.*task='multiclass'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3.0}, TypeError,
     r"`num_classes` must be an integer"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "task": "classification"},
     ValueError, r"`task` must be one of \['binary', 'multiclass', 'multilabel', 'regression'\]; "
     r"got 'classification'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "dropout": 1.0}, ValueError,
     r"`dropout` must be a number >= 0.0 and < 1.0; got 1.0"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "dropout": -0.1}, ValueError,
     r"`dropout` must be a number >= 0.0 and < 1.0; got -0.1"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "activation": "relux"},
     ValueError, r"`activation` must be one of \[.*\]; got 'relux'. Did you mean 'relu'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "kernel_initializer": "kaiming"},
     ValueError, r"`kernel_initializer` must be one of .*'xavier_uniform'.*; got 'kaiming'. "
     r"Did you mean .*'kaiming_normal'"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "l2": -1e-4}, ValueError,
     r"`l2` must be a finite number >= 0; got -0.0001"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "depth": 0}, ValueError,
     r"`depth` must be an integer >= 1; got 0"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "width": 2.5}, TypeError,
     r"`width` must be an integer >= 1; got 2.5"),
    ("mlp.baseline", {"input_shape": (4,), "num_classes": 3, "batch_norm": "yes"}, TypeError,
     r"`batch_norm` must be True or False"),
    ("rnn.lstm", {"input_shape": (5, 2), "num_classes": 3, "units": 8}, TypeError,
     r"Unknown option\(s\) \['units'\] for model 'rnn.lstm'. `units`: did you mean 'width'"),
    ("rnn.lstm", {"input_shape": (5, 2), "num_classes": 3, "batch_norm": True}, TypeError,
     r"Unknown option\(s\) \['batch_norm'\].*Allowed options: \['activation', "),
    ("rnn.gru_tokens", {"input_shape": (5,), "num_classes": 3}, ValueError,
     r"Model 'rnn.gru_tokens' needs the option `vocab_size`"),
    ("transformer.text", {"input_shape": (None,), "num_classes": 3, "vocab_size": 9},
     ValueError, r"`max_len` is required when the time axis of `input_shape` is None"),
    ("transformer.text", {"input_shape": (12,), "num_classes": 3, "vocab_size": 9,
                          "max_len": 8}, ValueError, r"`max_len`=8 is shorter than the input"),
    ("transformer.timeseries", {"input_shape": (6, 2), "num_classes": 3, "width": 10,
                                "num_heads": 4}, ValueError,
     r"`width`=10 must be divisible by `num_heads`=4"),
    ("transformer.vit", {"input_shape": (8, 8, 1), "num_classes": 3, "patch_size": 3},
     ValueError, r"`patch_size`=3 must divide the image size 8x8; allowed: \[1, 2, 4, 8\]"),
]


@pytest.mark.parametrize("name, kwargs, error, pattern", BAD_BUILDS)
def test_bad_build_arguments(name, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        zoo.build(name, **kwargs)


def test_registry_queries_reject_unknowns():
    with pytest.raises(ValueError, match=r"`input_kind` must be one of .*; got 'images'. Did you mean 'image'"):
        zoo.list_models(input_kind="images")
    with pytest.raises(ValueError, match=r"`family` must be one of \['cnn', .*; got 'cnns'"):
        zoo.list_models(family="cnns")
    with pytest.raises(ValueError, match=r"`name` must be one of \[.*'rnn.lstm'.*\]; got 'lstm'. Did you mean"):
        zoo.describe("lstm")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register("cnn.simple", input_kind="image", description="")(lambda x: x)
    with pytest.raises(ValueError, match="must look like 'family.variant'"):
        zoo.register("simple", input_kind="image", description="")


def test_every_option_is_described_once():
    assert set(options.DOCS) == set(options.VALIDATORS)


def test_compile_model_reads_the_task_by_default():
    for task in ("auto", None):  # None: the old default, same meaning
        model = zoo.compile_model(zoo.build("mlp.baseline", input_shape=(3,), task="binary"),
                                  task=task)
        assert isinstance(model.loss, keras.losses.BinaryCrossentropy)
    with pytest.raises(ValueError, match="`task`") as error:
        zoo.compile_model(model, task="multi")
    assert "'multi'" in str(error.value) and "'auto'" in str(error.value)


def test_compile_model_rejects_bad_arguments():
    model = _mlp()
    with pytest.raises(ValueError, match=r"`optimizer` must be one of .*; got 'adamm'. Did you mean 'adam'"):
        zoo.compile_model(model, optimizer="adamm")
    with pytest.raises(ValueError, match=r"`learning_rate` must be a finite number > 0; got -0.1"):
        zoo.compile_model(model, learning_rate=-0.1)
    with pytest.raises(ValueError, match="only apply when `optimizer` is a name"):
        zoo.compile_model(model, optimizer=keras.optimizers.SGD(), learning_rate=0.1)
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        zoo.compile_model("cnn.simple")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"Cannot tell the task.*pass `task`, one of"):
        zoo.compile_model(plain)
    assert zoo.compile_model(plain, task="regression").loss.__class__.__name__ == (
        "MeanSquaredError")
