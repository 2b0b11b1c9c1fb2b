"""paddle_supernet: one-shot NAS supernets on PaddlePaddle and PaddleSlim.

The pure-Python core (search spaces, challenge JSON, ranking metrics, proxies)
imports no Paddle; see :mod:`paddle_supernet.spaces`.
"""
__version__ = "0.1.0"
