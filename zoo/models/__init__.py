"""The model families; importing this package registers every builder."""

from zoo.models import cnn, mlp, rnn, transformer  # noqa: F401
