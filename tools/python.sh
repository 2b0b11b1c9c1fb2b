# Sourced by the tools: sets PYTHON to the interpreter the project runs on, creating the project's
# virtualenv when needed. In order: $PYTHON if set; the active virtualenv or conda environment;
# python3 itself when pip may install into it; otherwise (a stock Debian or Ubuntu, whose own
# Python refuses pip installs: PEP 668) .venv in the repository, made with --system-site-packages so
# that an installed paddlepaddle(-gpu) stays visible and is never replaced. A missing venv module
# is installed with apt-get (as root, or with sudo when it is there).
choose_python() {
  if [ -n "${PYTHON:-}" ]; then return; fi
  if [ -n "${VIRTUAL_ENV:-}" ] || [ -n "${CONDA_PREFIX:-}" ]; then PYTHON=python3; return; fi
  if ! command -v python3 >/dev/null 2>&1; then
    echo "[install] no python3 on PATH: install Python 3.9 or newer (on Debian: apt-get install python3)" >&2
    return 1
  fi
  if ! python3 -c 'import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(1 if managed and sys.prefix == sys.base_prefix else 0)' 2>/dev/null; then
    if [ ! -x .venv/bin/python ]; then
      if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        local sudo=""
        if [ "$(id -u)" != 0 ]; then
          if command -v sudo >/dev/null 2>&1; then sudo=sudo; else
            echo "[install] this Python refuses pip installs and has no venv module; as root run:" \
                 "apt-get install python3-venv" >&2
            return 1
          fi
        fi
        echo "[install] apt-get install python3-venv (for the project's .venv)"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
      fi
      echo "[install] python3 refuses pip installs here (PEP 668): creating the project's .venv"
      rm -rf .venv
      python3 -m venv --system-site-packages .venv
    fi
    PYTHON=$(pwd)/.venv/bin/python
    return
  fi
  PYTHON=python3
}
