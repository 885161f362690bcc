"""Feature-map sizes through a stack of convolutions and poolings, checked
before any layer is built.

Keras reports a feature map that shrinks to nothing with a shape error deep
inside the layer that failed (or a zero-size tensor that breaks later);
`check_stack` computes every size first, with Keras's own rules, and names
the options that made the map vanish:

| step        | `padding="same"`  | `padding="valid"`              |
|-------------|-------------------|--------------------------------|
| convolution | `ceil(n / s)`     | `floor((n - k) / s) + 1`       |
| pooling     | `ceil(n / p)`     | `floor((n - p) / p) + 1`       |

(`k` kernel size, `s` stride, `p` pool size, which is also the pooling
stride). An axis already of length 1 is not pooled, as in
`zoo.models._blocks.downsample`; `None` (an unknown length) passes.

Example:

>>> check_stack((8, 8), [[3], [3]], strides=1, padding="same", pool_size=2)
[2, 2]
"""


def _length(n, window, stride, padding):
    if n is None:
        return None
    if padding == "same":
        return -(-n // stride)
    return (n - window) // stride + 1


def check_stack(spatial, blocks, *, strides, padding, pool_size=None, kernel_option=True):
    """The spatial sizes after `blocks`, or a `ValueError` if one drops below 1.

    Args:
        spatial: the input's spatial sizes, e.g. `(8, 8)` or `(T,)`.
        blocks: one list of kernel sizes per block: its convolutions in order;
            a pooling follows each block when `pool_size` is given.
        strides: the convolutions' stride.
        padding: `"same"` or `"valid"` (convolutions and poolings alike).
        pool_size: pooling window and stride, or `None` for no pooling.
        kernel_option: whether the builder takes `kernel_size` (named in
            the error message).

    Returns:
        The sizes after the last block, as a list.
    """
    sizes = list(spatial)
    for b, kernels in enumerate(blocks, start=1):
        steps = [(f"convolution {i} (kernel {k}, stride {strides})", k, strides)
                 for i, k in enumerate(kernels, start=1)]
        if pool_size:
            steps.append((f"pooling (window {pool_size})", pool_size, pool_size))
        for what, window, stride in steps:
            pooling = what.startswith("pooling")
            before = sizes
            sizes = [n if pooling and n == 1 else _length(n, window, stride, padding)
                     for n in sizes]
            if any(n is not None and n < 1 for n in sizes):
                options = ["`depth`", "`kernel_size`" if kernel_option else None,
                           "`strides`", "`pool_size`" if pool_size else None]
                raise ValueError(
                    f"With `padding`={padding!r} the feature map shrinks from "
                    f"{tuple(before)} to {tuple(max(n, 0) for n in sizes)} at block {b}'s "
                    f"{what}, for an input of spatial size {tuple(spatial)}. Use "
                    f"padding='same', a smaller {', '.join(o for o in options if o)}, "
                    "or a larger input."
                )
    return sizes
