"""What `tf.config.experimental.enable_op_determinism()` costs the recipes.

Op determinism is a process-wide switch that cannot be turned off again, so
each measurement is a fresh process that trains the digits CNN recipe's
model (``zoo.build("cnn.simple")``) for a few epochs; runs with and without
the switch alternate, and the script prints the median ratio of their fit
times (deterministic / default; 1.00 means free).

    python bench/determinism_cost.py --repeats 5 --epochs 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
import keras, tensorflow as tf
import zoo
from zoo.data import load_dataset
deterministic, epochs = sys.argv[1] == "1", int(sys.argv[2])
keras.utils.set_random_seed(0)
if deterministic:
    tf.config.experimental.enable_op_determinism()
data = load_dataset("digits", seed=0)
model = zoo.build("cnn.simple", input_shape=data.input_shape, num_classes=10)
zoo.compile_model(model, task="multiclass", optimizer="adam", learning_rate=1e-3)
model.fit(data.x_train, data.y_train, epochs=1, batch_size=32, verbose=0)  # trace
start = time.perf_counter()
model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=32, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def fit_seconds(deterministic, epochs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", CHILD, str(int(deterministic)), str(epochs)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    ratios = []
    for i in range(args.repeats):
        order = (True, False) if i % 2 else (False, True)
        times = {flag: fit_seconds(flag, args.epochs) for flag in order}
        ratios.append(times[True] / times[False])
        print(f"repeat {i + 1}: deterministic {times[True]:.2f} s, "
              f"default {times[False]:.2f} s, ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio (deterministic / default) over {args.repeats} pairs: "
          f"{statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
