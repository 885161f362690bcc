"""Data-parallel training over processes: speed and agreement.

Trains `cnn.simple` on the digits training split (JAX backend, CPU) with the
same global batch in 1 process and in N processes on 127.0.0.1 (one CPU
device each, gloo collectives), through `zoo.core.hardware` as the recipes
do: the same seed, each process feeding its own slice of every global
batch. Printed: samples per second (global samples over the wall time of
the timed epochs, after one warm-up epoch that compiles), and the largest
weight difference between the processes (data parallelism keeps them equal)
and between the N-process and the 1-process run (equal up to the order of
floating-point sums).

On a small CPU the processes share the cores: the figure shows the cost of
the collectives, not a speed-up. On GPUs (one per process) the step time is
compute-bound and the all-reduce rides on NCCL; expect close to N times the
samples per second for models whose step takes well over the all-reduce.

    python bench/data_parallel.py                  # 1 and 2 processes
    python bench/data_parallel.py --processes 1 2 4 --epochs 5 --batch 256
"""

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker(args):
    """One process: train, print its timing, save its weights."""
    import keras
    import numpy as np

    import zoo
    from zoo.core import hardware
    from zoo.data import load_dataset

    if args.num_processes > 1:
        hardware.setup(coordinator=f"127.0.0.1:{args.port}",
                       num_processes=args.num_processes, process_id=args.process_id)
    keras.utils.set_random_seed(0)
    data = load_dataset("digits", seed=0)
    model = zoo.build("cnn.simple", input_shape=data.input_shape,
                      num_classes=data.num_classes)
    zoo.compile_model(model, task=data.task, optimizer="adam", learning_rate=1e-3)
    if args.num_processes > 1:
        inputs = hardware.fit_inputs(data.x_train, data.y_train, args.batch)
    else:  # the same global batches, unsliced
        inputs = dict(x=hardware.global_batches(data.x_train, data.y_train, args.batch))
    model.fit(**inputs, epochs=1, verbose=0)  # compiles
    start = time.perf_counter()
    model.fit(**inputs, initial_epoch=1, epochs=1 + args.epochs, verbose=0)
    seconds = time.perf_counter() - start
    samples = args.epochs * (len(data.y_train) // args.batch) * args.batch
    np.savez(args.weights, *model.get_weights())
    print(json.dumps({"samples_per_s": samples / seconds, "seconds": seconds}), flush=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(count, args, folder):
    """Runs `count` processes together; returns their results and weights."""
    import numpy as np

    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(ROOT))
    port = _free_port()
    procs = []
    for i in range(count):
        path = os.path.join(folder, f"w{count}-{i}.npz")
        command = [sys.executable, __file__, "--worker", "--num-processes", str(count),
                   "--process-id", str(i), "--port", str(port), "--weights", path,
                   "--epochs", str(args.epochs), "--batch", str(args.batch)]
        procs.append((path, subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True)))
    results, weights = [], []
    for path, proc in procs:
        out = proc.communicate(timeout=900)[0]
        if proc.returncode:
            raise SystemExit(f"a worker failed:\n{out[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
        with np.load(path) as npz:
            weights.append([npz[k] for k in sorted(npz.files, key=lambda k: int(k[4:]))])
    return results, weights


def _max_diff(a, b):
    import numpy as np

    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs")
    parser.add_argument("--batch", type=int, default=128, help="global batch size")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--num-processes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--process-id", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--weights", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    print(f"cnn.simple on digits, JAX on CPU, global batch {args.batch}, "
          f"{args.epochs} timed epochs\n")
    print("| processes | samples/s | weights: max diff between processes "
          "| max diff vs 1 process |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        single = None
        for count in args.processes:
            results, weights = run(count, args, folder)
            speed = sum(r["samples_per_s"] for r in results) / len(results)
            between = max((_max_diff(weights[0], w) for w in weights[1:]), default=0.0)
            if count == 1:
                single = weights[0]
            versus = "" if single is None or count == 1 else f"{_max_diff(single, weights[0]):.1e}"
            print(f"| {count} | {speed:,.0f} | {between:.1e} | {versus} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
