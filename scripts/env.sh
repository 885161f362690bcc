# Sourced by main.sh and test.sh: make sure ./.venv exists and holds the
# package (with its test extras) as declared in setup.cfg.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtual environment in $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when the packaging declaration changed since the last install.
stamp="$VENV/.keras-recipe-zoo-installed"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing keras-recipe-zoo into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
    touch "$stamp"
fi
# 3 hides a harmless tf.data "NodeDef mentions attribute" line TF logs as an error.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
export PYTHONUNBUFFERED=1
