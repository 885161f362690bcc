"""Exploding and vanishing gradient reports of `GradientNormMonitor`."""

import numpy as np


class GradientNormError(RuntimeError):
    """Raised by `GradientNormMonitor` when an action is ``"raise"``."""


class ExplodingGradientError(GradientNormError):
    """A non-finite gradient, or a global norm above the threshold."""


class VanishingGradientError(GradientNormError):
    """Layers whose gradient norm stayed below the threshold too long."""


class GradientNormWarning(RuntimeWarning):
    """Issued by `GradientNormMonitor` for ``"warn"`` and ``"stop"``."""


def exploding(names, layer_norms, norm, non_finite, threshold):
    """``(kind, layers, text)``: the non-finite layers (deepest, i.e. nearest
    the output, first), or the three largest ones."""
    if non_finite:
        layers = [
            name
            for name, value in reversed(list(zip(names, layer_norms)))
            if not np.isfinite(value)
        ]
        text = f"non-finite gradient (global norm {norm:.3g})"
        if layers:
            text += f" in layers (deepest first): {', '.join(layers)}"
        return "non_finite", layers, text
    top = np.argsort(-layer_norms)[:3]
    text = (
        f"global gradient norm {norm:.3g} > exploding_threshold={threshold:g}; "
        "largest layers: "
        + ", ".join(f"{names[i]} ({layer_norms[i]:.3g})" for i in top)
    )
    return "exploding", [names[i] for i in top], text


def vanishing(names, layer_norms, low, threshold, patience):
    """``(layers, text)`` for the layers flagged in ``low``, deepest first."""
    deepest_first = [i for i in reversed(range(len(names))) if low[i]]
    text = (
        f"norm below vanishing_threshold={threshold:g} for {patience}+ "
        f"consecutive steps in {len(deepest_first)} layer(s), deepest first: "
        + ", ".join(f"{names[i]} ({layer_norms[i]:.2g})" for i in deepest_first)
    )
    return [names[i] for i in deepest_first], text
