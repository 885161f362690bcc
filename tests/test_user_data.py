"""The user's own data: image folders, text folders and CSV files.

Loaders are checked in this process (splits, streaming, encoders, every bad
input refused with its message); the recipes run with ``--data`` in
``--quick`` mode as processes, all started together, and their reports,
TensorBoard files and saved models (reloaded in safe mode, predicting on new
raw inputs of their kind) are checked by content.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import zoo  # noqa: F401  (registers the zoo's layers for loading)
from recipe_runs import ROOT, TIMEOUT_S, recipe_env
from tb_utils import read_scalars
from user_data_files import SHAPES, TOPICS, draw_shape, sentence, write_images, write_table
from user_data_files import write_texts
from zoo.data import load_image_folder, load_path, load_table, load_text_folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("user_data")
    return {"images": write_images(root / "shapes"), "texts": write_texts(root / "texts"),
            "table": write_table(root / "homes.csv"),
            "labels": write_table(root / "labels.csv", target="label"), "root": root}


def _commands(files):
    images, texts, table = (str(files[k]) for k in ("images", "texts", "table"))
    run = ["-m", "recipes", "run"]
    return {
        "image": run + ["digits_cnn", "--data", images, "--image-size", "24"],
        "csv_label": run + ["digits_cnn", "--data", str(files["labels"]), "--target", "label"],
        "text_transformer": run + ["tokens_transformer", "--data", texts],
        "text_rnn": run + ["tokens_rnn", "--data", texts],
        "csv_price": run + ["diabetes_regression", "--data", table, "--target", "price"],
        "tune": ["-m", "recipes", "tune", "cnn.simple", "--max-trials", "1",
                 "--data", images, "--image-size", "24"],
    }


@pytest.fixture(scope="module")
def runs(files):
    """``{case: (run folder, return code, output)}``, all started together."""
    procs = {}
    for case, command in _commands(files).items():
        folder = files["root"] / "runs" / case
        procs[case] = (folder, subprocess.Popen(
            [sys.executable, *command, "--quick", "--log-dir", str(folder)], cwd=ROOT,
            env=recipe_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    out = {}
    try:
        for case, (folder, proc) in procs.items():
            text = proc.communicate(timeout=TIMEOUT_S)[0]
            out[case] = (folder, proc.returncode, text)
    finally:
        for _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    return out


def _ok(runs, case):
    folder, code, text = runs[case]
    assert code == 0, f"{case} failed:\n{text[-4000:]}"
    return folder, json.loads((folder / "report" / "report.json").read_text())


def _check_tensorboard(folder, report):
    """TensorBoard's last training and validation losses are the report's."""
    final = report["training"]["final"]
    for run, key in (("train", "loss"), ("validation", "val_loss")):
        scalars = read_scalars(folder / "tensorboard" / run)
        steps, values = zip(*scalars["epoch_loss"])
        assert steps == (0, 1) and values[-1] == pytest.approx(final[key], rel=1e-5)
    return read_scalars(folder / "tensorboard" / "validation")


def _model(folder):
    return keras.models.load_model(folder / "model.keras", safe_mode=True)


# ---- the recipes with --data ------------------------------------------------------------

def test_image_folder_recipe_predicts_on_new_raw_images(runs, tmp_path):
    folder, report = _ok(runs, "image")
    assert report["class_names"] == list(SHAPES) and report["num_samples"] == 9
    f1 = _check_tensorboard(folder, report)["sklearn/f1_macro"]
    assert f1[-1][1] == pytest.approx(report["training"]["final"]["val_f1_macro"], rel=1e-5)
    model = _model(folder)
    rng = np.random.default_rng(99)  # new images, saved and read as a user would
    for i, shape in enumerate(SHAPES):
        Image.fromarray(draw_shape(shape, 40, rng)).save(tmp_path / f"{i}.png")
    raw = np.stack([keras.utils.img_to_array(keras.utils.load_img(
        tmp_path / f"{i}.png", target_size=(24, 24))) for i in range(3)])
    assert raw.max() > 1  # 0-255 pixels go in
    probs = model.predict(raw, verbose=0)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    inner = model.layers[-1]  # the trained model, which reads pixels in [0, 1]
    assert np.allclose(inner.predict(raw / 255, verbose=0), probs, atol=1e-5)


def test_text_recipes_predict_on_new_strings(runs):
    rng = np.random.default_rng(7)
    new = tf.constant([sentence(topic, rng) for topic in TOPICS] + ["Zyx unheard words!"])
    for case in ("text_transformer", "text_rnn"):
        folder, report = _ok(runs, case)
        assert report["class_names"] == sorted(TOPICS)
        _check_tensorboard(folder, report)
        model = _model(folder)
        probs = model.predict(new, verbose=0)
        assert probs.shape == (4, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
        vocabulary = model.get_layer("text_encoder").get_layer(
            "text_to_token_ids").get_vocabulary()
        assert vocabulary[:2] == ["", "[UNK]"] and "guitar" in vocabulary


def _raw_rows(table, rows=None):
    lines = table.read_text().splitlines()[1:]
    cells = [line.split(",") for line in lines][:rows]
    return {"area": tf.constant([[float(c[0])] for c in cells]),
            "rooms": tf.constant([[float(c[1])] for c in cells]),
            "town": tf.constant([[c[2]] for c in cells])}


def test_csv_recipes_predict_on_raw_columns(runs, files):
    raw = _raw_rows(files["table"], 5)
    for case, task, width in (("csv_price", "regression", 1), ("csv_label", "binary", 1)):
        # The recipe's split (seed 0) fits the encoder that its saved model holds.
        table, target = (files["table"], "price") if task == "regression" else (
            files["labels"], "label")
        encoded = np.asarray(load_table(table, target, task=task).encoder(raw))
        assert encoded.shape == (5, 6)  # area, rooms, town one-hot ([UNK], east, north, south)
        folder, report = _ok(runs, case)
        assert report["task"] == task
        _check_tensorboard(folder, report)
        model = _model(folder)
        predicted = model.predict(raw, verbose=0)
        assert predicted.shape == (5, width)
        assert np.allclose(model.get_layer("column_encoder").predict(raw, verbose=0), encoded,
                           atol=1e-5)
        assert np.allclose(model.layers[-1].predict(encoded, verbose=0), predicted, atol=1e-4)
    assert report["class_names"] == ["cheap", "dear"]
    assert ((predicted >= 0) & (predicted <= 1)).all()


def test_tune_takes_an_image_folder(runs):
    folder, code, text = runs["tune"]
    assert code == 0, text[-4000:]
    assert "Tuning cnn.simple on shapes" in text and (folder / "cnn.simple-random").is_dir()


def test_recipe_refuses_data_of_the_wrong_kind(files):
    from recipes.common import parse_args, user_data

    args = parse_args("recipe", epochs=1, argv=["--data", str(files["table"])])
    with pytest.raises(SystemExit, match=r"error: --data: `path` .*homes\.csv' holds table "
                       "data; this needs a folder of .txt files"):
        user_data(args, kinds=("text",))


# ---- loaders -------------------------------------------------------------------------------

def test_image_folder_splits_stream_and_cache(files):
    data = load_image_folder(files["images"], image_size=(16, 20), color_mode="grayscale")
    assert data.streamed and data.input_shape == (16, 20, 1) and data.sizes() == {
        "train": 42, "val": 9, "test": 9}
    assert sorted(np.bincount(data.y_test)) == [3, 3, 3]  # stratified
    assert data.streams.cache
    x, y = next(iter(data.val))
    assert x.shape == (9, 16, 20, 1) and 0 <= x.numpy().min() and x.numpy().max() <= 1
    assert (y.numpy() == data.y_val).all()  # in order, labels with their images
    train = data.pipeline("train", 42)
    first, second = (next(iter(train))[1].numpy() for _ in range(2))
    assert sorted(first) == sorted(second) and (first != second).any()  # reshuffled
    streamed = load_image_folder(files["images"], image_size=(16, 20),
                                 color_mode="grayscale", cache_mb=0)
    assert not streamed.streams.cache
    assert np.allclose(next(iter(streamed.val))[0], x)


def test_existing_split_folders_are_respected(tmp_path):
    write_images(tmp_path, per_class=6, split_folders=("train", "test"))
    data = load_path(tmp_path, image_size=8)
    assert data.sizes() == {"train": 15, "val": 3, "test": 18}
    assert all("/test/" in p for p in data.x_test)
    assert not any("/test/" in p for p in np.concatenate([data.x_train, data.x_val]))


def test_text_vocabulary_comes_from_the_training_split_only(tmp_path):
    for split in ("train", "validation", "test"):
        for topic in ("a", "b"):
            (tmp_path / split / topic).mkdir(parents=True)
            for i in range(4):
                word = "onlyintest" if split == "test" else f"word{topic}"
                (tmp_path / split / topic / f"{i}.txt").write_text(f"{word} {topic}x {i}")
    data = load_text_folder(tmp_path)
    vocabulary = data.encoder.get_layer("text_to_token_ids").get_vocabulary()
    assert "worda" in vocabulary and "onlyintest" not in vocabulary
    assert data.sizes() == {"train": 8, "val": 8, "test": 8}
    assert (data.x_test[:, 0] == 1).all()  # the unseen word is [UNK]


def test_table_is_encoded_from_training_rows(files):
    data = load_table(files["table"], "price", task="regression", seed=3)
    assert data.input_shape == (6,) and data.task == "regression"
    assert np.allclose(data.x_train[:, :2].mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train[:, :2].std(axis=0), 1, atol=1e-3)
    assert not np.allclose(data.x_test[:, :2].mean(axis=0), 0, atol=1e-3)
    assert set(data.x_train[:, 2:].sum(axis=1)) == {1.0}  # one town each
    coded = load_table(files["labels"], "label", categorical=["rooms"])
    assert coded.input_shape == (2 + 6 + 4,) and coded.task == "binary"


def test_tables_on_jax_numeric_columns_load_and_text_columns_are_refused(files):
    from tests.backends import run_snippet

    out = run_snippet(f"""
        import json
        import numpy as np
        import zoo
        from zoo.data import load_table
        try:
            load_table({str(files["labels"])!r}, "label")
        except ValueError as e:
            refused = str(e)
        data = load_table({str(files["labels"])!r}, "label", features=["area", "rooms"])
        model = zoo.build("mlp.baseline", input_shape=data.input_shape,
                          num_classes=data.num_classes, task=data.task)
        zoo.compile_model(model, task=data.task)
        model.fit(**data.fit_args(32), epochs=1, verbose=0)
        raw = {{"area": np.array([[50.0]]), "rooms": np.array([[2.0]])}}
        served = data.end_to_end(model).predict(raw, verbose=0)
        print(json.dumps({{"refused": refused, "shape": list(data.input_shape),
                          "served": np.asarray(served).shape[0]}}))
    """)
    assert out["refused"].startswith("load_table: the text or categorical column(s) "
                                     "['town'] of ")
    assert "need the TensorFlow backend (KERAS_BACKEND=tensorflow); on 'jax'" in out["refused"]
    assert "`features=[...]`" in out["refused"]
    assert out["shape"] == [2] and out["served"] == 1


# ---- bad input ------------------------------------------------------------------------------

def test_empty_folder_and_one_class_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"has no class subfolders \(it is empty\); "
                       r"expected one subfolder per class holding png/jpg/jpeg/bmp/gif"):
        load_image_folder(tmp_path)
    (tmp_path / "cats").mkdir()
    with pytest.raises(ValueError, match=r"holds no png/jpg/jpeg/bmp/gif files in its "
                       r"subfolders \['cats'\]"):
        load_image_folder(tmp_path)
    Image.new("RGB", (5, 5)).save(tmp_path / "cats" / "1.png")
    with pytest.raises(ValueError, match=r"has one class only \('cats'\); a classifier "
                       "needs at least 2"):
        load_image_folder(tmp_path)
    (tmp_path / "dogs").mkdir()
    with pytest.raises(ValueError, match=r"class folder\(s\) \['dogs'\] in .* hold no"):
        load_image_folder(tmp_path)


def test_corrupt_images_are_named_or_skipped_with_a_count(tmp_path):
    write_images(tmp_path, per_class=5)
    (tmp_path / "circle" / "broken.png").write_bytes(b"not an image at all")
    whole = (tmp_path / "square" / "0.png").read_bytes()
    (tmp_path / "square" / "cut.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"2 of 17 files in .* are not readable png/jpg/bmp"
                       r"/gif images: .*broken\.png .*cut\.png.*skip_bad_files=True"):
        load_image_folder(tmp_path, image_size=8)
    with pytest.warns(UserWarning, match=r"skipped 2 of 17 unreadable images"):
        data = load_image_folder(tmp_path, image_size=8, skip_bad_files=True)
    assert sum(data.sizes().values()) == 15


def test_mixed_sizes_and_channels_are_resized_and_said(tmp_path):
    write_images(tmp_path, per_class=4, size=20)
    Image.new("L", (33, 17), 128).save(tmp_path / "circle" / "gray.png")
    Image.new("RGBA", (8, 8)).save(tmp_path / "square" / "rgba.png")
    for fmt in ("jpg", "bmp", "gif"):  # every format Keras reads, decoded the same way
        Image.new("RGB", (20, 20), (200, 10, 10)).save(tmp_path / "triangle" / f"x.{fmt}")
    with pytest.warns(UserWarning, match=r"images in .* differ: 3 sizes .* colour modes "
                      r"\['L', 'P', 'RGB', 'RGBA'\]; all are resized to 12x12"):
        data = load_image_folder(tmp_path, image_size=12)
    shapes = {tuple(x.shape[1:]) for x, _ in data.pipeline("train", 4)}
    assert shapes == {(12, 12, 3)} and sum(data.sizes().values()) == 17
    (tmp_path / "notes.txt").write_text("where these images come from")
    with pytest.warns(UserWarning) as caught:  # this one, and the sizes again
        assert load_path(tmp_path, image_size=12).input_kind == "image"
    assert any("holds 17 images and 1 .txt files; reading the images" in str(w.message)
               for w in caught)


def test_non_utf8_text_is_named_or_skipped(tmp_path):
    write_texts(tmp_path, per_class=4)
    (tmp_path / "food" / "latin.txt").write_bytes("crème brûlée".encode("latin-1"))
    with pytest.raises(ValueError, match=r"1 of 13 files in .* are not utf-8 text: "
                       r".*latin\.txt \(byte 0xe8 at offset 2\)"):
        load_text_folder(tmp_path)
    with pytest.warns(UserWarning, match=r"skipped 1 of 13 files"):
        assert sum(load_text_folder(tmp_path, skip_bad_files=True).sizes().values()) == 12
    assert load_text_folder(tmp_path, encoding="latin-1").num_classes == 3


def test_bad_tables_are_refused_naming_the_problem(files, tmp_path):
    with pytest.raises(ValueError, match=r"Column 'cost' not found in .*homes\.csv; "
                       "columns are: area, rooms, town, price"):
        load_table(files["table"], "cost")
    text = files["table"].read_text().splitlines()
    bad = tmp_path / "bad.csv"
    cells = text[5].split(",")
    bad.write_text("\n".join(text[:5] + [",".join([cells[0], "three", *cells[2:]])] + text[6:]))
    with pytest.raises(ValueError, match=r"cannot parse columns of .*bad\.csv: 'rooms' "
                       r"\(1 of \d+ cells are not numbers, e\.g\. 'three' on line 6\)"):
        load_table(bad, "price")
    gaps = text[:3] + [",".join(["", *text[3].split(",")[1:]])] + text[4:7] + [
        text[7].replace(",north,", ",nan,").replace(",south,", ",nan,").replace(
            ",east,", ",nan,")] + text[8:]
    bad.write_text("\n".join(gaps))
    with pytest.raises(ValueError, match=r"bad\.csv has 2 lines with empty, NaN or Inf "
                       r"cells \(lines 4, 8\) in columns \['area', 'town'\]"):
        load_table(bad, "price")


def test_a_file_where_a_folder_is_needed(files):
    image = next(files["images"].rglob("*.png"))
    with pytest.raises(NotADirectoryError, match=r"is a file, and a folder is needed: "
                       "expected one subfolder per class"):
        load_image_folder(image)
    with pytest.raises(NotADirectoryError, match=r"is a file but not a \.csv table"):
        load_path(image)
    with pytest.raises(ValueError, match="this needs a folder of images"):
        load_path(files["table"], kinds=("image",), target="price")
