"""A model's parameter count, known before any weight is allocated.

Keras allocates every weight as soon as a layer is built, so a
`num_classes=10**9` head or a VGG whose filters double block after block
ends in an out-of-memory error deep inside TensorFlow (or, below that, in a
model of hundreds of millions of parameters nobody asked for).
`count_before_building` builds the model once with Keras's deferred
variables (`keras.StatelessScope`: shapes only, nothing allocated) and
counts; `zoo.build` refuses a model above `MAX_PARAMS` with the options
that make it large, before building it for real.
"""

import contextlib
import copy
import random

import numpy as np

MAX_PARAMS = 100_000_000


@contextlib.contextmanager
def _no_trace():
    """Layers made inside allocate nothing and leave no trace: the pending
    variables, the automatic layer names and the random state are restored,
    so the real build afterwards is the one a plain build would have made."""
    import keras
    from keras.src.backend.common import global_state  # Keras keeps these here

    names = copy.deepcopy(global_state.get_global_attribute("object_name_uids"))
    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    states = random.getstate(), np.random.get_state()
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
        global_state.set_global_attribute("object_name_uids", names)
        random.setstate(states[0])
        np.random.set_state(states[1])


def count_before_building(make):
    """The number of weights `make()` creates, without allocating them.

    Args:
        make: a function building and returning a Keras model (or layer).

    Returns:
        The total number of scalars in its weights.

    Example:

    >>> import keras
    >>> count_before_building(lambda: keras.Sequential(
    ...     [keras.Input((10**6,)), keras.layers.Dense(10**6)]))
    1000001000000
    """
    with _no_trace():
        model = make()
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in model.weights))
