#!/usr/bin/env python3
"""Checkpoint + arch list in, challenge submission out (with --gt, also the ranking metrics).

    python tools/eval_submission.py --checkpoint runs/x/checkpoint.pdparams \
        --archs ../shared/data/cvpr21/Track1_final_archs.json --out submissions/x.json [--gt GT] [--set eval.calib_images=5000]

A killed evaluation resumes from OUT.part when run again.
"""
import sys

from paddle_supernet.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
