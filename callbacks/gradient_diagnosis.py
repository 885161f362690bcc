"""Exploding and vanishing gradient detection for `GradientNormMonitor`,
and the reports it makes of them."""

import numpy as np

from callbacks._init_config import keep_arguments


class GradientNormError(RuntimeError):
    """Raised by `GradientNormMonitor` when an action is ``"raise"``."""


class ExplodingGradientError(GradientNormError):
    """A non-finite gradient, or a global norm above the threshold."""


class VanishingGradientError(GradientNormError):
    """Layers whose gradient norm stayed below the threshold too long."""


class GradientNormWarning(RuntimeWarning):
    """Issued by `GradientNormMonitor` for ``"warn"`` and ``"stop"``."""


def report(kind, layers, text, action, epoch, batch, step, norm):
    """The event ``GradientNormMonitor`` records for a problem found by
    `GradientDiagnosis.check`, with its ``message``, and the error it raises
    for ``action="raise"``: ``(event, error)``."""
    vanishing = kind == "vanishing"
    message = (
        f"{'Vanishing' if vanishing else 'Exploding'} gradients at epoch "
        f"{epoch + 1}, batch {batch + 1} (training step {step}): {text}."
    )
    event = {
        "type": kind,
        "epoch": epoch,
        "batch": batch,
        "step": step,
        "global_norm": norm,
        "layers": layers,
        "action": action,
        "message": message,
    }
    error = VanishingGradientError if vanishing else ExplodingGradientError
    return event, error(message)


class GradientDiagnosis:
    """Finds gradient problems in the per-step rows of a `GradientCapture`.

    Every step's row is checked, whenever the rows are read. A problem is
    reported when it starts, not at every step it lasts: exploding gradients
    again only after a healthy step, vanishing ones when a new layer joins.

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
        keep_arguments(self, locals())
        self._exploding_now = False
        self._low = np.zeros(len(names), bool)

    def check(self, rows):
        """``[(row, kind, layers, text)]`` for problems starting in ``rows``.

        ``rows`` are consecutive steps' rows of the `GradientCapture`
        buffer (global norm, layer norms, streaks), oldest first;
        ``row`` indexes them and ``kind`` is ``"non_finite"``,
        ``"exploding"`` or ``"vanishing"``.
        """
        num_layers = len(self.names)
        norms = rows[:, 0]
        finite = np.isfinite(norms)
        bad = np.zeros(len(rows), bool) if self.loss_scaled else ~finite
        if self.exploding_threshold is not None:
            with np.errstate(invalid="ignore"):
                bad |= finite & (norms > self.exploding_threshold)
        starts = bad & ~np.concatenate([[self._exploding_now], bad[:-1]])
        self._exploding_now = bool(bad[-1])
        reports = [
            (i, *self._exploding(rows[i], finite[i]))
            for i in np.flatnonzero(starts)
        ]
        if num_layers and self.vanishing_threshold is not None:
            low = rows[:, 1 + num_layers :] >= self.patience
            joins = low & ~np.vstack([self._low, low[:-1]])
            self._low = low[-1]
            reports += [
                (i, *self._vanishing(rows[i], low[i]))
                for i in np.flatnonzero(joins.any(axis=1))
            ]
        # Step order; on one step the exploding report first.
        return sorted(reports, key=lambda report: report[0])

    def _layer_norms(self, row):
        return row[1 : 1 + len(self.names)]

    def _exploding(self, row, finite):
        names, norms, norm = self.names, self._layer_norms(row), row[0]
        if not finite:
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

    def _vanishing(self, row, low):
        norms = self._layer_norms(row)
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
