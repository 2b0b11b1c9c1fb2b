"""Data sets as in-memory uint8 arrays, deterministic batching and the challenge augmentation."""
from .arrays import ImageArrays
from .registry import load_dataset

__all__ = ["ImageArrays", "load_dataset"]
