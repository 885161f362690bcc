"""``read_variable``: a variable's value as numpy, at the cost of one read."""

import numpy as np


def read_variable(variable):
    """The current value of a ``keras.Variable`` as a numpy array.

    ``np.asarray(variable)`` and ``variable.numpy()`` on TensorFlow run the
    read in a name scope and copy it with an ``Identity`` op: about 40 us a
    variable, twice the read itself. Callbacks that read variables every
    step (`GradientNormMonitor`'s alarm counter) or every epoch (every
    weight, for `BackupAndRestore`) call this instead: on TensorFlow one
    ``ReadVariableOp`` (``tf.Variable.value()``), elsewhere the value as it
    is (a JAX array).

    Example:

    >>> import keras
    >>> read_variable(keras.Variable([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    value = variable.value
    if hasattr(value, "read_value"):  # a tf.Variable
        value = value.value()
    return np.asarray(value)
