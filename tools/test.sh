#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --data
exec "${PYTHON:-python3}" -m pytest -q tests "$@"
