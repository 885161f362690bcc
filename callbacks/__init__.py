"""Training callbacks that watch, stop and steer ``model.fit``.

Each is a plain ``keras.callbacks.Callback`` (or Keras learning-rate
schedule) that works with any Keras model and writes to TensorBoard.
"""
