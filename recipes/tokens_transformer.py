"""Text classification: a small Transformer on a synthetic task that needs word order.

Each sequence holds four marker tokens among random filler words, padded
with 0 to 24 tokens; the label is the marker that comes first. Every sequence
contains the same markers, so counting words (a bag-of-words model) is at
chance, 25%: only a model that reads positions solves it. The data are
generated locally (``zoo.data.make_order_task``), no download. Everything is
decided on the validation split; the test split is used once.

    python -m recipes run tokens_transformer [--quick] [--log-dir DIR] [--seed N] [--epochs N]
                                             [--data TEXTS/]
"""

import math

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, save_model, start, user_data
from zoo.data import first_marker, load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=60)
dirs = start(args)

# ## Data
# 2,000 sequences (300 with `--quick`) split 70/15/15, stratified by label.
# Token ids run from 0 (padding) to 19; ids 1-4 are the markers.
# `--data TEXTS/` reads your own folder of .txt files instead, one subfolder
# per class: a TextVectorization vocabulary from the training split turns
# each text into token ids (0 pads, 1 is an unknown word; README "Your data").
data = user_data(args, kinds=("text",)) or load_dataset(
    "tokens", seed=args.seed, num_samples=300 if args.quick else 2000)
print(data)
dirs.check_data(data)  # a resumed run must see the same splits
print("first sequence:", data.x_train[0], "label:", data.class_names[data.y_train[0]])
# The rule behind the labels, applied by hand: a perfect score is possible.
assert args.data or (first_marker(data.x_train) == data.y_train).all()

# ## Model
# Token and position embeddings, then self-attention blocks. Padding (id 0)
# is masked: attention ignores it and the final average pools over real
# tokens only, so the same sentence gets the same prediction whatever its
# padding.
model = zoo.build("transformer.text", input_shape=data.input_shape, task=data.task,
                  num_classes=data.num_classes, vocab_size=data.vocab_size,
                  depth=2, width=64, num_heads=4, dropout=0.1)

# AdamW with a linear warmup then a cosine decay: attention layers train
# poorly with a large learning rate from the first step.
batch_size = 32
steps = args.epochs * math.ceil(len(data.x_train) / batch_size)
learning_rate = keras.optimizers.schedules.CosineDecay(
    1e-4, decay_steps=steps, warmup_target=1e-3, warmup_steps=steps // 10, alpha=0.01)
zoo.compile_model(model, task=data.task, optimizer="adamw", learning_rate=learning_rate,
                  weight_decay=1e-2)
model.summary()

# ## Training
# The cosine schedule fixes the budget, so early stopping only judges its
# second half, where the learning rate is low and the weights settle: it
# keeps the weights of the best epoch there by scikit-learn's macro F1 on the
# validation split, and ends the run if a quarter of it brings no gain.
tensorboard = str(dirs.tensorboard)
# The backup's `history` has every epoch's logs, those before a resume too.
backup = callbacks.BackupAndRestore(str(dirs.backup))
watch = [
    # scikit-learn's scores as `val_f1`, ... in the logs, and in TensorBoard.
    callbacks.SklearnMetrics(data.val, task=data.task, log_dir=tensorboard),
    # The rate at each epoch's start, in the history (the report's curves) and
    # as the one learning-rate chart (Keras's TensorBoard then leaves out its own).
    callbacks.LearningRateLogger(log_dir=tensorboard),
    # Per-layer gradient norms; a NaN/Inf step is not applied and ends training.
    callbacks.GradientNormMonitor(log_dir=tensorboard, on_exploding="stop"),
    # Keras's curves; no graph: its Graph dashboard fails on Keras 3 models.
    keras.callbacks.TensorBoard(log_dir=tensorboard, write_graph=False),
    # A backup every epoch: rerun a killed run and it resumes where it was.
    backup,
    # Judges the second half only; puts back the best epoch's weights.
    callbacks.EarlyStopping(monitor="val_f1", mode="max", restore_best_weights=True,
                            start_from_epoch=args.epochs // 2, patience=args.epochs // 4),
]
model.fit(**data.fit_args(batch_size), epochs=args.epochs, callbacks=watch, verbose=2)

# ## Evaluation
# One look at the test split, scored by scikit-learn.
report = evaluate(model, **data.evaluate_args(), log_dir=dirs.report,
                  history=backup.history, class_names=data.class_names)
print(report)
# With --data the saved model takes strings: the vocabulary is inside it.
save_model(data.end_to_end(model), dirs.model)
print_outputs(dirs)
