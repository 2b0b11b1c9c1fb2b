#!/usr/bin/env bash
# The test suite against PaddlePaddle 2.6 (the newest paddlepaddle-gpu on PyPI), in its own
# virtualenv (.venv-paddle26, created once). CI runs tools/test.sh on the current 3.x wheel;
# run this before a release or after touching Paddle API calls.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-paddle26}
PADDLE=${PADDLE:-paddlepaddle==2.6.2}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import paddle_supernet, paddle, pytest" >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PADDLE"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
fi
PYTHON="$VENV/bin/python" exec bash tools/test.sh -p no:cacheprovider "$@"
