"""The small core every part of the package shares, callbacks included.

| module    | what it holds                                                     |
|-----------|-------------------------------------------------------------------|
| `tasks`   | the task list, task inference from labels, output units, loss,    |
|           | metrics, `compile_model`                                          |
| `heads`   | what a model's output means: task from the head, loss and         |
|           | activation, labels checked against the head, logits or not        |
| `checks`  | argument checks: one message style naming owner and argument      |
| `finite`  | finding and describing NaN/Inf rows and non-finite weights        |
| `files`   | atomic file writes: a file is replaced whole or not at all        |
| `hardware`| data-parallel set-up: devices, processes, which process writes    |
"""
