#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs pytest. Arguments go to pytest; given a
# test file or folder (`bash tools/test.sh tests/test_tables.py -x`), only that runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --data
source tools/python.sh
choose_python
where=(tests)
for arg in "$@"; do
  if [ -e "${arg%%::*}" ]; then where=(); break; fi
done
exec "$PYTHON" -m pytest -q "${where[@]}" "$@"
