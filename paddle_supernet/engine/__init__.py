"""The training loop and what it needs: configs, checkpoints, progress and scalar logging."""
