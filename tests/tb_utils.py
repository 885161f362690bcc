"""Read TensorBoard event files and drive a real TensorBoard server.

Test helpers only: `read_scalars` / `read_image_tags` parse event files
with TensorBoard's own `EventAccumulator`; `tensorboard_server` starts the
`tensorboard` program on 127.0.0.1 and `get_json` / `wait_for_json` query
its HTTP API (e.g. `/data/runs`, `/data/plugin/scalars/tags`,
`/data/plugin/scalars/scalars?run=R&tag=T`, `/data/plugin/images/tags`;
`post_json` for the HParams plugin's POST requests).
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

# Never send requests for 127.0.0.1 through an http_proxy from the env.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _accumulator(run_dir):
    acc = event_accumulator.EventAccumulator(
        os.fspath(run_dir),
        size_guidance={"tensors": 0, "scalars": 0, "images": 0},
    )
    acc.Reload()
    return acc


def _tensor_tags(acc, plugin):
    return [
        tag
        for tag in acc.Tags()["tensors"]
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == plugin
    ]


def read_scalars(run_dir):
    """`{tag: [(step, value), ...]}` of every scalar in `run_dir`.

    TF2 `tf.summary.scalar` writes tensor summaries; TF1-style
    `simple_value` scalars are read too.
    """
    acc = _accumulator(run_dir)
    out = {
        tag: [(e.step, float(e.value)) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["scalars"]
    }
    for tag in _tensor_tags(acc, "scalars"):
        out[tag] = [
            (e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
            for e in acc.Tensors(tag)
        ]
    return out


def read_image_tags(run_dir):
    """`{tag: [step, ...]}` of every image summary in `run_dir`."""
    acc = _accumulator(run_dir)
    return {
        tag: [e.step for e in acc.Tensors(tag)]
        for tag in _tensor_tags(acc, "images")
    }


def read_images(run_dir):
    """`{tag: [(step, width, height, PNG bytes), ...]}` of every image
    summary in `run_dir` (one image per event, as the callbacks write)."""
    acc = _accumulator(run_dir)
    out = {}
    for tag in _tensor_tags(acc, "images"):
        out[tag] = []
        for event in acc.Tensors(tag):
            width, height, png = tensor_util.make_ndarray(event.tensor_proto)
            out[tag].append((event.step, int(width), int(height), png))
    return out


def get_json(base_url, path, timeout=30, **params):
    """GET `base_url + path` (query from `params`) and decode the JSON."""
    url = base_url + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with _OPENER.open(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def post_json(base_url, path, body, timeout=30):
    """POST `body` as JSON to `base_url + path`, as TensorBoard's frontend
    does for `/data/plugin/hparams/experiment` and `.../session_groups`,
    and decode the JSON answer."""
    request = urllib.request.Request(
        base_url + path, data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"})
    with _OPENER.open(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def wait_for_json(base_url, path, until, timeout=60, **params):
    """Poll `path` until `until(json)` is true; the server loads event files
    in the background, so fresh data shows up after a moment."""
    deadline = time.monotonic() + timeout
    while True:
        body = get_json(base_url, path, **params)
        if until(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{path} did not reach the expected content in {timeout}s; "
                f"last answer: {body!r}"
            )
        time.sleep(0.5)


def _tensorboard_command():
    # The `tensorboard` script beside this interpreter, so any venv works.
    script = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "tensorboard.main"]


@contextlib.contextmanager
def tensorboard_server(logdir, port, timeout=90, reload_interval=1):
    """Run `tensorboard --logdir logdir` on 127.0.0.1:`port`; yield its URL.

    Waits (at most `timeout` seconds) until the server answers `/data/runs`,
    and terminates it on exit (killing it if it does not stop in 10 s).
    `--load_fast=false` keeps to the Python data server (no Rust binary).
    """
    command = _tensorboard_command() + [
        "--logdir", os.fspath(logdir),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--load_fast=false",
        "--reload_interval", str(reload_interval),
    ]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env
        )

        def server_output():
            output.seek(0)
            text = output.read().decode("utf-8", "replace")
            # The reason is usually near the start, a crash dump at the end.
            return text if len(text) < 4000 else (
                text[:2000] + "\n...\n" + text[-2000:]
            )

        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"tensorboard exited with code {process.returncode}:"
                        f"\n{server_output()}"
                    )
                try:
                    get_json(base_url, "/data/runs", timeout=5)
                    break
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"tensorboard did not answer on {base_url} within "
                        f"{timeout}s:\n{server_output()}"
                    )
                time.sleep(0.25)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
