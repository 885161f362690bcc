"""Bounded in-memory record of gradient norms, its summary table and plot."""

import os
import warnings

import numpy as np

from zoo.core.files import atomic_path

_COLUMNS = ("min", "median", "max")


def check_plot_path(owner, plot_path):
    """Raises ``ValueError`` unless `GradientHistory.plot` can save a plot to
    the path ``plot_path`` (its suffix names a matplotlib format)."""
    from matplotlib.backend_bases import FigureCanvasBase

    allowed = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = os.path.splitext(os.fspath(plot_path))[1].lstrip(".").lower()
    if suffix not in allowed:
        raise ValueError(
            f"{owner}: `plot_path` must end with an image suffix, one of "
            f"{allowed}; got {os.fspath(plot_path)!r}."
        )


def _finite_or_nan(values):
    """``values`` with every non-finite entry (inf too) as NaN."""
    return np.where(np.isfinite(values), values, np.nan)


class _Thinned:
    """Keeps at most ``capacity`` evenly spaced points of a growing series.

    When full, every other point is dropped and from then on only every
    second new point is kept, so a long run still spans the whole training.
    The exact min and max stay known: skipped and dropped values are folded
    into ``low``/``high`` (skipped ones in batches, to keep `add` cheap).
    """

    def __init__(self, capacity, width):
        self.capacity = capacity
        self.stride = 1
        self.calls = 0
        self.steps, self.values = [], []
        self.width = width
        self.low = np.full(width, np.inf, np.float32)
        self.high = np.full(width, -np.inf, np.float32)
        self._skipped = []

    def add(self, step, value):
        self.calls += 1
        if (self.calls - 1) % self.stride:
            self._skipped.append(value)
            if len(self._skipped) >= 1024:
                self._fold(self._skipped)
                self._skipped = []
            return
        self.steps.append(step)
        self.values.append(value)
        if len(self.steps) > self.capacity:
            self._fold(self.values[1::2])
            del self.steps[1::2]
            del self.values[1::2]
            self.stride *= 2

    def _fold(self, values):
        values = np.asarray(values, np.float32).reshape(len(values), self.width)
        values = _finite_or_nan(values)
        with np.errstate(invalid="ignore"):
            self.low = np.fmin(self.low, np.fmin.reduce(values, axis=0))
            self.high = np.fmax(self.high, np.fmax.reduce(values, axis=0))

    def table(self):
        """Kept values as an array of shape ``(points, width)``."""
        return np.asarray(self.values, np.float32).reshape(
            len(self.values), self.width
        )

    def stats(self):
        """Per column ``(min, median, max)`` of the finite values, NaN if
        there are none."""
        if self._skipped:
            self._fold(self._skipped)
            self._skipped = []
        table = self.table()
        if len(table):
            self._fold(table)
        table = _finite_or_nan(table)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            median = np.nanmedian(table, axis=0)
        return _finite_or_nan(self.low), _finite_or_nan(median), _finite_or_nan(self.high)


class GradientHistory:
    """Global gradient norm per step and per-layer norms per logged step.

    Memory is bounded: each series keeps at most ``max_points`` points
    (thinned evenly when longer). Min and max are exact over every recorded
    point; the median is taken over the kept points.

    Args:
        layer_names: group names in depth order (input side first).
        max_points: points kept per series.
    """

    def __init__(self, layer_names, max_points):
        self.layer_names = list(layer_names)
        self._global = _Thinned(max_points, 1)
        self._layers = _Thinned(max_points, len(self.layer_names))

    def add_global(self, step, norm):
        self._global.add(step, norm)

    def add_layers(self, step, norms):
        self._layers.add(step, norms)

    @property
    def num_steps(self):
        return self._global.calls

    def as_dict(self):
        """``{"step", "global_norm", "layer_step", "layer_norm": {name: ...}}``
        as numpy arrays; layers in depth order, input side first."""
        table = self._layers.table()
        return {
            "step": np.asarray(self._global.steps, np.int64),
            "global_norm": self._global.table()[:, 0],
            "layer_step": np.asarray(self._layers.steps, np.int64),
            "layer_norm": {
                name: table[:, i] for i, name in enumerate(self.layer_names)
            },
        }

    def summary(self):
        """``{"global": stats, "layers": {name: stats}}``, stats being
        ``{"min", "median", "max"}`` of the finite recorded norms."""

        def rows(stats):
            return [
                {"min": float(lo), "median": float(me), "max": float(hi)}
                for lo, me, hi in zip(*stats)
            ]

        return {
            "global": rows(self._global.stats())[0],
            "layers": dict(zip(self.layer_names, rows(self._layers.stats()))),
        }

    def format_summary(self):
        summary = self.summary()
        header = "layer (input first)"
        width = max(len(n) for n in self.layer_names + [header])
        lines = [
            f"Gradient L2 norms over {self.num_steps} training steps",
            f"{header:<{width}}" + "".join(f"  {c:>10}" for c in _COLUMNS),
        ]
        rows = list(summary["layers"].items())
        rows.append(("(global)", summary["global"]))
        for name, stats in rows:
            lines.append(
                f"{name:<{width}}"
                + "".join(f"  {stats[c]:>10.3e}" for c in _COLUMNS)
            )
        return "\n".join(lines)

    def figure(self):
        """A matplotlib ``Figure``: norm per layer over steps, log y, layers
        coloured by depth (dark = input side), global norm dashed black."""
        import matplotlib
        from matplotlib.figure import Figure

        if self.num_steps == 0:
            raise RuntimeError("No gradient norms recorded yet: train first.")
        data = self.as_dict()
        figure = Figure(figsize=(8, 4.5))
        axes = figure.subplots()
        cmap = matplotlib.colormaps["viridis"]
        n = len(self.layer_names)
        for i, name in enumerate(self.layer_names):
            axes.plot(
                data["layer_step"],
                data["layer_norm"][name],
                color=cmap(i / max(n - 1, 1)),
                linewidth=1,
                label=name,
            )
        axes.plot(
            data["step"],
            data["global_norm"],
            color="black",
            linestyle="--",
            linewidth=1.2,
            label="global",
        )
        axes.set_yscale("log", nonpositive="mask")
        axes.set_xlabel("training step")
        axes.set_ylabel("gradient L2 norm")
        axes.set_title("Gradient norm per layer")
        if n <= 12:
            axes.legend(
                fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5)
            )
        else:
            mappable = matplotlib.cm.ScalarMappable(
                norm=matplotlib.colors.Normalize(0, n - 1), cmap=cmap
            )
            figure.colorbar(
                mappable, ax=axes, label="layer depth (0 = input side)"
            )
        figure.tight_layout()
        return figure

    def plot(self, path):
        with atomic_path(path) as tmp:
            self.figure().savefig(tmp, dpi=100)
        return path
