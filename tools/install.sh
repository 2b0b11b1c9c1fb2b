#!/usr/bin/env bash
# Install paddle_supernet and what it needs, once; safe to re-run.
# Leaves an installed PaddlePaddle (e.g. paddlepaddle-gpu) alone; installs the CPU
# wheel only when none is importable. Where the system Python refuses pip installs
# (PEP 668, stock Debian), everything goes into the project's .venv (tools/python.sh). With --data, also installs the embedded
# default data set (Debian's dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/python.sh
choose_python

want_data=0
for arg in "$@"; do [ "$arg" = "--data" ] && want_data=1; done

# Checked from / so that the working tree itself does not count as installed.
here=$(pwd)
if ! (cd / && "$PYTHON" -c "
import os, sys, paddle_supernet, paddle, paddleslim, yaml, scipy, visualdl, pytest
sys.exit(0 if os.path.samefile(os.path.dirname(paddle_supernet.__file__), os.path.join(sys.argv[1], 'paddle_supernet')) else 1)
" "$here") >/dev/null 2>&1; then
  extras="test"
  "$PYTHON" -c "import paddle" >/dev/null 2>&1 || extras="cpu,test"
  echo "[install] pip install -e .[$extras]"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[$extras]"
fi

if [ "$want_data" = 1 ] && [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "[install] apt-get install dataset-fashion-mnist"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "[install] the default data needs Debian's dataset-fashion-mnist; as root run: apt-get install dataset-fashion-mnist" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
