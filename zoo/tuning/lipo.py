"""LIPO search: dlib's global optimizer `find_max_global` as a keras-tuner oracle.

LIPO (Malherbe & Vayatis, 2017) proposes where a Lipschitz upper bound of
the objective, drawn through the trials so far, is highest: a region is
tried only if it could still beat the best trial. dlib's version, used by
MITIE, estimates the Lipschitz constants from the trials themselves (one
per dimension, with a noise allowance per trial) and alternates these
global steps with a trust-region step on a quadratic model around the best
trial, which refines the optimum that the bound alone would only approach
slowly. It needs no settings of its own to work (`zoo.tuning._lipschitz`
holds the two models).

keras-tuner has random, grid, Bayesian and Hyperband search but no LIPO.
`LipoOracle` is a plain `keras_tuner.Oracle`, so everything built on
oracles works with it: distributed search (the chief runs it), resume (its
state is saved with the oracle's), pruning, `zoo.tuning.run_search(...,
strategy="lipo")` and `python -m recipes tune NAME --strategy lipo`.

The search space, mapped onto the unit cube:

- `Float` and `Int`: keras-tuner's own mapping (`value_to_prob`), so a
  log-scale hyperparameter is searched in log space; integers (and floats
  with a `step`) are rounded onto their grid, and the trust-region step
  keeps them at the best trial's values, as dlib does for integers.
- `Choice` and `Boolean`: categorical dimensions. Two trials are at
  distance 0 on one if they have the same value and 1 otherwise, with its
  own fitted slope in the bound; the global step draws them uniformly with
  the numeric dimensions and keeps the candidate of highest bound, and the
  trust-region step keeps the best trial's values. Numeric choices (e.g.
  `width` in `[16, 32, 64]`) are categories too: their order is not used.
- `Fixed`, and conditional hyperparameters: a value inactive in a trial
  counts as its default, as in keras-tuner's Bayesian oracle.

The order of proposals follows dlib: the centre of the space (categorical
dimensions at their defaults), random points until there are
`max(3, dimensions)` results, then trust-region and upper-bound steps in
turn, with a pure random point at probability `random_search_probability`
or whenever the bound promises no gain. Trials still running count in the
bound with the value of their nearest finished neighbour, so that parallel
workers are not sent to the same place.
"""

import numpy as np
import keras_tuner as kt
from keras_tuner.engine import hyperparameters as hp_types
from keras_tuner.engine.trial import TrialStatus

from zoo.core.checks import check_float, check_int
from zoo.tuning._lipschitz import UpperBound, squared_deltas, trust_region_step

TRUST_REGION, UPPER_BOUND, RANDOM, CENTRE = "trust_region", "upper_bound", "random", "centre"


class _Cube:
    """The oracle's non-fixed hyperparameters as unit-cube coordinates."""

    def __init__(self, hyperparameters):
        self.hps = [hp for hp in hyperparameters.space if not isinstance(hp, hp_types.Fixed)]
        self.categorical = np.array([self._choices(hp) is not None for hp in self.hps], bool)
        self.discrete = [i for i, hp in enumerate(self.hps)
                         if not self.categorical[i] and (isinstance(hp, hp_types.Int)
                                                         or hp.step is not None)]
        self.free = [i for i in range(len(self.hps))
                     if not self.categorical[i] and i not in self.discrete]

    @staticmethod
    def _choices(hp):
        if isinstance(hp, hp_types.Boolean):
            return [False, True]
        if isinstance(hp, hp_types.Choice):
            return list(hp.values)
        return None

    def __len__(self):
        return len(self.hps)

    def encode(self, values):
        vector = np.empty(len(self.hps))
        for i, hp in enumerate(self.hps):
            value = values.get(hp.name, hp.default)
            choices = self._choices(hp)
            if choices is not None:
                vector[i] = choices.index(value if value in choices else hp.default)
            else:
                vector[i] = np.clip(hp.value_to_prob(value), 0.0, 1.0)
        return vector

    def decode(self, vector, hyperparameters):
        """Active values only, as keras-tuner records them."""
        coordinates = {hp.name: x for hp, x in zip(self.hps, vector)}
        hps = kt.HyperParameters()
        for hp in hyperparameters.space:
            hps.merge([hp])
            if not hps.is_active(hp):
                continue
            if isinstance(hp, hp_types.Fixed):
                hps.values[hp.name] = hp.value
                continue
            x = coordinates[hp.name]
            choices = self._choices(hp)
            if choices is not None:
                hps.values[hp.name] = choices[int(round(x))]
            else:
                value = min(max(hp.prob_to_value(x), hp.min_value), hp.max_value)
                hps.values[hp.name] = int(value) if isinstance(hp, hp_types.Int) else value
        return hps.values

    def centre(self):
        return np.array([self._choices(hp).index(hp.default) if c else 0.5
                         for hp, c in zip(self.hps, self.categorical)])

    def random(self, rng, size):
        """`size` random points; discrete coordinates snapped to their grid."""
        points = rng.random((size, len(self.hps)))
        for i, hp in enumerate(self.hps):
            if self.categorical[i]:
                points[:, i] = rng.integers(len(self._choices(hp)), size=size)
            elif i in self.discrete:
                snap = {}
                points[:, i] = [snap.setdefault(v, hp.value_to_prob(hp.prob_to_value(v)))
                                for v in points[:, i]]
        return points


class LipoOracle(kt.Oracle):
    """LIPO with trust-region steps (dlib's `find_max_global`; see the module doc).

    Args:
        objective, max_trials, seed, hyperparameters, allow_new_entries,
            tune_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials: as for every `keras_tuner.Oracle`.
        num_random_samples: random points at which the upper bound is
            evaluated to find its maximum (dlib's default, 5000).
        random_search_probability: chance of a pure random trial instead of
            an upper-bound step (dlib's default, 0.02).
        relative_noise: how much of a gap between two trial scores the
            bound may explain as noise (dlib's `relative_noise_magnitude`,
            0.001; scores are first scaled to unit spread).

    Example:

    >>> import keras_tuner as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    >>> oracle = LipoOracle(kt.Objective("score", "max"), max_trials=5,
    ...                     hyperparameters=hp, seed=1)
    >>> oracle.populate_space("0")["values"]["learning_rate"]  # the centre (log scale)
    0.0031622776601683794
    """

    def __init__(self, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, num_random_samples=5000,
                 random_search_probability=0.02, relative_noise=1e-3):
        super().__init__(
            objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries,
            seed=seed, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        self.num_random_samples = check_int("num_random_samples", num_random_samples)
        self.random_search_probability = check_float(
            "random_search_probability", random_search_probability, 0.0, 1.0,
            include_high=True)
        self.relative_noise = check_float("relative_noise", relative_noise)
        self.requests = {}  # trial_id -> how it was proposed (replayed by _radius)
        self._trust_next = True

    def populate_space(self, trial_id):
        cube = _Cube(self.hyperparameters)
        rng = np.random.default_rng([self.seed, self._seed_state])
        self._seed_state += 1
        kind, vector, info = self._propose(cube, rng, trial_id)
        values = cube.decode(vector, self.hyperparameters) if vector is not None else None
        for _ in range(self._max_collisions):
            if values is not None and not self._duplicate(values):
                break
            # A repeat (a discrete space, or a step that rounded back): try elsewhere.
            kind, info = RANDOM, {}
            values = cube.decode(cube.random(rng, 1)[0], self.hyperparameters)
        else:
            values = self._random_values()
            if values is None:
                return {"status": TrialStatus.STOPPED, "values": None}
        self.requests[trial_id] = dict(info, kind=kind)
        return {"status": TrialStatus.RUNNING, "values": values}

    def _sign(self):
        return 1.0 if self.objective.direction == "max" else -1.0

    def _observations(self, cube, trial_id):
        """Finished trials `(points, values)` and running ones `(points, ids)`."""
        done, values, running, ids = [], [], [], []
        for trial in self.trials.values():
            if trial.trial_id == trial_id:
                continue
            point = cube.encode(trial.hyperparameters.values)
            if trial.status == TrialStatus.COMPLETED and trial.score is not None \
                    and np.isfinite(trial.score):
                done.append(point)
                values.append(self._sign() * float(trial.score))
            elif trial.status == TrialStatus.RUNNING:
                running.append(point)
                ids.append(trial.trial_id)
        shape = (-1, len(cube))
        return (np.array(done).reshape(shape), np.array(values),
                np.array(running).reshape(shape), ids)

    def _propose(self, cube, rng, trial_id):
        if not len(cube):
            return RANDOM, None, {}
        points, values, running, running_ids = self._observations(cube, trial_id)
        if len(points) + len(running) == 0:
            return CENTRE, cube.centre(), {}
        if len(points) < max(3, len(cube)):
            return RANDOM, cube.random(rng, 1)[0], {}
        best = int(np.argmax(values))
        trust_running = any(self.requests.get(i, {}).get("kind") == TRUST_REGION
                            for i in running_ids)
        if self._trust_next and not trust_running and len(points) > len(cube) + 1:
            step = trust_region_step(points, values, best, cube.free, self._radius(cube),
                                     cube.categorical)
            if step is not None and step[1] > 0:
                self._trust_next = False
                return TRUST_REGION, step[0], {"anchor": float(values[best]),
                                               "predicted": step[1], "radius": step[2]}
        self._trust_next = True
        if rng.random() >= self.random_search_probability:
            if len(running):  # a running trial counts as its nearest finished neighbour
                dist = squared_deltas(running, points, cube.categorical).sum(axis=2)
                guess = values[np.argmin(dist, axis=1)]
                points, values = np.vstack([points, running]), np.concatenate([values, guess])
            bound = UpperBound(points, values, cube.categorical, self.relative_noise,
                               seed=int(rng.integers(2**31)))
            candidates = cube.random(rng, self.num_random_samples)
            upper = bound(candidates)
            top = int(np.argmax(upper))
            if upper[top] > values.max():
                return UPPER_BOUND, candidates[top], {"bound": float(upper[top])}
        return RANDOM, cube.random(rng, 1)[0], {}

    def _radius(self, cube):
        """The trust radius, replayed from the finished trials in end order.

        As in dlib: a trust-region trial halves it if it gained less than a
        quarter of its predicted gain and doubles it above three quarters;
        a new best found far away by another step resets it (0: measured
        again from the best trial's neighbours).
        """
        radius, best, best_x = 0.0, -np.inf, None
        free = cube.free
        for trial_id in self.end_order:
            trial = self.trials.get(trial_id)
            if trial is None or trial.status != TrialStatus.COMPLETED or trial.score is None:
                continue
            y = self._sign() * float(trial.score)
            x = cube.encode(trial.hyperparameters.values)[free]
            request = self.requests.get(trial_id, {})
            if request.get("kind") == TRUST_REGION and request.get("predicted"):
                radius = request["radius"]
                rho = (y - request["anchor"]) / abs(request["predicted"])
                radius *= 0.5 if rho < 0.25 else 2.0 if rho > 0.75 else 1.0
            if y > best:
                if request.get("kind") != TRUST_REGION and best_x is not None \
                        and np.linalg.norm(x - best_x) > radius * 1.001:
                    radius = 0.0
                best, best_x = y, x
        return radius

    def get_state(self):
        state = super().get_state()
        state["lipo"] = {"requests": self.requests, "trust_next": self._trust_next}
        return state

    def set_state(self, state):
        super().set_state(state)
        lipo = state.get("lipo", {})
        self.requests = dict(lipo.get("requests", {}))
        self._trust_next = lipo.get("trust_next", True)


class LipoSearch(kt.Tuner):
    """A keras-tuner tuner running `LipoOracle` (like `keras_tuner.RandomSearch`).

    Args:
        hypermodel: a `keras_tuner.HyperModel` or a `build(hp)` function.
        objective, max_trials, seed, hyperparameters, tune_new_entries,
            allow_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials, num_random_samples,
            random_search_probability, relative_noise: see `LipoOracle`.
        **kwargs: the arguments of every `keras_tuner.Tuner` (`directory`,
            `project_name`, `overwrite`...).
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3,
                 num_random_samples=5000, random_search_probability=0.02,
                 relative_noise=1e-3, **kwargs):
        self.seed = seed
        oracle = LipoOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            num_random_samples=num_random_samples,
            random_search_probability=random_search_probability,
            relative_noise=relative_noise,
        )
        super().__init__(oracle, hypermodel, **kwargs)
