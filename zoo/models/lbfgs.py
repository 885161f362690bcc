"""Full-batch L-BFGS training of a compiled Keras model, through SciPy.

Keras's optimizers are all first-order: each step uses the gradient alone.
Second-order methods also use the curvature. Newton's method steps by
``H^-1 g`` (``H`` the Hessian): exact on a quadratic, and a saddle point's
negative curvature shows in ``H``, but ``H`` has ``n^2`` entries for ``n``
weights. Quasi-Newton methods build an estimate of ``H^-1`` from the
gradients already seen; L-BFGS (Liu and Nocedal, 1989) keeps only the last
few gradient and step differences, so its memory is ``O(n)``, and picks each
step's length by a line search instead of a learning rate. Conjugate
gradient, its older cousin, keeps one previous direction. Both need the
exact (full-batch) loss and gradient: minibatch noise breaks the line search
and the curvature estimate. That suits small models and data sets that fit
in memory.

``fit_lbfgs`` adds what ``scipy.optimize.minimize(method="L-BFGS-B")`` lacks
for a Keras model: the model's weights as one float64 vector, the compiled
loss (regularization losses included) and its gradient from a
``tf.GradientTape``, the weights set in place at the end, and a History-like
record per iteration. TensorFlow backend only.
"""

import numpy as np

from zoo.core.checks import check_int


def fit_lbfgs(model, x, y, *, max_iterations=100, history_size=10, gradient_tolerance=1e-7,
              validation_data=None, callbacks=None, verbose=0):
    """Train ``model`` in place with full-batch L-BFGS; return its ``History``.

    The loss is ``model.compute_loss`` (the compiled loss plus the layers'
    regularization losses) on all of ``x`` and ``y`` at once, evaluated in
    inference mode (``training=False``: dropout off, batch normalization on
    its moving statistics) so that the function L-BFGS minimizes is
    deterministic, which its line search needs. The optimizer given to
    ``compile`` is not used. Non-trainable weights are left as they are.

    Each iteration counts as one epoch for Keras callbacks: they get
    ``on_epoch_begin`` and ``on_epoch_end`` with its logs, so a History,
    ``TensorBoard``, a timer or ``EarlyStopping`` (``model.stop_training``
    ends the run) work as with ``fit``.

    TensorFlow backend only: on another Keras backend it raises a
    ``RuntimeError`` before touching the model.

    Args:
        model: a compiled, built ``keras.Model`` (e.g. from ``zoo.build``).
        x: the inputs, all of which make one batch.
        y: the targets.
        max_iterations: L-BFGS iterations (each takes one or a few
            evaluations of the loss and gradient, found by the line search).
        history_size: gradient and step differences kept to estimate the
            curvature (SciPy's ``maxcor``).
        gradient_tolerance: stop once the largest gradient entry is below
            this (SciPy's ``gtol``).
        validation_data: optional ``(x_val, y_val)``, scored with
            ``model.evaluate`` after every iteration (``val_*`` logs).
        callbacks: Keras callbacks, called once per iteration.
        verbose: 1 prints one line per iteration.

    Returns:
        A ``keras.callbacks.History``, as ``fit`` returns: ``.history`` holds
        one value per iteration of ``loss``, ``evaluations`` (evaluations of
        the loss and gradient so far: the cost in full-batch passes) and the
        ``val_*`` scores; ``.params["message"]`` is SciPy's reason to stop.

    Example:

    >>> import numpy as np, keras, zoo
    >>> from zoo.models.lbfgs import fit_lbfgs
    >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    >>> y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model = zoo.compile_model(model, task="binary")
    >>> history = fit_lbfgs(model, x, y, max_iterations=20)
    >>> bool(history.history["loss"][-1] < 0.1), len(history.epoch) <= 20
    (True, True)
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "fit_lbfgs needs the TensorFlow backend (it takes gradients with "
            f"tf.GradientTape); KERAS_BACKEND is {keras.backend.backend()!r}. Run it "
            "with KERAS_BACKEND=tensorflow, or train with `fit` on this backend.")
    import tensorflow as tf
    from scipy.optimize import minimize

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; got {type(model).__name__}.")
    if not getattr(model, "compiled", False) or model.loss is None:
        raise ValueError("fit_lbfgs needs a compiled model with a loss: call "
                         "zoo.compile_model(model) or model.compile(loss=...) first.")
    if not model.built:
        raise ValueError("`model` must be built (give it an Input) before fit_lbfgs.")
    max_iterations = check_int("max_iterations", max_iterations, 1)
    history_size = check_int("history_size", history_size, 1)
    if not gradient_tolerance > 0:
        raise ValueError(f"`gradient_tolerance` must be > 0; got {gradient_tolerance!r}.")
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have the same length; got {len(x)} and {len(y)}.")
    if verbose not in (0, 1):
        raise ValueError(f"`verbose` must be 0 or 1; got {verbose!r}.")

    variables = model.trainable_variables
    shapes = [tuple(v.shape) for v in variables]
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)

    @tf.function
    def loss_and_gradient():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)
        gradients = tape.gradient(loss, variables)
        gradients = [tf.zeros_like(v) if g is None else g for v, g in zip(variables, gradients)]
        return loss, tf.concat([tf.reshape(g, [-1]) for g in gradients], axis=0)

    def assign(flat):
        for variable, part, shape in zip(variables, np.split(flat, splits), shapes):
            variable.assign(part.reshape(shape).astype(variable.dtype))

    state = {"evaluations": 0, "last": (None, None), "iteration": 0}

    def objective(flat):
        assign(flat)
        loss, gradient = loss_and_gradient()
        state["evaluations"] += 1
        state["last"] = (flat.copy(), float(loss))
        return float(loss), gradient.numpy().astype(np.float64)

    callback_list = keras.callbacks.CallbackList(
        callbacks, add_history=True, model=model, verbose=verbose, epochs=max_iterations, steps=1)

    def end_iteration(intermediate_result):
        # The loss at the accepted point: the line search evaluated it last.
        flat, loss = state["last"]
        if flat is None or not np.array_equal(flat, intermediate_result.x):
            loss = objective(intermediate_result.x)[0]
        else:
            assign(flat)
        logs = {"loss": loss, "evaluations": state["evaluations"]}
        if validation_data is not None:
            scores = model.evaluate(*validation_data, verbose=0, return_dict=True)
            logs.update({f"val_{k}": float(v) for k, v in scores.items()})
        iteration = state["iteration"]
        callback_list.on_epoch_end(iteration, logs)
        if verbose:
            print(f"L-BFGS iteration {iteration + 1}: " + "  ".join(
                f"{k} {v:.4g}" for k, v in logs.items()))
        if model.stop_training:
            raise StopIteration  # SciPy ends the run and returns this point
        state["iteration"] = iteration + 1
        if iteration + 1 < max_iterations:
            callback_list.on_epoch_begin(iteration + 1)

    model.stop_training = False
    callback_list.on_train_begin()
    callback_list.on_epoch_begin(0)
    start = np.concatenate([v.numpy().ravel() for v in variables]).astype(np.float64)
    result = minimize(objective, start, jac=True, method="L-BFGS-B", callback=end_iteration,
                      options={"maxiter": max_iterations, "maxcor": history_size,
                               "gtol": gradient_tolerance, "ftol": 1e-12})
    assign(result.x)  # the point SciPy returns, whatever the line search tried last
    callback_list.on_train_end()
    history = next(c for c in callback_list.callbacks
                   if isinstance(c, keras.callbacks.History))
    history.params["message"] = str(result.message)
    return history
