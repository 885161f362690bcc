"""Center loss (Wen et al., 2016): pull each sample's features toward the
centre of its class, alongside the softmax cross-entropy."""

import keras
from keras import ops

from zoo.core.checks import check_float, check_int, check_str


@keras.saving.register_keras_serializable(package="zoo")
class CenterLoss(keras.layers.Layer):
    """Adds the center loss of a feature tensor and moves the class centres.

    Softmax cross-entropy separates the classes; center loss (Wen et al.,
    "A Discriminative Feature Learning Approach for Deep Face Recognition",
    ECCV 2016) also makes each class compact. On a batch of features `x_i`
    with labels `y_i` it adds

        weight * 1/2 * mean_i ||x_i - c_{y_i}||^2

    to the model's loss (`add_loss`; the mean over the batch, as in the
    authors' code, so `weight` is their λ whatever the batch size), then
    moves every centre `c_j` present in the batch toward its samples:

        c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)

    with `n_j` the batch's samples of class `j`. The centres are a
    non-trainable weight (zeros at first) updated by this rule, not by the
    optimizer, and saved with the model. Keras has no center loss;
    `with_center_loss` puts this layer into any classifier.

    Takes `[features, labels]`, features of shape `(batch, dim)` and labels
    as integer class ids `(batch,)` / `(batch, 1)` or one-hot rows
    `(batch, num_classes)`, and returns `features` unchanged. Outside
    training (`training` false or unset) it adds no loss and moves nothing.

    Backends: written with `keras.ops`, `add_loss` and a variable
    `assign` in `call`, as `BatchNormalization` updates its statistics;
    tested on TensorFlow and JAX (the same losses and centres).

    Args:
        num_classes: number of classes (rows of the centre table).
        weight: λ, the weight of the center loss against the cross-entropy.
        alpha: α in [0, 1], how far a centre moves toward its batch
            samples per step (0: never).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> layer = CenterLoss(num_classes=3, weight=0.1)
    >>> features = keras.ops.ones((4, 2))
    >>> labels = keras.ops.convert_to_tensor([0, 1, 1, 2])
    >>> out = layer([features, labels], training=True)
    >>> round(float(layer.losses[0]), 4)  # 0.1 * 1/2 * ||(1, 1) - 0||^2
    0.1
    >>> keras.ops.convert_to_numpy(layer.centers)[1].tolist()  # 0.5 * 2 / 3
    [0.3333333432674408, 0.3333333432674408]
    """

    def __init__(self, num_classes, weight=0.01, alpha=0.5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        self.weight = check_float("weight", weight)
        self.alpha = check_float("alpha", alpha, 0.0, 1.0, include_high=True)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, weight=self.weight, alpha=self.alpha)
        return config

    def build(self, input_shape):
        features_shape = input_shape[0]
        if len(features_shape) != 2 or features_shape[-1] is None:
            raise ValueError(f"{self.name!r} needs features of shape (batch, dim); got "
                             f"{tuple(features_shape)}.")
        self.centers = self.add_weight(
            name="centers", shape=(self.num_classes, features_shape[-1]),
            initializer="zeros", trainable=False,
        )

    def call(self, inputs, training=None):
        features, labels = inputs
        if not training:
            return features
        if len(labels.shape) == 2 and labels.shape[-1] == self.num_classes:
            labels = ops.argmax(labels, axis=-1)
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        x = ops.cast(features, self.centers.dtype)
        centers = ops.convert_to_tensor(self.centers)
        distance = ops.sum(ops.square(x - ops.take(centers, labels, axis=0)), axis=-1)
        self.add_loss(self.weight * 0.5 * ops.mean(distance))
        # The update of Wen et al., Algorithm 1: no gradient reaches it.
        members = ops.one_hot(labels, self.num_classes, dtype=x.dtype)  # (batch, classes)
        counts = ops.expand_dims(ops.sum(members, axis=0), -1)
        sums = ops.matmul(ops.transpose(members), ops.stop_gradient(x))
        delta = (counts * centers - sums) / (1.0 + counts)
        self.centers.assign(centers - self.alpha * delta)
        return features

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def with_center_loss(model, feature_layer=None, weight=0.01, alpha=0.5):
    """A training model for `model` that adds the center loss on one layer.

    The returned model shares every layer (and weight) of `model`. It takes
    `[inputs, labels]` and outputs what `model` outputs; between the
    feature layer and the layers after it sits a `CenterLoss`, which reads
    the labels. Train it with the labels given twice,
    `train.fit([x, y], y)`; then use (and save) `model` itself, which needs
    no labels. Keras 3 has no hook that hands the labels to a layer, so the
    labels come in as a second input: the saved classifier stays plain.

    Args:
        model: a functional classifier with one input and one output (any
            `zoo.build` model with task `"multiclass"` or `"binary"`).
        feature_layer: the name of the layer whose output `(batch, dim)` is
            pulled together; every path to the output must pass through it.
            `None`: the input of the output layer (what a `zoo.build`
            builder hands its head).
        weight: λ, see `CenterLoss`.
        alpha: α, see `CenterLoss`.

    Returns:
        An uncompiled `keras.Model` `[inputs, labels] -> outputs`; compile it
        as `model` (`zoo.compile_model(train, task=...)`).

    Example:

    >>> import zoo, numpy as np
    >>> model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3)
    >>> train = zoo.compile_model(with_center_loss(model, weight=0.1))
    >>> x, y = np.random.rand(32, 4), np.arange(32) % 3
    >>> _ = train.fit([x, y], y, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape  # the classifier, trained
    (32, 3)
    """
    if not isinstance(model, keras.Model) or len(getattr(model, "inputs", None) or ()) != 1 \
            or len(model.outputs) != 1:
        raise TypeError("`model` must be a functional keras.Model with one input and one "
                        f"output; got {type(model).__name__}.")
    head = model.layers[-1]
    if feature_layer is None:
        features = head.input
    else:
        check_str("feature_layer", feature_layer, allow_empty=False, hint="naming a layer")
        names = [layer.name for layer in model.layers]
        if feature_layer not in names:
            raise ValueError(f"Unknown `feature_layer`={feature_layer!r}; the layers of "
                             f"{model.name!r} are {names}.")
        features = model.get_layer(feature_layer).output
    if not isinstance(features, keras.KerasTensor) or len(features.shape) != 2:
        raise ValueError(f"`feature_layer` must output one tensor (batch, dim); got "
                         f"{features!r}.")
    units = model.outputs[0].shape[-1]
    encoder = keras.Model(model.inputs, features, name=f"{model.name}_features")
    # The head itself stays the last layer, so `zoo.compile_model` and
    # `evaluate` still read the task from it; what lies between the
    # features and the head becomes one sub-model.
    middle = None
    if features is not head.input:
        try:
            middle = keras.Model(features, head.input, name=f"{model.name}_middle")
        except ValueError as error:
            raise ValueError(f"Cannot split {model.name!r} at `feature_layer`="
                             f"{feature_layer!r}: the layers after it also read tensors "
                             "from before it (e.g. a skip connection).") from error
    source = model.inputs[0]
    inputs = keras.Input(batch_shape=source.shape, dtype=source.dtype, name="inputs")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    pulled = CenterLoss(max(units, 2), weight=weight, alpha=alpha, name="center_loss")(
        [encoder(inputs), labels])
    outputs = head(pulled if middle is None else middle(pulled))
    return keras.Model([inputs, labels], outputs, name=f"{model.name}_center_loss")
