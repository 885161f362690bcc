"""The optimizer's knobs in a `ZooHyperModel` search: learning rate, momentum, weight decay.

A knob reaches `zoo.get_optimizer` only in the trials whose optimizer takes
it: `momentum` is used by the SGD family (`sgd`, `momentum`, `nag`...) and
`rmsprop`; `weight_decay` by every Keras optimizer. When `optimizer` is
tuned over a mix, the knob is a keras-tuner conditional hyperparameter,
active only for the optimizers that use it (so the trials of the others do
not spend the search on a value that changes nothing). A knob that no
optimizer of the search takes is refused when the hypermodel is made.

The learning rate's useful range depends on the update rule: Adadelta's
rule works near 1.0 (Keras's default for it is 0.001, which barely moves
the weights), while Adam and SGD work around 1e-3 to 1e-1. So the default
`learning_rate` range is per optimizer (`LEARNING_RATE_RANGES`, and
`DEFAULT_LEARNING_RATE` for the rest). When a search mixes optimizers of
different ranges, each range is its own conditional hyperparameter: the
largest group keeps the name `learning_rate`, the others are named
`learning_rate_<optimizer>` (e.g. `learning_rate_adadelta`). A range given
in `space` applies to every optimizer as given; a dict
`{optimizer: range}` sets ranges per optimizer, the others keeping their
default (so `{}` asks for the default ranges when `defaults=False`).
"""

from zoo.core.checks import check_choice
from zoo.models.optimizers import list_optimizers, optimizer_takes

KNOBS = ("learning_rate", "momentum", "weight_decay")
DEFAULT_LEARNING_RATE = (1e-4, 1e-1, "log")
LEARNING_RATE_RANGES = {"adadelta": (1e-2, 10.0, "log")}


def learning_rate_range(optimizer):
    """The default learning-rate range searched for `optimizer`.

    Example:

    >>> learning_rate_range("adadelta"), learning_rate_range("adam")
    ((0.01, 10.0, 'log'), (0.0001, 0.1, 'log'))
    """
    return LEARNING_RATE_RANGES.get(optimizer, DEFAULT_LEARNING_RATE)


class OptimizerKnobs:
    """The knobs of one search and how each is declared (see the module doc).

    Args:
        specs: `{knob: spec}` of the tuned knobs (a learning-rate spec may
            be a dict `{optimizer: spec}`).
        given: the keys the user gave in `space`; a learning rate that is
            not among them gets the per-optimizer default ranges.
        fixed: the hypermodel's checked `fixed` values.
        optimizers: the optimizers the search may use.
        tuned: whether `optimizer` is tuned (conditions are on its value).
        make_dimension: `(key, spec) -> _Dimension` of `ZooHyperModel`.
    """

    def __init__(self, specs, given, fixed, optimizers, tuned, make_dimension):
        self.optimizers, self.tuned = list(optimizers), tuned
        self.fixed = {k: v for k, v in fixed.items() if k in KNOBS}
        self.dims = {}  # hyperparameter name -> (knob, dimension, condition or None)
        self._ranges = None  # {optimizer: spec} when the learning rate is split
        for knob in KNOBS:
            if knob in specs or knob in self.fixed:
                users = self._users(knob, "space" if knob in specs else "fixed")
            if knob == "learning_rate" and knob in specs:
                self._learning_rates(specs[knob], knob in given, make_dimension)
            elif knob in specs:
                self.dims[knob] = (knob, make_dimension(knob, specs[knob]),
                                   users if len(users) < len(self.optimizers) else None)

    def _users(self, knob, where):
        users = [o for o in self.optimizers if optimizer_takes(o, knob)]
        if not users:
            takers = [o for o in list_optimizers() if optimizer_takes(o, knob)]
            raise ValueError(
                f"`{where}[{knob!r}]`: {knob} is used by the optimizers {takers}; this "
                f"search's optimizer(s) {self.optimizers} take none. Tune `optimizer` over "
                f"some of {takers}, or fix one."
            )
        return users

    def _learning_rates(self, spec, given, make_dimension):
        if isinstance(spec, dict):
            ranges = {o: learning_rate_range(o) for o in self.optimizers}
            for name, value in spec.items():
                name = check_choice("space['learning_rate'] optimizer", name,
                                    self.optimizers)
                ranges[name] = value
        elif given:
            ranges = {o: spec for o in self.optimizers}
        else:
            ranges = {o: learning_rate_range(o) for o in self.optimizers}
        groups = {}  # normalized spec -> (dimension, optimizers)
        for optimizer, value in ranges.items():
            dim = make_dimension("learning_rate", value)
            key = repr(dim.to_spec())
            groups.setdefault(key, (dim, []))[1].append(optimizer)
        ordered = sorted(groups.values(), key=lambda g: -len(g[1]))
        if len(ordered) == 1:
            self.dims["learning_rate"] = ("learning_rate", ordered[0][0], None)
            return
        self._ranges = {o: dim.to_spec() for dim, group in ordered for o in group}
        for i, (dim, group) in enumerate(ordered):
            name = "learning_rate" if i == 0 else "learning_rate_" + "_".join(group)
            self.dims[name] = ("learning_rate", dim, group)

    @property
    def space(self):
        """`{knob: spec}`; a split learning rate shows as `{optimizer: spec}`."""
        out = {knob: dim.to_spec() for knob, dim, _ in self.dims.values()}
        if self._ranges is not None:
            out["learning_rate"] = dict(self._ranges)
        return out

    def declare(self, hp, optimizer):
        """Declare the knobs in `hp`; the `zoo.get_optimizer` arguments of this trial."""
        kwargs = {}
        for name, (knob, dim, condition) in self.dims.items():
            if condition is None:
                value = dim.declare(hp, name)
            else:
                with hp.conditional_scope("optimizer", condition):
                    value = dim.declare(hp, name)
            if value is not None:  # None: inactive for this trial's optimizer
                kwargs[knob] = value
        for knob, value in self.fixed.items():
            if knob == "learning_rate" or optimizer_takes(optimizer, knob):
                kwargs[knob] = value
        return kwargs
