#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --data
source tools/python.sh
choose_python
exec "$PYTHON" -m pytest -q tests "$@"
