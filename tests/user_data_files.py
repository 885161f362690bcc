"""Small data sets of the user's kind, written to a folder: PNG images of
three shapes drawn with NumPy, text files of generated sentences, CSV
tables. Shared by tests/test_user_data.py and bench/input_pipeline.py."""

import numpy as np
from PIL import Image

SHAPES = ("circle", "square", "triangle")


def draw_shape(shape, size, rng):
    """One RGB uint8 image of ``shape`` at a random place, size and colour."""
    yy, xx = np.mgrid[:size, :size] / size
    cy, cx = rng.uniform(0.35, 0.65, 2)
    r = rng.uniform(0.2, 0.3)
    if shape == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r ** 2
    elif shape == "square":
        mask = (abs(yy - cy) < r * 0.8) & (abs(xx - cx) < r * 0.8)
    else:
        mask = (yy > cy - r) & (yy < cy + r) & (abs(xx - cx) < (yy - cy + r) / 2)
    image = rng.integers(0, 60, (size, size, 3))  # dark noisy background
    image[mask] = rng.integers(150, 256, 3)
    return image.astype(np.uint8)


def write_images(root, per_class=20, size=24, seed=0, fmt="png", split_folders=()):
    """``root/[split/]shape/i.png`` for the three shapes; returns ``root``."""
    rng = np.random.default_rng(seed)
    for split in split_folders or ("",):
        for shape in SHAPES:
            folder = root / split / shape
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                Image.fromarray(draw_shape(shape, size, rng)).save(folder / f"{i}.{fmt}")
    return root


TOPICS = {
    "sport": ("match", "goal", "team", "coach", "season", "score", "league", "player"),
    "food": ("soup", "bread", "recipe", "oven", "salt", "dinner", "kitchen", "sauce"),
    "music": ("song", "guitar", "album", "concert", "band", "melody", "drums", "singer"),
}
FILLER = ("the", "a", "was", "and", "very", "today", "with", "our", "new", "this")


def sentence(topic, rng, words=12):
    picks = [rng.choice(TOPICS[topic]) if rng.random() < 0.4 else rng.choice(FILLER)
             for _ in range(words)]
    return " ".join(picks).capitalize() + "."


def write_texts(root, per_class=30, seed=0):
    """``root/topic/i.txt``: a generated sentence or two per file."""
    rng = np.random.default_rng(seed)
    for topic in TOPICS:
        (root / topic).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            text = " ".join(sentence(topic, rng) for _ in range(rng.integers(1, 3)))
            (root / topic / f"{i}.txt").write_text(text, encoding="utf-8")
    return root


def write_table(path, rows=120, seed=0, target="price"):
    """A CSV of houses: two numbers, a text column and the target: ``price``
    (a number) or ``label`` (``cheap``/``dear``, from the price)."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 200, rows)
    rooms = rng.integers(1, 7, rows)
    town = rng.choice(["north", "south", "east"], rows)
    price = 2.0 * area + 15 * rooms + np.where(town == "north", 80, 0) + rng.normal(0, 10, rows)
    values = ([f"{p:.2f}" for p in price] if target == "price"
              else np.where(price > np.median(price), "dear", "cheap"))
    lines = [f"area,rooms,town,{target}"] + [
        f"{a:.1f},{r},{t},{v}" for a, r, t, v in zip(area, rooms, town, values)]
    path.write_text("\n".join(lines) + "\n")
    return path
