"""Paddle layers: PaddleSlim super layers (fixed where needed) and the networks built from them."""
