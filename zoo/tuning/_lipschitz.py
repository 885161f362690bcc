"""The two models the LIPO oracle proposes from (dlib's `find_max_global`).

- `UpperBound`: a Lipschitz upper bound through the finished trials,
  `U(x) = min_i y_i + sqrt(o_i + sum_d k_d * delta_d(x, x_i)**2)`, with one
  slope `k_d` per dimension and a noise offset `o_i` per trial, fitted as
  dlib's `upper_bound_function`: the smallest `|k|**2 + |o / noise|**2`
  such that `U` is above every observed value (a quadratic program, solved
  with SciPy's SLSQP). The Lipschitz constants are
  thus estimated from the data, and grow as the trials reveal steeper
  slopes.
- `trust_region_step`: a quadratic model fitted to the trials nearest the
  best one, maximized inside a ball of the trust radius and the bounds.

Points live in the unit cube of `zoo.tuning.lipo`: `delta_d` is the
difference of two coordinates for a numeric dimension and 0 or 1 (same
value or not) for a categorical one. Values are maximized.
"""

import numpy as np
import scipy.optimize

_MAX_FIT_POINTS = 120  # beyond, the slopes are fitted on a subset (n^2 / 2 pairs)


def squared_deltas(x, points, categorical):
    """`(len(x), len(points), dims)` squared per-dimension distances."""
    diff = x[:, None, :] - points[None, :, :]
    return np.where(categorical, (np.abs(diff) > 0.5).astype(float), diff * diff)


class UpperBound:
    """The fitted Lipschitz upper bound (see the module doc).

    Args:
        points: `(n, dims)` trial coordinates.
        values: `(n,)` their values (to maximize).
        categorical: `(dims,)` bools, True for a categorical dimension.
        relative_noise: dlib's `relative_noise_magnitude`: how much of a
            gap between two values the bound may explain as noise rather
            than slope (values are first scaled to unit spread).
    """

    def __init__(self, points, values, categorical, relative_noise=1e-3, seed=0):
        self.points = np.asarray(points, float)
        self.categorical = np.asarray(categorical, bool)
        values = np.asarray(values, float)
        n, dims = self.points.shape
        self.shift, self.scale = values.max(), values.std() or 1.0
        self.values = (values - self.shift) / self.scale
        self.slopes = np.zeros(dims)
        self.offsets = np.zeros(n)
        if n < 2:
            return
        fit = np.arange(n)
        if n > _MAX_FIT_POINTS:  # the best half and a random half of the rest
            order = np.argsort(-self.values)
            rest = np.random.default_rng(seed).permutation(order[_MAX_FIT_POINTS // 2:])
            fit = np.sort(np.concatenate([order[:_MAX_FIT_POINTS // 2],
                                          rest[:_MAX_FIT_POINTS - _MAX_FIT_POINTS // 2]]))
        i, j, d2, gap2, low = self._pairs(fit)
        if len(gap2):
            self.slopes = self._fit_slopes(d2, gap2, low, relative_noise, n)
        # Raise the offsets wherever the bound would dip below a value: an
        # inexact solve (or the subset) must never leave the bound invalid.
        i, j, d2, gap2, low = self._pairs(np.arange(n))
        need = gap2 - d2 @ self.slopes
        np.maximum.at(self.offsets, low, need)
        self.offsets = np.maximum(self.offsets, 0.0)

    def _pairs(self, index):
        i, j = np.triu_indices(len(index), 1)
        i, j = index[i], index[j]
        gap = self.values[i] - self.values[j]
        keep = gap != 0
        i, j, gap = i[keep], j[keep], gap[keep]
        diff = self.points[i] - self.points[j]
        d2 = np.where(self.categorical, (np.abs(diff) > 0.5).astype(float), diff * diff)
        return i, j, d2, gap * gap, np.where(gap > 0, j, i)

    def _fit_slopes(self, d2, gap2, low, relative_noise, n):
        # min 1/2 |w|^2  s.t.  A w >= gap2, with w = [slopes, offsets / noise]. The
        # objective's Hessian is the identity, which is SLSQP's starting guess:
        # its first quadratic subproblem is the whole problem.
        dims = d2.shape[1]
        a = np.zeros((len(gap2), dims + n))
        a[:, :dims] = d2
        a[np.arange(len(gap2)), dims + low] = relative_noise
        result = scipy.optimize.minimize(
            lambda w: (0.5 * w @ w, w), np.zeros(dims + n), jac=True, method="SLSQP",
            bounds=scipy.optimize.Bounds(0.0, np.inf),
            constraints=[{"type": "ineq", "fun": lambda w: a @ w - gap2, "jac": lambda w: a}],
            options={"maxiter": 100})
        w = np.maximum(result.x, 0.0)
        self.offsets = relative_noise * w[dims:]
        return w[:dims]

    def __call__(self, x, chunk=1000):
        """The bound at the rows of `x`, in the values' own units."""
        x = np.atleast_2d(np.asarray(x, float))
        out = np.empty(len(x))
        for start in range(0, len(x), chunk):
            d2 = squared_deltas(x[start:start + chunk], self.points, self.categorical)
            local = self.values + np.sqrt(self.offsets + d2 @ self.slopes)
            out[start:start + chunk] = local.min(axis=1)
        return out * self.scale + self.shift


def trust_region_step(points, values, best, free, radius, categorical):
    """Maximize a quadratic model of the values near `points[best]`.

    The model is fitted (least squares) to the `(d+1)(d+2)/2` trials nearest
    the best one, over the `free` (continuous) dimensions only; the other
    dimensions keep the best trial's values, as dlib does for integers.

    Args:
        points, values: the finished trials, as for `UpperBound`.
        best: index of the best trial.
        free: indices of the dimensions the step may move.
        radius: the trust radius; 0 means "the spread of the neighbours".
        categorical: as for `UpperBound` (used for the neighbour distances).

    Returns:
        `(x, predicted_improvement, radius)`, or None if no step is possible.
    """
    free = np.asarray(free, int)
    dims = len(free)
    if dims == 0 or len(points) <= dims + 1:
        return None
    anchor = points[best]
    size = min(len(points), (dims + 1) * (dims + 2) // 2)
    dist = squared_deltas(anchor[None], points, categorical)[0].sum(axis=1)
    near = np.argsort(dist, kind="stable")[:size]
    x = points[near][:, free] - anchor[free]
    if radius <= 0:
        radius = 0.95 * float(np.sqrt((x * x).sum(axis=1)).max())
    if radius <= 0:
        return None
    rows, cols = np.triu_indices(dims)
    quad = x[:, rows] * x[:, cols] * np.where(rows == cols, 0.5, 1.0)
    features = np.hstack([x, np.ones((len(x), 1)), quad])
    coef = np.linalg.lstsq(features, values[near] - values[best], rcond=None)[0]
    g = coef[:dims]
    h = np.zeros((dims, dims))
    h[rows, cols] = coef[dims + 1:]
    h[cols, rows] = coef[dims + 1:]

    def model(p):
        return 0.5 * p @ h @ p + g @ p

    bounds = scipy.optimize.Bounds(-anchor[free], 1.0 - anchor[free])
    ball = {"type": "ineq", "fun": lambda p: radius**2 - p @ p, "jac": lambda p: -2 * p}
    starts = [np.zeros(dims)]
    if np.linalg.norm(g) > 0:
        starts.append(np.clip(radius * g / np.linalg.norm(g), bounds.lb, bounds.ub))
    step, gain = np.zeros(dims), 0.0
    for start in starts:
        result = scipy.optimize.minimize(
            lambda p: -model(p), start, jac=lambda p: -(h @ p + g), method="SLSQP",
            bounds=bounds, constraints=[ball], options={"maxiter": 200})
        p = np.clip(result.x, bounds.lb, bounds.ub)
        length = np.linalg.norm(p)
        if length > radius:  # never leave the ball, even on an inexact solve
            p *= radius / length
        if np.isfinite(model(p)) and model(p) > gain:
            step, gain = p, float(model(p))
    proposal = anchor.copy()
    proposal[free] = np.clip(anchor[free] + step, 0.0, 1.0)
    return proposal, gain, radius
