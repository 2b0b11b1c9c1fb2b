#!/usr/bin/env python3
"""The paddle-supernet command as a script, for launchers that take a file:

    python -m paddle.distributed.launch --nproc_per_node 2 tools/cli.py train --config configs/X.yaml
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paddle_supernet.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
