"""Data helpers: loaders, splits, train-only scaling, the token task, CSV, checks."""

import json
import random
import socket

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from zoo.data import (
    Dataset,
    Splits,
    check_finite,
    first_marker,
    from_arrays,
    list_datasets,
    load_breast_cancer,
    load_csv,
    load_dataset,
    load_mnist1d,
    make_memory_task,
    make_order_task,
    standardize,
    train_val_test_split,
)

EXPECTED = {
    # name: (task, num_classes, input_shape, input_kind, x dtype, y dtype, total rows)
    "digits": ("multiclass", 10, (8, 8, 1), "image", np.float32, np.int64, 1797),
    "breast_cancer": ("binary", 2, (30,), "features", np.float32, np.int64, 569),
    "diabetes": ("regression", None, (10,), "features", np.float32, np.float32, 442),
    "mnist1d": ("multiclass", 10, (40, 1), "sequence", np.float32, np.int64, 5000),
    "tokens": ("multiclass", 4, (24,), "tokens", np.int32, np.int64, 2000),
    "memory": ("multiclass", 4, (200,), "tokens", np.int32, np.int64, 2000),
}


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_list_datasets():
    assert list_datasets() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dataset_loads_offline_with_promised_shapes(name, no_network):
    task, k, shape, kind, x_dtype, y_dtype, total = EXPECTED[name]
    data = load_dataset(name, seed=0)
    assert isinstance(data, Dataset) and isinstance(data, Splits)
    assert (data.task, data.num_classes, data.input_shape, data.input_kind) == (task, k, shape, kind)
    assert sum(data.sizes().values()) == total
    for x, y in (data.train, data.val, data.test):
        assert x.shape[1:] == shape and x.dtype == x_dtype
        assert y.shape == (len(x),) and y.dtype == y_dtype
        assert np.isfinite(x).all()
    if k is not None:
        assert len(data.class_names) == k
        assert set(np.unique(data.y_train)) == set(range(k))
    info = json.loads(json.dumps(data.info()))
    assert info["name"] == name and info["input_shape"] == list(shape)
    assert name in repr(data) and "train=" in repr(data)


def test_digits_pixels_scaled_to_unit_interval():
    data = load_dataset("digits")
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert data.class_names == [str(i) for i in range(10)]


def test_mnist1d_fresh_generation_is_offline_and_keeps_global_rng(no_network):
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.rand(), random.random())
    np.random.seed(123)
    random.seed(123)
    (x, y), (xt, yt) = load_mnist1d(channel_axis=False, mnist1d_args={"num_samples": 300})
    assert (np.random.rand(), random.random()) == expected
    assert x.shape == (240, 40) and xt.shape == (60, 40)
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_mnist1d_rejects_unknown_generator_argument():
    with pytest.raises(ValueError, match="num_samples"):
        load_mnist1d(mnist1d_args={"num_sample": 10})


def _row_keys(x):
    return {row.tobytes() for row in np.ascontiguousarray(x).reshape(len(x), -1)}


def test_mnist1d_validation_is_carved_from_train_only():
    (x_train, _), (x_test, y_test) = load_mnist1d()
    data = load_dataset("mnist1d", seed=0, val_size=0.2)
    np.testing.assert_array_equal(data.x_test, x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.sizes() == {"train": 3200, "val": 800, "test": 1000}
    assert _row_keys(data.x_train) | _row_keys(data.x_val) == _row_keys(x_train)
    assert not _row_keys(data.x_val) & _row_keys(x_test)
    with pytest.raises(ValueError, match="fixed test split"):
        load_dataset("mnist1d", test_size=0.1)


def test_split_is_seeded_disjoint_and_sized():
    x = np.arange(200)[:, None].astype(np.float32)
    y = np.arange(200) % 4
    a = train_val_test_split(x, y, val_size=0.1, test_size=0.25, seed=3)
    b = train_val_test_split(x, y, val_size=0.1, test_size=0.25, seed=3)
    c = train_val_test_split(x, y, val_size=0.1, test_size=0.25, seed=4)
    assert a.sizes() == {"train": 130, "val": 20, "test": 50}
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a.x_test, c.x_test)
    ids = [set(part.ravel().tolist()) for part in (a.x_train, a.x_val, a.x_test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert set().union(*ids) == set(range(200))
    np.testing.assert_array_equal(a.y_train, a.x_train.ravel().astype(int) % 4)  # rows stay paired


def test_split_is_stratified_for_classes():
    y = np.array([0] * 300 + [1] * 60 + [2] * 40)
    x = np.zeros((len(y), 2))
    s = train_val_test_split(x, y, val_size=0.2, test_size=0.2, seed=0)
    for part in (s.y_train, s.y_val, s.y_test):
        np.testing.assert_allclose(np.bincount(part) / len(part), [0.75, 0.15, 0.10], atol=0.01)


def test_stratify_auto_falls_back_but_true_explains():
    y = np.array([0] * 30 + [1] * 29 + [2])  # class 2 has one member
    x = np.zeros((60, 1))
    s = train_val_test_split(x, y, seed=0)  # auto: plain split, no error
    assert sum(s.sizes().values()) == 60
    with pytest.raises(ValueError, match="stratify=False"):
        train_val_test_split(x, y, stratify=True)
    with pytest.raises(ValueError, match="class labels"):
        train_val_test_split(x, np.linspace(0, 1, 60), stratify=True)


BAD_SPLITS = [
    ({"val_size": 1.2}, ValueError, "val_size"),
    ({"test_size": -0.1}, ValueError, "test_size"),
    ({"val_size": 0.5, "test_size": 0.5}, ValueError, "leave no training"),
    ({"val_size": True}, TypeError, "val_size"),
    ({"test_size": "0.2"}, TypeError, "test_size"),
    ({"stratify": "yes"}, ValueError, "stratify"),
    ({"test_size": 0.2, "test_data": (np.zeros((3, 1)), np.zeros(3))}, ValueError, "test_data"),
]


def test_split_rejects_bad_sizes():
    for kwargs, error, match in BAD_SPLITS:
        with pytest.raises(error, match=match):
            train_val_test_split(np.zeros((50, 1)), np.arange(50) % 2, **kwargs)


def test_split_rejects_mismatched_lengths_and_allows_empty_validation():
    with pytest.raises(ValueError, match="same number of rows"):
        train_val_test_split(np.zeros((5, 1)), np.zeros(4))
    s = train_val_test_split(np.zeros((20, 3)), np.arange(20) % 2, val_size=0, test_size=5)
    assert s.sizes() == {"train": 15, "val": 0, "test": 5} and s.x_val.shape == (0, 3)


def test_scaler_is_fitted_on_train_rows_only():
    data = load_dataset("breast_cancer", seed=0)
    x_all, _ = load_breast_cancer()
    raw_train = data.scaler.inverse_transform(data.x_train)
    np.testing.assert_allclose(data.scaler.mean_, raw_train.mean(axis=0), rtol=1e-4)
    assert not np.allclose(data.scaler.mean_, x_all.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-3)
    assert np.abs(data.x_test.mean(axis=0)).max() > 1e-3  # test statistics never used
    raw = load_dataset("breast_cancer", seed=0, standardize=False)
    assert raw.scaler is None and raw.x_train.mean() > 10


def test_standardize_keeps_image_shapes():
    x = np.random.default_rng(0).normal(5, 2, size=(40, 4, 4, 1)).astype(np.float32)
    s, scaler = standardize(train_val_test_split(x, np.arange(40) % 2, seed=0))
    assert s.x_train.shape[1:] == (4, 4, 1) and s.x_test.dtype == np.float32
    assert scaler.mean_.shape == (16,)


def _bag_of_words(x):
    docs = [" ".join(f"t{t}" for t in row if t) for row in x]
    return CountVectorizer(token_pattern=r"\S+").fit(docs), docs


def test_token_task_defeats_bag_of_words_but_order_solves_it():
    x, y = make_order_task(num_samples=3000, num_classes=4, seed=0)
    vec, docs = _bag_of_words(x)
    counts = vec.transform(docs)
    clf = LogisticRegression(max_iter=2000).fit(counts[:2000], y[:2000])
    accuracy = clf.score(counts[2000:], y[2000:])
    assert abs(accuracy - 0.25) < 0.06, accuracy  # chance is 1/4
    np.testing.assert_array_equal(first_marker(x, num_classes=4), y)  # order-aware rule: 100%
    assert np.bincount(y).min() > 600  # balanced classes


def test_token_task_padding_lengths_and_markers():
    x, y = make_order_task(num_samples=500, num_classes=3, vocab_size=12, min_len=5, max_len=16, seed=1)
    assert x.shape == (500, 16) and x.dtype == np.int32 and y.dtype == np.int64
    lengths = (x != 0).sum(axis=1)
    assert lengths.min() >= 5 and lengths.max() <= 16 and len(np.unique(lengths)) > 5
    for row, n in zip(x, lengths):
        assert (row[:n] != 0).all() and (row[n:] == 0).all()  # 0 is padding, at the end only
        assert sorted(row[(row >= 1) & (row <= 3)]) == [1, 2, 3]  # each marker exactly once
    assert x.max() < 12
    x2, y2 = make_order_task(num_samples=500, num_classes=3, vocab_size=12, min_len=5, max_len=16, seed=1)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, make_order_task(500, 3, 12, 5, 16, seed=2)[0])


@pytest.mark.parametrize("make", [make_order_task, make_memory_task])
def test_token_tasks_reject_bad_arguments(make):
    with pytest.raises(ValueError, match="vocab_size"):
        make(num_classes=4, vocab_size=5)
    with pytest.raises(ValueError, match="max_len"):
        make(min_len=10, max_len=8)
    with pytest.raises(TypeError, match="num_samples"):
        make(num_samples=10.5)
    if make is make_order_task:  # every sequence holds every marker
        with pytest.raises(ValueError, match="min_len"):
            make(num_classes=4, min_len=3)


def test_tokens_dataset_metadata():
    data = load_dataset("tokens", seed=0, num_samples=400, num_classes=2, max_len=12)
    assert (data.task, data.vocab_size, data.max_len, data.x_train.shape[1]) == ("binary", 20, 12, 12)


def test_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).round(4)
    y = np.arange(12) % 3
    path = tmp_path / "data.csv"
    lines = ["a,b,label,c"] + [f"{r[0]},{r[1]},{t},{r[2]}" for r, t in zip(x, y)]
    path.write_text("\n".join(lines) + "\n")
    x2, y2 = load_csv(path, target="label")
    np.testing.assert_allclose(x2, x, rtol=1e-6)
    np.testing.assert_array_equal(y2, y)
    assert x2.dtype == np.float32 and y2.dtype == np.int64
    x3, _ = load_csv(path, target="label", features=["c", "a"])
    np.testing.assert_allclose(x3, x[:, [2, 0]], rtol=1e-6)


def test_csv_string_labels_become_classes(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("f1,kind\n" + "".join(f"{i},{'cat' if i % 2 else 'dog'}\n" for i in range(20)))
    x, y = load_csv(path, target="kind")
    data = from_arrays(x, y, seed=0)
    assert data.task == "binary" and data.class_names == ["cat", "dog"]
    assert set(np.unique(data.y_train)) == {0, 1}


def test_csv_errors_name_columns_and_count_bad_rows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n3,,1\n5,6,0\nnan,8,1\n9,inf,0\n")
    with pytest.raises(ValueError, match=r"'target' not found .*columns are: a, b, y"):
        load_csv(path, target="target")
    with pytest.raises(ValueError, match=r"has 3 lines with NaN or Inf \(lines 3, 5, 6\)"):
        load_csv(path, target="y")
    x, _ = load_csv(path, target="y", check=False)
    assert np.isnan(x).any(axis=1).sum() == 2 and np.isinf(x).any()
    text = tmp_path / "t.csv"
    text.write_text("size,color,y\n1,red,0\n2,blue,1\n")
    with pytest.raises(ValueError, match=r"'color' \(e.g. 'red' on line 2\)"):
        load_csv(text, target="y")


def test_check_finite_counts_bad_rows():
    x = np.zeros((100, 3))
    x[4, 0], x[17, 2], x[90, 1] = np.nan, np.inf, -np.inf
    with pytest.raises(ValueError, match=r"^x has 3 rows with NaN or Inf \(rows 4, 17, 90\); allowed: finite"):
        check_finite(x)
    images = np.zeros((5, 2, 2, 1))
    images[3, 1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"x_train has 1 row with NaN or Inf \(row 3\)"):
        check_finite(images, name="x_train")
    with pytest.raises(ValueError, match=r"^y has 1 row"):
        check_finite(np.zeros((3, 1)), np.array([0.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="numeric"):
        check_finite(np.array([["a"]]))
    check_finite(np.ones((3, 2)), np.array(["a", "b", "c"]))  # string labels are fine


def test_from_arrays_refuses_nan_and_infers_tasks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    x[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"x has 1 row with NaN or Inf \(row 7\)"):
        from_arrays(x, np.zeros(60, dtype=int))
    x[7, 1] = 0.0
    assert from_arrays(x, rng.normal(size=60)).task == "regression"
    multilabel = from_arrays(x, (rng.random((60, 3)) > 0.5).astype(int))
    assert (multilabel.task, multilabel.num_classes) == ("multilabel", 3)
    assert from_arrays(x, np.arange(60) % 5).num_classes == 5
    assert from_arrays(x.astype(np.float64), np.arange(60) % 2).x_train.dtype == np.float32
    with pytest.raises(ValueError, match="Did you mean 'binary'"):
        from_arrays(x, np.arange(60) % 2, task="binray")
    with pytest.raises(ValueError, match="needs 2 classes"):
        from_arrays(x, np.arange(60) % 3, task="binary")


def test_load_dataset_rejects_unknown_names_and_options():
    with pytest.raises(ValueError, match=r"Did you mean 'digits'"):
        load_dataset("digit")
    with pytest.raises(TypeError, match="channel_axis"):
        load_dataset("mnist1d", chanel_axis=False)


def test_csv_missing_target_values_are_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,0\n2,\n3,1\n")
    with pytest.raises(ValueError, match=r"target column 'y' .* 1 line with empty or NaN values \(line 3\)"):
        load_csv(path, target="y")
