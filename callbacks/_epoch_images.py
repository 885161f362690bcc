"""Which scored epochs of a fit get TensorBoard images.

Drawing a figure with matplotlib and encoding it as PNG costs about 0.1 s
on a small CPU, more than scoring the epoch: at every epoch it would double
a short fit (`bench/stack_overhead.py`). The images a user looks at are
those of the epoch kept in the end (the best) and of where training ended
(the last), so those are drawn by default, once, when the fit ends;
``freq=n`` also draws every n-th epoch as it is scored, for watching a long
run live (``1``: every scored epoch).
"""

import math


class EpochImages:
    """Chooses the epochs to draw: every ``freq``-th, then best and last.

    Args:
        freq: draw at epochs ``n, 2n, ...`` (1-based) as they are scored,
            or ``None`` for none during the fit.

    Example:

    >>> images = EpochImages(freq=None)
    >>> [images.scored(epoch, f1, f"figures {epoch}")
    ...  for epoch, f1 in enumerate([0.5, 0.9, 0.7])]
    [False, False, False]
    >>> images.at_end()
    [(1, 'figures 1'), (2, 'figures 2')]
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
        self._last = (epoch, payload)
        if score is not None and not math.isnan(score) and (
                self._best is None or score > self._best[1]):
            self._best = (epoch, score, payload)
        now = self.freq is not None and (epoch + 1) % self.freq == 0
        if now:
            self._drawn.add(epoch)
        return now

    def at_end(self):
        """``[(epoch, payload)]`` of the best and last epochs not drawn yet,
        in epoch order; then forgets them."""
        chosen = {}
        if self._best is not None:
            chosen[self._best[0]] = self._best[2]
        if self._last is not None:
            chosen[self._last[0]] = self._last[1]
        due = sorted(((e, p) for e, p in chosen.items() if e not in self._drawn),
                     key=lambda item: item[0])
        self.reset()
        return due
