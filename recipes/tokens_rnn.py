"""Text classification: a bidirectional LSTM over token ids, on the token task or your own texts.

The recurrent counterpart of ``tokens_transformer``: by default the same
synthetic task (the label is the marker that comes first, so word order
matters), and with ``--data TEXTS/`` a folder of your own ``.txt`` files,
one subfolder per class. An embedding turns token ids into vectors, an LSTM
reads them in both directions and skips the padding (id 0). Everything is
decided on the validation split; the test split is used once.

    python -m recipes run tokens_rnn [--quick] [--log-dir DIR] [--seed N] [--epochs N]
                                     [--data TEXTS/]
"""

import keras

import callbacks
import zoo
from recipes.common import parse_args, print_outputs, save_model, start, user_data
from zoo.data import load_dataset
from zoo.evaluation import evaluate

args = parse_args(__doc__, epochs=30)
dirs = start(args)

# ## Data
# 2,000 sequences (300 with `--quick`) split 70/15/15, stratified by label.
# `--data TEXTS/`: a TextVectorization vocabulary adapted on the training
# split turns each text into token ids (README "Your data").
data = user_data(args, kinds=("text",)) or load_dataset(
    "tokens", seed=args.seed, num_samples=300 if args.quick else 2000)
print(data)
dirs.check_data(data)  # a resumed run must see the same splits

# ## Model
# Embedding (id 0 masked) -> bidirectional LSTM -> softmax. Adam with
# `global_clipnorm`, as usual for recurrent nets.
model = zoo.build("rnn.lstm_tokens", input_shape=data.input_shape, task=data.task,
                  num_classes=data.num_classes, vocab_size=data.vocab_size,
                  width=32, bidirectional=True, dropout=0.1)
zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=3e-3,
                  global_clipnorm=1.0)
model.summary()

# ## Training
# scikit-learn's macro F1 on the validation split every epoch; early
# stopping keeps the best epoch's weights.
tensorboard = str(dirs.tensorboard)
backup = callbacks.BackupAndRestore(str(dirs.backup))  # rerun a killed run: it resumes
watch = [
    callbacks.SklearnMetrics(data.val, task=data.task, log_dir=tensorboard),
    callbacks.GradientNormMonitor(log_dir=tensorboard, on_exploding="stop"),
    keras.callbacks.TensorBoard(log_dir=tensorboard, write_graph=False),
    backup,
    callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=8,
                            restore_best_weights=True),
]
model.fit(**data.fit_args(32), epochs=args.epochs, callbacks=watch, verbose=2)

# ## Evaluation
# One look at the test split, scored by scikit-learn.
report = evaluate(model, **data.evaluate_args(), log_dir=dirs.report,
                  history=backup.history, class_names=data.class_names)
print(report)
# With --data the saved model takes strings: the vocabulary is inside it.
save_model(data.end_to_end(model), dirs.model)
print_outputs(dirs)
