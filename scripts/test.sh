#!/usr/bin/env bash
# The test suite: set up .venv if needed, then run pytest.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not slow"`.
source "$(dirname "$0")/env.sh"
exec "$VENV/bin/python" -m pytest "$@"
