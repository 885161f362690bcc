"""Add a callback's scores to the logs of ``fit``'s own validation pass.

Keras 3's ``Model.fit`` (TensorFlow, JAX and torch backends alike) gets an
epoch's validation logs by calling ``self.evaluate(..., callbacks=<the
fit's CallbackList>, return_dict=True, _use_cached_eval_dataset=True)`` on
the model instance, prefixes the names it returns with ``val_``, and only
then calls the callbacks' ``on_epoch_end``. ``attach`` wraps that
instance's ``evaluate`` for the duration of a fit so that a scorer
(``callbacks.SklearnMetrics``) adds its own ``val_*`` scores to the dict
``evaluate`` returns: every callback of the fit, whatever its place in the
list (Keras's ``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``,
``EarlyStopping`` included), then finds them in the epoch logs.

Only that call is intercepted: one without ``_use_cached_eval_dataset``
(``model.evaluate`` called by the user, from a callback or anywhere else),
or whose ``callbacks`` are not a fit's list holding the scorer, passes
straight through. The wrapper lives on the model, not on the scorer, so a
deep copy of the scorer (keras-tuner copies callbacks per trial) carries
none of it. A scorer calls ``detach`` in ``on_train_end`` and when its own
hooks raise, and the wrapper removes itself when an exception goes through
it (the validation pass). A fit that raises elsewhere (in a training step,
in another callback) reaches none of these: its wrapper stays on the model,
passing every call through since that fit's list never calls it again,
until a later fit with a scorer on the model ends.
"""

import functools

_NAME = "evaluate"


def attach(scorer):
    """Start adding ``scorer``'s scores to ``scorer.model``'s validation logs.

    ``scorer`` is a callback inside ``fit`` with a method
    ``_add_validation_scores(val_logs, x, y)``, called with the dict that
    ``evaluate`` returned (names without the ``val_`` prefix) and the
    validation data ``fit`` passed to it.
    """
    model = scorer.model
    wrapper = _wrapper(model)
    if wrapper is None:
        wrapper = _wrap(model)
    # Keras runs one fit at a time on a model: registrations of another fit
    # were left by one that raised before its `on_train_end`.
    wrapper.scorers[:] = [s for s in wrapper.scorers
                          if s is not scorer and s.params is scorer.params]
    wrapper.scorers.append(scorer)


def detach(scorer):
    """Undo ``attach``; the last scorer out restores ``model.evaluate``."""
    model = scorer.model
    wrapper = _wrapper(model) if model is not None else None
    if wrapper is None:
        return
    wrapper.scorers[:] = [s for s in wrapper.scorers if s is not scorer]
    if not wrapper.scorers:
        _unwrap(model, wrapper)


def detach_on_error(hook):
    """Decorates a scorer's hook to ``detach`` when it raises."""

    @functools.wraps(hook)
    def run(scorer, *args, **kwargs):
        try:
            return hook(scorer, *args, **kwargs)
        except BaseException:
            detach(scorer)
            raise

    return run


def _wrapper(model):
    wrapper = model.__dict__.get(_NAME)
    return wrapper if getattr(wrapper, "scorers", None) is not None else None


def _wrap(model):
    # An `evaluate` another library set on the instance is kept under ours.
    previous = model.__dict__.get(_NAME)
    original = model.evaluate

    def evaluate(*args, **kwargs):
        in_fit = kwargs.get("_use_cached_eval_dataset", False)
        fit_callbacks = getattr(kwargs.get("callbacks"), "callbacks", ())
        try:
            logs = original(*args, **kwargs)
            if in_fit and isinstance(logs, dict):
                for scorer in list(evaluate.scorers):
                    if any(c is scorer for c in fit_callbacks):
                        scorer._add_validation_scores(
                            logs, kwargs.get("x"), kwargs.get("y"))
        except BaseException:
            _unwrap(model, evaluate)
            raise
        return logs

    evaluate.scorers = []
    evaluate.previous = previous
    setattr(model, _NAME, evaluate)
    return evaluate


def _unwrap(model, wrapper):
    wrapper.scorers.clear()
    if model.__dict__.get(_NAME) is not wrapper:
        return  # wrapped again on top of ours: leave that one in place
    if wrapper.previous is not None:
        setattr(model, _NAME, wrapper.previous)
    else:
        delattr(model, _NAME)
