"""Input pipeline: does streaming an image folder starve the model, and does memory stay flat?

Writes `--images` PNG files (default 20,000 of 64x64 noisy RGB, about 250 MB,
10 classes) to a temporary folder, deleted at the end, then measures in one
run:

1. epoch time training `cnn.simple` on the folder (`zoo.data.load_image_folder`,
   images resized to 32x32, decoded images cached in memory) against the
   same steps from the same images held as NumPy arrays: two models trained
   one epoch at a time in turns, `epoch_ratio` the median of the folder/arrays
   ratios of the epochs after the first (which fills the cache; goal <= 1.10);
2. resident memory (`VmRSS`) growth while streaming two epochs of the folder
   at 64x64 with a cache budget smaller than the data (`cache_mb=50`, so
   nothing is cached and every epoch reads the files): `rss_growth_mb`
   (goal < 200).

    python bench/input_pipeline.py [--images 20000] [--epochs 5]

Run it on an otherwise idle machine for figures to quote.
"""

import argparse
import concurrent.futures
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
from _memory import rss_mb  # noqa: E402  (bench/_memory.py)

CLASSES = 10


def _write_chunk(args):
    from PIL import Image

    root, start, count = args
    rng = np.random.default_rng(start)
    for i in range(start, start + count):
        label = i % CLASSES
        image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        image[:, :, label % 3] //= 1 + label // 3  # a class-dependent colour cast
        Image.fromarray(image).save(os.path.join(root, f"c{label}", f"{i}.png"),
                                    compress_level=1)
    return count


def write_folder(root, n):
    for label in range(CLASSES):
        os.makedirs(os.path.join(root, f"c{label}"), exist_ok=True)
    chunks = [(root, s, min(500, n - s)) for s in range(0, n, 500)]
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count()) as pool:
        return sum(pool.map(_write_chunk, chunks))


def interleaved_epochs(fits, input_shape, epochs, seed):
    """``{name: [seconds per epoch]}``: one model per entry of ``fits``, the
    same seed, trained one epoch at a time in turns (the order flips every
    epoch), so that a busy machine slows both alike."""
    import keras

    import zoo

    models, seconds = {}, {name: [] for name in fits}
    for name in fits:
        keras.utils.set_random_seed(seed)
        models[name] = zoo.build("cnn.simple", input_shape=input_shape, num_classes=CLASSES)
        zoo.compile_model(models[name], optimizer="adam", learning_rate=1e-3)
    for epoch in range(epochs):
        for name in (list(fits) if epoch % 2 == 0 else list(fits)[::-1]):
            start = time.perf_counter()
            models[name].fit(**fits[name], initial_epoch=epoch, epochs=epoch + 1, verbose=0)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="krz-input-pipeline-")
    try:
        start = time.perf_counter()
        write_folder(root, args.images)
        size_mb = sum(e.stat().st_size for d in os.scandir(root)
                      for e in os.scandir(d.path)) / 2**20
        print(f"wrote {args.images} images, {size_mb:.0f} MB, in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        measure(root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def measure(root, args):
    from zoo.data import load_image_folder

    data = load_image_folder(root, image_size=32, cache_mb=4096, val_size=0.05, test_size=0.05)
    print(data, "cached:", data.streams.cache, flush=True)
    # The same images as arrays (read back from a cached pipeline, in order).
    x_train, y_train = (np.concatenate(a) for a in zip(
        *((x.numpy(), y.numpy()) for x, y in data.streams.pipeline(
            data.x_train, data.y_train, shuffle=False, batch_size=512))))
    x_val, y_val = (np.concatenate(a) for a in zip(*((x.numpy(), y.numpy()) for x, y in data.val)))
    arrays = dict(x=x_train, y=y_train, batch_size=args.batch_size, validation_data=(x_val, y_val))
    seconds = interleaved_epochs({"folder": data.fit_args(args.batch_size), "arrays": arrays},
                                 data.input_shape, args.epochs, seed=0)
    print(f"epoch seconds (interleaved), folder: {[round(t, 2) for t in seconds['folder']]}; "
          f"arrays: {[round(t, 2) for t in seconds['arrays']]}")
    ratios = [f / a for f, a in zip(seconds["folder"][1:], seconds["arrays"][1:])]
    del x_train, x_val, arrays

    budget = min(50, args.images * 64 * 64 * 3 / 2**20 / 4)  # under the data's size
    streamed = load_image_folder(root, image_size=64, cache_mb=budget, val_size=0.05,
                                 test_size=0.05)
    assert not streamed.streams.cache
    pipeline = streamed.pipeline("train", args.batch_size)
    next(iter(pipeline))  # builds the pipeline's threads and buffers
    before, peak, batches = rss_mb(), 0.0, 0
    start = time.perf_counter()
    for _ in range(2):
        for x, _ in pipeline:
            batches += 1
            if batches % 20 == 0:
                peak = max(peak, rss_mb())
    peak = max(peak, rss_mb())
    images_per_s = batches * args.batch_size / (time.perf_counter() - start)
    decoded_mb = streamed.sizes()["train"] * 64 * 64 * 3 / 2**20
    print(f"streamed 2 epochs uncached ({decoded_mb:.0f} MB decoded per epoch, cache "
          f"budget {budget:.0f} MB): {images_per_s:.0f} images/s, RSS {before:.0f} -> "
          f"peak {peak:.0f} MB")
    print(f"epoch_ratio={statistics.median(ratios):.3f} (median over the epochs after the "
          f"first of folder / arrays, pairs {min(ratios):.2f}..{max(ratios):.2f}; goal <= 1.10)")
    print(f"rss_growth_mb={peak - before:.0f} (goal < 200)")


if __name__ == "__main__":
    main()
