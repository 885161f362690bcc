"""Exploding and vanishing gradient detection for `GradientNormMonitor`."""

import numpy as np

from callbacks import gradient_capture as gc


class GradientNormError(RuntimeError):
    """Raised by `GradientNormMonitor` when an action is ``"raise"``."""


class ExplodingGradientError(GradientNormError):
    """A non-finite gradient, or a global norm above the threshold."""


class VanishingGradientError(GradientNormError):
    """Layers whose gradient norm stayed below the threshold too long."""


class GradientNormWarning(RuntimeWarning):
    """Issued by `GradientNormMonitor` for ``"warn"`` and ``"stop"``."""


class GradientDiagnosis:
    """Reads a `GradientCapture` state vector for gradient problems.

    The counters come from the graph, so steps inside one
    ``steps_per_execution`` call are all checked. A problem is reported when
    it starts, not at every step it lasts: exploding gradients again only
    after a healthy step, vanishing ones when a new layer joins.

    Args:
        names: layer names in depth order (input side first).
        vanishing_threshold: see `GradientNormMonitor` (``None``: off).
        patience: see `GradientNormMonitor`.
        exploding_threshold: see `GradientNormMonitor`.
        loss_scaled: the optimizer is a ``LossScaleOptimizer``, which skips
            non-finite steps by design, so those are not reported.
    """

    def __init__(
        self,
        names,
        vanishing_threshold,
        patience,
        exploding_threshold,
        loss_scaled,
    ):
        self.names = names
        self.vanishing_threshold = vanishing_threshold
        self.patience = patience
        self.exploding_threshold = exploding_threshold
        self.loss_scaled = loss_scaled
        self.reset_epoch()
        self._exploding_now = False
        self._low = np.zeros(len(names), bool)

    def reset_epoch(self):
        self._bad_seen = (0, 0)  # (non-finite, exploding) steps this epoch

    def check(self, state, head):
        """``[(kind, layers, text)]`` for problems starting since last check.

        ``kind`` is ``"non_finite"``, ``"exploding"`` or ``"vanishing"``;
        ``head`` is ``state[:gc.HEADER]`` as a list (the caller has it).
        """
        reports = []
        steps = int(head[gc.STEPS])
        non_finite = 0 if self.loss_scaled else steps - int(head[gc.FINITE])
        bad = (non_finite, int(head[gc.EXPLODING]))
        if bad != self._bad_seen:
            new_non_finite = bad[0] > self._bad_seen[0]
            self._bad_seen = bad
            if not self._exploding_now:
                self._exploding_now = True
                reports.append(self._exploding(state, head, new_non_finite))
        else:
            self._exploding_now = False
        num_layers = len(self.names)
        if num_layers and self.vanishing_threshold is not None:
            low = state[gc.HEADER + num_layers :] >= self.patience
            if low.any() or self._low.any():
                if np.any(low & ~self._low):
                    reports.append(self._vanishing(state, low))
                self._low = low
        return reports

    def _layer_norms(self, state):
        return state[gc.HEADER : gc.HEADER + len(self.names)]

    def _exploding(self, state, head, non_finite):
        names, norms, norm = self.names, self._layer_norms(state), head[gc.LAST]
        if non_finite:
            # Deepest (nearest the output) first.
            layers = [
                name
                for name, value in reversed(list(zip(names, norms)))
                if not np.isfinite(value)
            ]
            text = f"non-finite gradient (global norm {norm:.3g})"
            if layers:
                text += f" in layers (deepest first): {', '.join(layers)}"
            return "non_finite", layers, text
        top = np.argsort(-norms)[:3]
        text = (
            f"global gradient norm {norm:.3g} > exploding_threshold="
            f"{self.exploding_threshold:g}; largest layers: "
            + ", ".join(f"{names[i]} ({norms[i]:.3g})" for i in top)
        )
        return "exploding", [names[i] for i in top], text

    def _vanishing(self, state, low):
        norms = self._layer_norms(state)
        deepest_first = [i for i in reversed(range(len(self.names))) if low[i]]
        text = (
            f"norm below vanishing_threshold={self.vanishing_threshold:g} for "
            f"{self.patience}+ consecutive steps in {len(deepest_first)} "
            "layer(s), deepest first: "
            + ", ".join(
                f"{self.names[i]} ({norms[i]:.2g})" for i in deepest_first
            )
        )
        return "vanishing", [self.names[i] for i in deepest_first], text
