"""Schedules, LearningRateLogger, ReduceLROnPlateau and resuming them."""

import copy
import json
import math

import keras
import numpy as np
import pytest

from callbacks import schedules
from callbacks.backup_and_restore import BackupAndRestore
from callbacks.lr_logger import LearningRateLogger
from callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from probes import StopAt, linear_data
from tb_utils import read_scalars

STEPS_PER_EPOCH = 2  # 32 samples, batch 16


def _model(learning_rate=0.01):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    return model


def _fit(callbacks, epochs, model=None, **kwargs):
    model = model or _model(**kwargs)
    x, y = linear_data()
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0,
              callbacks=callbacks, shuffle=False)
    return model


def _values(schedule, steps):
    return np.array([float(schedule(s)) for s in steps])


# --- schedules: values against the published formulas ------------------


def _triangle(step, base, peak, half, mode, gamma):
    cycle = math.floor(1 + step / (2 * half))
    x = abs(step / half - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 0.5 ** (cycle - 1),
             "exp_range": gamma ** step}[mode]
    return base + (peak - base) * max(0.0, 1 - x) * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_matches_smith_formula(mode):
    schedule = schedules.get_schedule(
        "cyclic", base_learning_rate=0.1, max_learning_rate=1.0,
        step_size=5, mode=mode, gamma=0.99)
    steps = [0, 1, 5, 7, 10, 12, 15, 20, 33]
    expected = [_triangle(s, 0.1, 1.0, 5, mode, 0.99) for s in steps]
    np.testing.assert_allclose(_values(schedule, steps), expected, rtol=1e-5)
    assert float(schedule(5)) == pytest.approx(1.0 if mode != "exp_range"
                                               else 0.1 + 0.9 * 0.99 ** 5)


def test_one_cycle_matches_pytorch_formula():
    peak, total, pct, div, final_div = 1.0, 100, 0.3, 25.0, 1e4
    schedule = schedules.OneCycle(peak, total, pct, div, final_div)
    start, end = peak / div, peak / div / final_div
    rise = pct * total - 1

    def expected(step):  # torch.optim.lr_scheduler.OneCycleLR, cos anneal
        if step <= rise:
            start_lr, end_lr, pct_done = start, peak, step / rise
        else:
            start_lr, end_lr = peak, end
            pct_done = min((step - rise) / (total - 1 - rise), 1.0)
        return end_lr + (start_lr - end_lr) / 2 * (1 + math.cos(math.pi
                                                               * pct_done))

    steps = [0, 10, 29, 30, 60, 99, 150]
    np.testing.assert_allclose(_values(schedule, steps),
                               [expected(s) for s in steps], rtol=1e-4)
    assert float(schedule(0)) == pytest.approx(0.04)
    assert float(schedule(99)) == pytest.approx(4e-6, rel=1e-3)


def test_step_decay_and_warmup():
    step = schedules.get_schedule("step", initial_learning_rate=1.0,
                                  decay_steps=10, decay_rate=0.5)
    assert isinstance(step, keras.optimizers.schedules.ExponentialDecay)
    np.testing.assert_allclose(_values(step, [0, 9, 10, 25, 99]),
                               [1.0, 1.0, 0.5, 0.25, 0.5 ** 9])
    warm = schedules.get_schedule("cosine_restarts", initial_learning_rate=1.0,
                                  first_decay_steps=10, warmup_steps=4)
    after = keras.optimizers.schedules.CosineDecayRestarts(1.0, 10)
    np.testing.assert_allclose(_values(warm, [0, 1, 2, 3]),
                               [0.0, 0.25, 0.5, 0.75], atol=1e-7)
    np.testing.assert_allclose(_values(warm, [4, 9, 20, 40]),
                               _values(after, [0, 5, 16, 36]), rtol=1e-6)


@pytest.mark.parametrize("name, kwargs, expected", [
    ("exponential", {"initial_learning_rate": 1.0, "decay_steps": 10,
                     "decay_rate": 0.5}, lambda s: 0.5 ** (s / 10)),
    ("inverse_time", {"initial_learning_rate": 1.0, "decay_steps": 10,
                      "decay_rate": 0.5}, lambda s: 1 / (1 + 0.5 * s / 10)),
    ("polynomial", {"initial_learning_rate": 1.0, "decay_steps": 10,
                    "end_learning_rate": 0.0},
     lambda s: 1 - min(s, 10) / 10),
    ("piecewise_constant", {"boundaries": [5], "values": [1.0, 0.1]},
     lambda s: 1.0 if s <= 5 else 0.1),
    ("cosine", {"initial_learning_rate": 0.0, "decay_steps": 10,
                "warmup_target": 1.0, "warmup_steps": 4},
     lambda s: s / 4 if s < 4 else 0.5 * (1 + math.cos(
         math.pi * min(s - 4, 10) / 10))),
])
def test_keras_schedules_by_name(name, kwargs, expected):
    schedule = schedules.get_schedule(name.upper().replace("_", "-"),
                                      **kwargs)
    steps = [0, 2, 5, 8, 12, 20]
    np.testing.assert_allclose(_values(schedule, steps),
                               [expected(s) for s in steps], atol=1e-6)


@pytest.mark.parametrize("call, error, needles", [
    (lambda: schedules.get_schedule("linear"), ValueError,
     ["get_schedule: `name` must be one of", "one_cycle", "cyclic",
      "got 'linear'"]),
    (lambda: schedules.get_schedule(3), TypeError,
     ["get_schedule: `name` must be a string"]),
    (lambda: schedules.get_schedule("exponential", initial_lr=0.1,
                                    decay_steps=1, decay_rate=0.5),
     TypeError,
     ["unknown argument(s) ['initial_lr']", "initial_learning_rate"]),
    (lambda: schedules.get_schedule("one_cycle", max_learning_rate=0.1),
     TypeError, ["missing argument(s) ['total_steps']"]),
    (lambda: schedules.get_schedule("exponential", initial_learning_rate=-1.0,
                                    decay_steps=1, decay_rate=0.5),
     ValueError, ["`initial_learning_rate` must be a finite number >= 0"]),
    (lambda: schedules.get_schedule("step", initial_learning_rate=1.0,
                                    decay_steps=10, warmup_steps=-1),
     ValueError, ["`warmup_steps` must be an integer >= 0"]),
    (lambda: schedules.CyclicLR(0.1, 1.0, 5, mode="sine"), ValueError,
     ["CyclicLR: `mode` must be one of", "triangular2", "got 'sine'"]),
    (lambda: schedules.CyclicLR(1.0, 0.1, 5), ValueError,
     ["`max_learning_rate` must be a finite number > 1.0"]),
    (lambda: schedules.OneCycle(0.1, 3, pct_start=0.3), ValueError,
     ["pct_start * total_steps - 1"]),
    (lambda: schedules.step_decay(0.1, decay_steps=2.5), TypeError,
     ["step_decay: `decay_steps` must be an integer > 0"]),
])
def test_schedule_errors_name_the_problem(call, error, needles):
    with pytest.raises(error) as info:
        call()
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize("schedule", [
    schedules.CyclicLR(1e-3, 1e-2, step_size=3, mode="triangular2"),
    schedules.OneCycle(1e-2, total_steps=20),
    schedules.get_schedule("cosine_restarts", initial_learning_rate=1e-2,
                           first_decay_steps=5, warmup_steps=3),
    schedules.step_decay(1e-2, decay_steps=3),
], ids=["cyclic", "one_cycle", "warmup_restarts", "step"])
def test_compiled_schedule_saves_and_loads_in_safe_mode(schedule, tmp_path):
    model = _model(learning_rate=schedule)
    _fit([], epochs=1, model=model)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    optimizer = loaded.optimizer
    saved = optimizer.get_config()["learning_rate"]
    assert saved["config"] == schedule.get_config()
    assert int(optimizer.iterations) == STEPS_PER_EPOCH
    for step in range(0, 25, 3):  # the loaded schedule, at several steps
        optimizer.iterations.assign(step)
        assert float(optimizer.learning_rate) == pytest.approx(
            float(schedule(step)))


# --- LearningRateLogger --------------------------------------------------


def _tb_learning_rates(run_dir):
    return read_scalars(run_dir)["learning_rate/epoch_start"]


def test_logger_writes_schedule_rate_to_logs_and_tensorboard(tmp_path):
    schedule = schedules.CyclicLR(0.01, 0.05, step_size=3)
    model = _fit([LearningRateLogger(tmp_path)], epochs=4,
                 learning_rate=schedule)
    expected = [float(schedule(e * STEPS_PER_EPOCH)) for e in range(4)]
    np.testing.assert_allclose(model.history.history["learning_rate"],
                               expected, rtol=1e-6)
    written = _tb_learning_rates(tmp_path / "train")
    assert [step for step, _ in written] == [0, 1, 2, 3]
    np.testing.assert_allclose([v for _, v in written], expected, rtol=1e-6)


def test_logger_sees_the_rate_set_by_a_later_scheduler(tmp_path):
    scheduler = keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: 0.1 / (epoch + 1))
    logger = LearningRateLogger(tmp_path)
    model = _fit([logger, scheduler], epochs=3)
    expected = [0.1, 0.05, 0.1 / 3]
    np.testing.assert_allclose(model.history.history["learning_rate"],
                               expected, rtol=1e-6)
    np.testing.assert_allclose(
        [v for _, v in _tb_learning_rates(tmp_path / "train")], expected,
        rtol=1e-6)


def test_logger_constant_rate_without_tensorboard(tmp_path):
    model = _fit([LearningRateLogger()], epochs=2, learning_rate=0.02)
    np.testing.assert_allclose(model.history.history["learning_rate"],
                               [0.02, 0.02], rtol=1e-6)
    clone = copy.deepcopy(LearningRateLogger(tmp_path))
    assert clone.get_config() == {"log_dir": tmp_path}


# --- ReduceLROnPlateau ---------------------------------------------------


def _never_improves(**kwargs):
    # min_delta far above any change: only the first epoch is "best", so the
    # reductions follow patience/cooldown alone, whatever the losses.
    return ReduceLROnPlateau(monitor="loss", min_delta=1e6, **kwargs)


def test_plateau_patience_cooldown_min_lr():
    # Keras counts cooldown down before checking it: cooldown=2 skips one.
    plateau = _never_improves(factor=0.5, patience=1, cooldown=2,
                              min_lr=0.02)
    logger = LearningRateLogger()
    model = _fit([logger, plateau], epochs=8, learning_rate=0.1)
    np.testing.assert_allclose(
        model.history.history["learning_rate"],
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02], rtol=1e-6)
    assert plateau.get_state() == {"wait": 1, "cooldown_counter": 0,
                                   "best": plateau.best}
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


def test_plateau_matches_keras_and_sees_keys_of_later_callbacks():
    class Custom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_custom"] = [1.0, 0.9, 0.95, 0.97, 0.98, 0.99][epoch]

    def run(cls, order):
        plateau = cls(monitor="val_custom", mode="min", factor=0.5,
                      patience=2)
        callbacks = [plateau, Custom()] if order == "first" else [
            Custom(), plateau]
        return _fit(callbacks, 6, learning_rate=0.1).history.history

    ours_first = run(ReduceLROnPlateau, "first")
    keras_last = run(keras.callbacks.ReduceLROnPlateau, "last")
    assert ours_first["learning_rate"] == keras_last["learning_rate"]
    assert ours_first["learning_rate"][-1] == pytest.approx(0.05)
    with pytest.warns(UserWarning, match="val_custom"):
        run(keras.callbacks.ReduceLROnPlateau, "first")


# Only what Keras fails on (factor >= 1), would fail on later, or would
# silently ignore (NaN); what Keras accepts is in tests/test_keras_dropin.py.
@pytest.mark.parametrize("kwargs, error, needle", [
    ({"factor": 1.0}, ValueError, "`factor` must be a number < 1"),
    ({"factor": "0.5"}, TypeError, "`factor` must be a number"),
    ({"patience": float("nan")}, ValueError, "patience"),
    ({"verbose": "auto"}, TypeError, "ReduceLROnPlateau: `verbose` must be"),
    ({"min_lr": None}, TypeError, "min_lr"),
    ({"cooldown": "1"}, TypeError, "cooldown"),
])
def test_plateau_bad_arguments(kwargs, error, needle):
    with pytest.raises(error, match=needle):
        ReduceLROnPlateau(**kwargs)


def test_plateau_with_a_schedule_fails_only_when_it_reduces():
    # As in Keras: the schedule runs until a plateau calls for a reduction.
    model = _model(learning_rate=schedules.OneCycle(0.1, total_steps=40))
    with pytest.warns(UserWarning, match="schedule"):
        _fit([ReduceLROnPlateau(monitor="loss", patience=5)], 2, model=model)
    with pytest.raises(TypeError, match="epoch 2 calls for a learning rate "
                                        "reduction, but .* schedule"):
        _fit([_never_improves(patience=1)], 3, model=model)
    assert len(model.history.history["loss"]) == 2 - 1  # epoch 2 unfinished
    assert ReduceLROnPlateau.from_config(
        ReduceLROnPlateau(factor=0.3).get_config()).factor == 0.3


# --- resuming with BackupAndRestore --------------------------------------


def _interrupted_rates(make_callbacks, backup_cls, tmp_path, epochs=8,
                       stop_at=3, **model_kwargs):
    """Learning rates of an interrupted-then-resumed run."""
    backup_dir = tmp_path / "backup"
    keras.utils.set_random_seed(1)
    model = _model(**model_kwargs)
    first = [StopAt(stop_at), *make_callbacks(), backup_cls(backup_dir)]
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(first, epochs, model=model)
    rates = list(model.history.history["learning_rate"])
    _fit([*make_callbacks(), backup_cls(backup_dir)], epochs, model=model)
    return rates + model.history.history["learning_rate"]


def _uninterrupted_rates(make_callbacks, epochs=8, **model_kwargs):
    keras.utils.set_random_seed(1)
    model = _fit(make_callbacks(), epochs, **model_kwargs)
    return model.history.history["learning_rate"]


def test_plateau_resumes_mid_patience(tmp_path):
    def make():
        return [_never_improves(factor=0.5, patience=2, cooldown=2)]

    expected = _uninterrupted_rates(make, learning_rate=0.1)
    assert expected == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
    for stop_at in (2, 4):  # mid-patience (wait=1), mid-cooldown
        resumed = _interrupted_rates(make, BackupAndRestore,
                                     tmp_path / str(stop_at),
                                     stop_at=stop_at, learning_rate=0.1)
        assert resumed == pytest.approx(expected), stop_at
    # Keras's BackupAndRestore restarts the counters: a different trajectory.
    assert _interrupted_rates(make, keras.callbacks.BackupAndRestore,
                              tmp_path / "keras", stop_at=2,
                              learning_rate=0.1) != pytest.approx(expected)


def test_schedule_resumes_with_the_step_counter(tmp_path):
    def make():
        return [LearningRateLogger()]

    schedule = schedules.CyclicLR(0.01, 0.05, step_size=3, mode="triangular2")
    expected = _uninterrupted_rates(make, learning_rate=schedule)
    assert len(set(expected)) > 3
    resumed = _interrupted_rates(make, BackupAndRestore, tmp_path,
                                 learning_rate=schedule)
    assert resumed == pytest.approx(expected)


def test_backup_files_hold_callback_states(tmp_path):
    plateau = _never_improves(patience=3)
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    _fit([backup, plateau], epochs=2)
    saved = json.loads((tmp_path / "b" / "callback_states.json").read_text())
    assert saved["epoch"] == 2
    assert saved["callbacks"] == {"ReduceLROnPlateau": plateau.get_state()}
    assert copy.deepcopy(backup)._peers == {}


def test_first_backup_cut_before_its_metadata_is_not_resumed(tmp_path):
    plateau = _never_improves(patience=3)
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    _fit([backup, plateau], epochs=2)
    # As if killed during the very first save: states written, metadata not.
    (tmp_path / "b" / "training_metadata.json").unlink()
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    _fit([backup, _never_improves(patience=3)], epochs=2)
    saved = json.loads((tmp_path / "b" / "callback_states.json").read_text())
    assert saved["epoch"] == 2 and len(backup.history["loss"]) == 2


def test_an_epoch_backed_up_twice_writes_its_weights_once(tmp_path):
    # With a callback after it, the backup runs in its own place and again
    # after every callback: the second time only the states are rewritten
    # (a rewritten file is a new inode), and the `.bkp` copy stays the
    # previous epoch's, not the first backup of the same epoch.
    folder, inodes = tmp_path / "b", []

    class Inodes(keras.callbacks.Callback):
        def read(self):
            inodes.append([(folder / name).stat().st_ino for name in (
                "latest.weights.npz", "callback_states.json")])

        def on_epoch_end(self, epoch, logs=None):
            self.read()  # after the first backup of the epoch

        def on_train_end(self, logs=None):
            self.read()  # after the second

    backup = BackupAndRestore(folder, double_checkpoint=True, delete_checkpoint=False)
    _fit([backup, Inodes(), _never_improves(patience=3)], epochs=3)
    (weights, states), (weights_after, states_after) = inodes[-2:]
    assert weights_after == weights and states_after != states
    assert len({w for w, _ in inodes}) == 3  # one weights file an epoch
    read = lambda name: json.loads((folder / name).read_text())["epoch"]  # noqa: E731
    assert (read("training_metadata.json"), read("training_metadata.json.bkp")) == (3, 2)


class Counter(keras.callbacks.Callback):
    """A third-party callback following the state protocol."""

    def on_train_begin(self, logs=None):
        self.seen, self.total = [], np.zeros(2)  # resets, as callbacks do

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(epoch)
        self.total = self.total + 1

    def get_state(self):
        return {"seen": self.seen, "total": self.total,
                "scale": np.float32(2.0)}

    def set_state(self, state):
        self.seen, self.total = list(state["seen"]), state["total"]
        self.scale = state["scale"]


def _resume_counter(tmp_path, tamper=None):
    backup_dir = tmp_path / "backup"
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit([StopAt(2), BackupAndRestore(backup_dir), Counter()], 4,
             model=model)
    if tamper:
        tamper(backup_dir / "callback_states.json")
    counter = Counter()
    _fit([BackupAndRestore(backup_dir), counter], 4, model=model)
    return counter


def test_state_protocol_for_any_callback(tmp_path):
    counter = _resume_counter(tmp_path)
    assert counter.seen == [0, 1, 2, 3]
    assert isinstance(counter.total, np.ndarray)
    np.testing.assert_array_equal(counter.total, [4.0, 4.0])
    assert counter.scale == 2.0


def test_states_out_of_step_with_the_weights_are_not_restored(tmp_path):
    def tamper(path):
        saved = json.loads(path.read_text())
        path.write_text(json.dumps({**saved, "epoch": 99}))

    with pytest.warns(UserWarning, match="from epoch 99 but the weights "
                                         "from epoch 2"):
        counter = _resume_counter(tmp_path, tamper)
    assert counter.seen == [2, 3]
