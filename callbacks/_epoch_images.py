"""Which scored epochs of a fit get TensorBoard images.

Drawing a figure with matplotlib costs more than scoring the epoch (about
0.05 s a figure on a small CPU, most of it text): at every epoch it would
double a short fit (`bench/stack_overhead.py`). The images a user looks at
are those of the epoch kept in the end, the best one, so by default only
that epoch is drawn, once, when the fit ends. ``freq=n`` draws every n-th
epoch as it is scored, for watching a long run live (``1``: every scored
epoch), and then also the last epoch, where training ended.
"""

import math


class EpochImages:
    """Chooses the epochs to draw: the best; with ``freq``, also every
    ``freq``-th as scored and the last.

    Args:
        freq: draw at epochs ``n, 2n, ...`` (1-based) as they are scored,
            and the last epoch when the fit ends; or ``None``: the best only.

    Example:

    >>> images = EpochImages(freq=None)
    >>> [images.scored(epoch, f1, f"figures {epoch}")
    ...  for epoch, f1 in enumerate([0.5, 0.9, 0.7])]
    [False, False, False]
    >>> images.at_end()
    [(1, 'figures 1')]
    >>> images = EpochImages(freq=2)
    >>> [images.scored(epoch, f1, f"figures {epoch}")
    ...  for epoch, f1 in enumerate([0.9, 0.5, 0.7])]
    [False, True, False]
    >>> images.at_end()
    [(0, 'figures 0'), (2, 'figures 2')]
    """

    def __init__(self, freq=None):
        self.freq = freq
        self.reset()

    def reset(self):
        """Forget the epochs of an earlier fit."""
        self._best = None  # (epoch, score, payload)
        self._last = None  # (epoch, payload)
        self._drawn = set()

    def scored(self, epoch, score, payload):
        """Note a scored epoch (higher ``score`` is better; NaN never best);
        returns whether to draw ``payload`` now."""
        if self.freq is not None:
            self._last = (epoch, payload)
        if score is not None and not math.isnan(score) and (
                self._best is None or score > self._best[1]):
            self._best = (epoch, score, payload)
        now = self.freq is not None and (epoch + 1) % self.freq == 0
        if now:
            self._drawn.add(epoch)
        return now

    def at_end(self):
        """``[(epoch, payload)]`` of the best (and, with ``freq``, last)
        epochs not drawn yet, in epoch order; then forgets them."""
        chosen = {}
        if self._best is not None:
            chosen[self._best[0]] = self._best[2]
        if self._last is not None:
            chosen[self._last[0]] = self._last[1]
        due = sorted(((e, p) for e, p in chosen.items() if e not in self._drawn),
                     key=lambda item: item[0])
        self.reset()
        return due
