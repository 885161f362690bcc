"""Center loss: softmax alone vs softmax plus a pull toward class centres, on 2-D digit features.

Softmax cross-entropy separates the classes but leaves each class spread
out; center loss (Wen et al., 2016) adds `λ · ½ · ‖x_i − c_{y_i}‖²` on a
feature layer and moves each class centre `c_j` toward its samples at rate
α. A CNN with a 2-unit feature layer before its softmax head is trained
both ways from the same weights; the scatter PNG shows the 2-D test
features per class (centres marked), the table the intra-class spread,
its ratio to the spread between class means, and the test accuracy.

    python -m recipes run center_loss [--quick] [--log-dir DIR] [--seed N] [--epochs N]
"""

import keras
import numpy as np
from matplotlib.figure import Figure

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, start
from recipes.compare import EpochTimer, Study, subset
from zoo.core.files import save_figure
from zoo.data import load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=40)
dirs = start(args)

# ## Data
# The 8x8 digits; the test split is only used for the features and the
# accuracy of each variant (nothing is chosen on it).
data = load_dataset("digits", seed=args.seed)
if args.quick:
    data = subset(data, train=256, val=64, test=128)
print(data)

# ## The variants
# λ weighs the center loss against the cross-entropy; α moves the centres
# (0.5, as in the paper). λ = 0 trains on the cross-entropy alone, through
# the very same training model, so only the loss differs.
VARIANTS = {"softmax": 0.0, "center_loss": 0.1}
ALPHA = 0.5


# ## Model
# `zoo.build`'s CNN computes the features; a 2-unit layer named "embedding"
# squeezes them to a plane we can draw, and a softmax head classifies them.
def make_classifier():
    body = zoo.build("cnn.simple", input_shape=data.input_shape,
                     num_classes=data.num_classes)
    embedding = keras.layers.Dense(2, name="embedding")(body.layers[-1].input)
    head = keras.layers.Dense(data.num_classes, activation="softmax",
                              name="head_multiclass")(embedding)
    return keras.Model(body.input, head, name="cnn_2d")


def spread(features, labels):
    """Mean squared distance of a sample to its class mean (within), and of
    the class means to their mean (between)."""
    classes = np.unique(labels)
    means = np.stack([features[labels == k].mean(axis=0) for k in classes])
    centred = features - means[np.searchsorted(classes, labels)]
    within = float(np.mean(np.sum(centred**2, axis=1)))
    between = float(np.mean(np.sum((means - means.mean(axis=0))**2, axis=1)))
    return within, between


# ## Training
# `with_center_loss` returns a training model that shares the classifier's
# layers and takes the labels as a second input (the CenterLoss layer needs
# them); the classifier itself stays label-free and is what we evaluate.
# Validation runs in inference mode, so `val_loss` is the cross-entropy
# alone, while the training `loss` includes the center term.
study = Study(dirs, monitor="val_accuracy", mode="max", seed=args.seed)
features, centres = {}, {}
for name, weight in VARIANTS.items():
    study.start(name)  # clears the Keras session and reseeds: same weights, same order
    classifier = make_classifier()
    train = zoo.compile_model(
        zoo.models.with_center_loss(classifier, feature_layer="embedding", weight=weight,
                                    alpha=ALPHA),
        optimizer="adam", learning_rate=2e-3)
    timer, backup = EpochTimer(), callbacks.BackupAndRestore(str(dirs.backup / name))
    val = ([data.x_val, data.y_val], data.y_val)
    train.fit([data.x_train, data.y_train], data.y_train, validation_data=val,
              epochs=args.epochs, batch_size=32, verbose=0, callbacks=[
                  timer,  # wall seconds per epoch, for the table
                  keras.callbacks.TensorBoard(study.log_dir(name), write_graph=False),
                  backup,  # a killed study, rerun, resumes this variant
              ])
    run = study.record(name, train, backup.history, timer, validation_data=val)
    # The 2-D features of the test digits, from the trained classifier.
    embed = keras.Model(classifier.input, classifier.get_layer("embedding").output)
    features[name] = embed.predict(data.x_test, verbose=0)
    centres[name] = keras.ops.convert_to_numpy(train.get_layer("center_loss").centers)
    within, between = spread(features[name], data.y_test)
    report = evaluate(classifier, data.x_test, data.y_test, class_names=data.class_names)
    run.row.update(weight=weight, alpha=ALPHA, intra_class_spread=within,
                   between_class_spread=between, spread_ratio=within / between,
                   test_accuracy=report["accuracy"])

# ## Comparison
# One panel per variant: each test digit at its 2-D feature, coloured by
# class, and the class centres the layer learned (black crosses). Softmax
# alone gives long radial arms; with center loss each class is a tight blob.
# The centres average the training-mode features (dropout on, batch
# statistics), so they sit near the test clusters, not always on them.
figure = Figure(figsize=(11, 5), layout="constrained")
for ax, name in zip(figure.subplots(1, len(VARIANTS)), VARIANTS):
    points = ax.scatter(*features[name].T, c=data.y_test, cmap="tab10", s=8, vmin=-0.5,
                        vmax=data.num_classes - 0.5)
    ax.scatter(*centres[name].T, c="black", marker="x", s=60, label="class centres")
    ax.set(title=f"{name} (λ = {VARIANTS[name]})", xlabel="feature 1", ylabel="feature 2")
    ax.legend(loc="upper right", fontsize="small")
figure.colorbar(points, ax=figure.axes, ticks=range(data.num_classes), label="digit")
save_figure(figure, dirs.report / "center_loss_features.png", dpi=90)
study.plot(dirs.report / "curves.png", keys=("loss", "val_loss", "val_accuracy"),
           title="Softmax vs softmax + center loss (CNN with 2-D features)")
study.save(dirs.report)
print_outputs(dirs)
