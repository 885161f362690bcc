"""One process of a distributed search, for tests/test_tuning_distributed.py.

    python tests/tuning_worker.py ROLE ADDRESS DIRECTORY [--tuner-id ID]
        [--max-trials N] [--fail] [--stall] [--sleep S] [--wait-for N]
        [--worker-timeout S] [--heartbeat S] [--start-after-chief]

A tiny Dense regression on 64 synthetic samples, searched with
`keras_tuner.RandomSearch` made dependable by `zoo.tuning.distributed`.
`--fail`: every trial raises. `--stall`: the trial writes `stalled-ID` (the
test's cue to kill this process) and sleeps. `--wait-for N`: trials start
once N processes have written their `ready-ID` file, so every worker gets
a trial. `--start-after-chief`: the worker waits for the chief to end the
search before it starts. Exits 1 with the reason if the search stopped early.
"""

import argparse
import glob
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402

from zoo.tuning.distributed import DistributedSearchError  # noqa: E402
from zoo.tuning.distributed import configure_distributed, make_dependable  # noqa: E402

PROJECT = "search"


class TinyHyperModel(kt.HyperModel):
    def __init__(self, directory=None, fail=False, stall=False, sleep=0.0, wait_for=0):
        super().__init__()
        self.directory, self.fail, self.stall = directory, fail, stall
        self.sleep, self.wait_for = sleep, wait_for

    def build(self, hp):
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 2, 32), activation="relu"),
            keras.layers.Dense(1),
        ])
        model.compile(keras.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log")), "mse")
        return model

    def fit(self, hp, model, *args, **kwargs):
        if self.fail:
            raise ValueError("this hypermodel always fails")
        deadline = time.monotonic() + 120
        while len(glob.glob(os.path.join(self.directory or ".", "ready-*"))) < self.wait_for:
            if time.monotonic() > deadline:
                raise RuntimeError("the other processes never got ready")
            time.sleep(0.2)
        if self.stall:
            marker = f"stalled-{os.environ['KERASTUNER_TUNER_ID']}"
            with open(os.path.join(self.directory, marker), "w") as f:
                f.write(str(os.getpid()))
            time.sleep(300)
        time.sleep(self.sleep)
        return model.fit(*args, **kwargs)


def data():
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    return x, x.sum(axis=1)


def build_tuner(directory, max_trials, hypermodel=None, **kwargs):
    return kt.RandomSearch(
        hypermodel or TinyHyperModel(directory), objective="val_loss", max_trials=max_trials,
        directory=directory, project_name=PROJECT, seed=1, **kwargs,
    )


def search(tuner):
    x, y = data()
    tuner.search(x, y, epochs=1, batch_size=16, validation_split=0.25, verbose=0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role")
    p.add_argument("address")
    p.add_argument("directory")
    p.add_argument("--tuner-id")
    p.add_argument("--max-trials", type=int, default=4)
    p.add_argument("--max-failures", type=int, default=3)
    p.add_argument("--fail", action="store_true")
    p.add_argument("--stall", action="store_true")
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--wait-for", type=int, default=0)
    p.add_argument("--worker-timeout", type=float, default=120.0)
    p.add_argument("--heartbeat", type=float, default=10.0)
    p.add_argument("--start-after-chief", action="store_true")
    args = p.parse_args()
    # A worker slow to start: the chief ends the search and exits before it calls.
    chief_ended = os.path.join(args.directory, PROJECT, "search_end.json")
    while args.start_after_chief and not os.path.exists(chief_ended):
        time.sleep(0.2)
    env = configure_distributed(args.role, args.address, args.tuner_id)
    hypermodel = TinyHyperModel(args.directory, args.fail, args.stall, args.sleep, args.wait_for)
    tuner = build_tuner(args.directory, args.max_trials, hypermodel,
                        max_consecutive_failed_trials=args.max_failures)
    make_dependable(tuner, worker_timeout=args.worker_timeout,
                    heartbeat_interval=args.heartbeat, chief_timeout=30, connect_timeout=120)
    with open(os.path.join(args.directory, f"ready-{env['KERASTUNER_TUNER_ID']}"), "w"):
        pass
    try:
        search(tuner)
    except DistributedSearchError as error:
        sys.exit(f"search stopped: {error}")
    print(f"search done: {env['KERASTUNER_TUNER_ID']}", flush=True)


if __name__ == "__main__":
    main()
