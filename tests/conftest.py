import os

# Before TensorFlow is imported anywhere: quiet logs, CPU only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

import socket

import keras
import pytest


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Every test starts from the same seed and an empty Keras session."""
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)  # gc per test costs ~0.25 s


@pytest.fixture
def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
