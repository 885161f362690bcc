#!/usr/bin/env bash
# The main job: set up .venv if needed, then train the default recipe
# (a CNN on scikit-learn's bundled digits) and print its test report.
# Extra arguments go to the recipe, e.g. `scripts/main.sh --quick`.
source "$(dirname "$0")/env.sh"
exec "$VENV/bin/python" -m recipes run digits_cnn "$@"
