"""Where training runs: one device, all local devices, or several processes.

Keras trains data-parallel with the engine of its backend; this module picks
and sets it up from three questions (how many local devices, which
coordinator, which process am I) and gives recipes the few things that
change with it:

- one process, several devices: `tf.distribute.MirroredStrategy` on
  TensorFlow (the model is built and compiled inside `scope()`),
  `keras.distribution.DataParallel` on JAX;
- several processes (machines): JAX only. `jax.distributed.initialize`
  with a heartbeat, gloo collectives on CPU, `DataParallel` over every
  process's devices, and each process feeding its own shard of every global
  batch (`fit_inputs`). TensorFlow's `MultiWorkerMirroredStrategy` is
  broken in Keras 3's `fit` (keras-team/keras#20585), so TensorFlow refuses.

The rule for batch size and learning rate: a recipe's batch size is per
model replica (device), so the global batch is that times `replicas()`
(`batch_size()`); the learning rate is left as the recipe sets it, and
schedules count steps of the global batch.

Over Keras's own distribution API this adds: the choice of engine by
backend, the multi-process start-up (options or scheduler environment,
heartbeat, clean exit when a peer dies), batches every device can split
evenly, and `to_one_device` for the evaluation and saving after `fit`.

Example:

>>> setup(devices=1)
>>> replicas(), process_index(), is_chief(), batch_size(32)
(1, 0, True, 32)
"""

import contextlib
import os
import sys

import numpy as np

from zoo.core.checks import check_choice, check_number, check_str

HEARTBEAT_TIMEOUT_S = 30  # a dead peer ends the others within this bound
ENVIRONMENT = {  # option: environment variables read when it is not given
    "coordinator": ("KRZ_COORDINATOR",),
    "num_processes": ("KRZ_NUM_PROCESSES", "SLURM_NTASKS"),
    "process_id": ("KRZ_PROCESS_ID", "SLURM_PROCID"),
}
_OWNER = "hardware.setup"
_COUNT_FLAG = "--xla_force_host_platform_device_count"
_state = {"strategy": None, "distribution": None}


def _backend():
    import keras

    return keras.backend.backend()


def _from_environment(name, value, environ):
    if value is not None:
        return value
    for key in ENVIRONMENT[name]:
        if environ.get(key):
            return environ[key]
    return None


def setup(devices=None, coordinator=None, num_processes=None, process_id=None,
          environ=None):
    """Sets up data-parallel training for this process.

    Call it once, before any model is built (and, for several processes,
    before anything runs on JAX). On a machine without accelerators,
    `devices=N` splits the CPU into N logical devices (for trying the set-up
    out: no speed-up).

    Args:
        devices: `None` or `1` (one device, Keras's default), `"all"` (every
            local accelerator, or the CPU), or a number of local devices.
        coordinator: `"HOST:PORT"` of process 0, for several processes.
        num_processes: number of processes (`None`: one, or from the
            environment: `KRZ_NUM_PROCESSES`, then Slurm's `SLURM_NTASKS`).
        process_id: this process, `0 <= process_id < num_processes`
            (environment: `KRZ_PROCESS_ID`, then `SLURM_PROCID`).
        environ: where to read the defaults (default `os.environ`);
            `KRZ_COORDINATOR` gives `coordinator`.
    """
    environ = os.environ if environ is None else environ
    coordinator = _from_environment("coordinator", coordinator, environ)
    num_processes = check_number("num_processes", _number(_from_environment(
        "num_processes", num_processes, environ) or 1), 1, integer=True, owner=_OWNER)
    process_id = check_number("process_id", _number(_from_environment(
        "process_id", process_id, environ) or 0), 0, num_processes - 1, integer=True,
        owner=_OWNER)
    if isinstance(devices, str) and devices != "all" and not devices.strip().isdigit():
        raise ValueError(f"{_OWNER}: `devices` must be 'all' or an integer >= 1; "
                         f"got {devices!r}.")
    if devices is not None and devices != "all":
        devices = check_number("devices", _number(devices), 1, integer=True, owner=_OWNER)
    _state.update(strategy=None, distribution=None)
    if num_processes > 1:
        if _backend() != "jax":
            raise ValueError(
                f"{_OWNER}: `num_processes`={num_processes} needs the JAX backend "
                "(--backend jax): TensorFlow's MultiWorkerMirroredStrategy is "
                "broken in Keras 3's fit (keras-team/keras#20585).")
        check_str("coordinator", coordinator, owner=_OWNER, allow_empty=False,
                  hint="HOST:PORT of process 0")
        if ":" not in coordinator:
            raise ValueError(f"{_OWNER}: `coordinator` must be HOST:PORT; got {coordinator!r}.")
        _start_processes(coordinator, num_processes, process_id, devices)
    elif devices not in (None, 1):
        (_jax_devices if _backend() == "jax" else _tf_devices)(devices)


def _number(value):
    # Numbers from the command line or the environment arrive as text.
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _split_cpu(count):
    """Asks XLA for `count` CPU devices (read when JAX's backend starts)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if count > 1 and _COUNT_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_COUNT_FLAG}={count}".strip()


def _pick(devices, found, what):
    count = len(found) if devices == "all" else devices
    if count > len(found):
        raise ValueError(f"{_OWNER}: `devices`={devices} but this process sees "
                         f"{len(found)} {what}: {[str(d) for d in found]}.")
    return found[:count]


def _jax_devices(devices):
    import jax
    import keras

    if devices != "all":
        _split_cpu(devices)
    local = _pick(devices, jax.local_devices(), "JAX device(s)")
    if len(local) > 1:
        _set_distribution(keras.distribution.DataParallel(devices=local))


def _tf_devices(devices):
    import tensorflow as tf

    if devices != "all" and not tf.config.list_physical_devices("GPU"):
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:  # before TensorFlow starts its runtime
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        except RuntimeError:
            pass  # already started: use the devices it has
    found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    names = [d.name for d in _pick(devices, found, "TensorFlow device(s)")]
    if len(names) > 1:
        _state["strategy"] = tf.distribute.MirroredStrategy(names)


def _start_processes(coordinator, num_processes, process_id, devices):
    import jax
    import keras

    if devices not in (None, "all"):
        _split_cpu(devices)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes,
        process_id=process_id, initialization_timeout=120,
        heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S,
        shutdown_timeout_seconds=HEARTBEAT_TIMEOUT_S)
    sys.excepthook = _exit_now
    used = jax.devices()
    if devices not in (None, "all"):  # the first `devices` of every process
        used = [d for p in range(num_processes)
                for d in [d for d in used if d.process_index == p][:devices]]
    distribution = keras.distribution.DataParallel(devices=used)
    distribution.auto_shard_dataset = False  # `fit_inputs` shards
    _set_distribution(distribution)


def _exit_now(kind, value, traceback):
    # An error in one process (a collective whose peer died, or its own)
    # must not leave it waiting at JAX's shutdown barrier.
    sys.__excepthook__(kind, value, traceback)
    print(f"error: process {process_index()} of {process_count()} stops here. "
          "When one process of a run fails, the others end too (within "
          f"{HEARTBEAT_TIMEOUT_S} s); run the same commands again on every "
          "machine to resume from the last backup.", file=sys.stderr, flush=True)
    os._exit(1)


def _set_distribution(distribution):
    import keras

    keras.distribution.set_distribution(distribution)
    _state["distribution"] = distribution


def scope():
    """Where to build and compile the model (TensorFlow's strategy scope;
    JAX's distribution is global once set up, so nothing there)."""
    strategy = _state["strategy"]
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replicas():
    """Model replicas training together: devices over all processes."""
    if _state["strategy"] is not None:
        return _state["strategy"].num_replicas_in_sync
    if _state["distribution"] is not None:
        return int(np.size(_state["distribution"].device_mesh.devices))
    return 1


def process_count():
    """Processes training together (1 unless JAX runs distributed)."""
    if _backend() == "jax" and "jax" in sys.modules:
        import jax

        return jax.process_count()
    return 1


def process_index():
    """This process's index, 0 for the one that writes the run's files."""
    if _backend() == "jax" and "jax" in sys.modules:
        import jax

        return jax.process_index()
    return 0


def is_chief():
    """Whether this process writes TensorBoard files, backups, report, model."""
    return process_index() == 0


def barrier(name):
    """Waits until every process gets here (nothing to wait for in one)."""
    if process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def batch_size(per_replica):
    """The global batch size for a recipe's batch of `per_replica`."""
    return int(per_replica) * replicas()


def fit_inputs(x, y, batch_size, validation_data=None, seed=0):
    """Keyword arguments for `model.fit` with `batch_size` the global batch.

    On one device, or with TensorFlow's strategy (which splits batches
    itself), the arrays as they are. With JAX's `DataParallel`, every batch
    must split evenly over the devices: the training set is shuffled with
    `seed` (the same order in every process), cut into whole global batches
    (the last partial one is left out, a different one each epoch), and each
    process feeds its own slice of every global batch. Every process
    validates on the whole validation set, cut to a multiple of its devices
    (Keras's own `val_*` values; `callbacks.SklearnMetrics` scores every row).
    """
    distribution = _state["distribution"]
    if distribution is None:
        return dict(x=x, y=y, batch_size=batch_size, validation_data=validation_data)
    import jax
    import tensorflow as tf

    count, total = jax.process_count(), replicas()
    local = total // count  # devices of this process in the mesh
    check_number("batch_size", batch_size, total, integer=True, owner="hardware.fit_inputs")
    if batch_size % total:
        raise ValueError(f"hardware.fit_inputs: `batch_size`={batch_size} must be a "
                         f"multiple of the {total} devices.")
    per, start = batch_size // count, batch_size // count * jax.process_index()
    n = len(y)
    if n < batch_size:
        raise ValueError(f"hardware.fit_inputs: {n} training rows are fewer than "
                         f"one global batch of {batch_size}.")
    data = global_batches(x, y, batch_size, seed)
    data = data.map(lambda *pair: tf.nest.map_structure(lambda t: t[start:start + per], pair))
    out = dict(x=data.prefetch(2))
    if validation_data is not None:
        keep = len(validation_data[1]) // local * local
        out.update(validation_data=tf.nest.map_structure(lambda a: a[:keep], validation_data),
                   validation_batch_size=per)
    return out


def global_batches(x, y, batch_size, seed=0):
    """The `tf.data` global batches `fit_inputs` shards: `(x, y)` shuffled
    with `seed` every epoch (the same order in every process), whole
    batches of `batch_size` only."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(y), seed=seed, reshuffle_each_iteration=True).batch(
            batch_size, drop_remainder=True)


def to_one_device(model):
    """Takes `model` off the JAX device mesh after `fit`, for evaluation and
    saving: Keras's `predict` on a mesh needs batches every device can split
    and, over several processes, cannot read the outputs. Every process keeps
    the same weights (they were replicated); nothing changes on TensorFlow
    or on one device. Keras has no public call for this: it resets each
    variable's layout."""
    if _state["distribution"] is None:
        return model
    import jax
    import keras

    device = jax.local_devices()[0]
    optimizer = getattr(model, "optimizer", None)
    variables = list(model.variables) + list(getattr(model, "metrics_variables", []))
    if optimizer is not None and optimizer.built:
        variables += list(optimizer.variables)
    for variable in variables:
        value = np.asarray(variable.value)  # replicated: a local copy exists
        variable._layout = None
        variable._value = jax.device_put(value, device)
    keras.distribution.set_distribution(None)
    _state["distribution"] = None
    model.train_function = model.test_function = model.predict_function = None
    return model
