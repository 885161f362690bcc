"""The small core every part of the package shares, callbacks included.

| module    | what it holds                                                     |
|-----------|-------------------------------------------------------------------|
| `tasks`   | the task list, task inference, output units, loss and metrics     |
| `checks`  | argument checks: one message style naming the argument            |
| `finite`  | finding and describing NaN/Inf rows                               |
"""
