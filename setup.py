"""paddle_supernet: one-shot NAS supernets on PaddlePaddle + PaddleSlim.

PaddlePaddle itself is an extra so that a user's paddlepaddle-gpu is never
replaced: ``pip install -e .[cpu]`` on a CPU machine, ``pip install -e .`` next
to an installed paddlepaddle-gpu (2.6.x or 3.x).
"""
from setuptools import find_packages, setup

setup(
    name="paddle_supernet",
    version="0.1.0",
    description="Weight-sharing supernets for one-shot NAS on PaddlePaddle; CVPR 2021/2022 Lightweight NAS methods",
    python_requires=">=3.9",
    packages=find_packages(include=["paddle_supernet", "paddle_supernet.*"]),
    install_requires=[
        "paddleslim==2.6.0",  # the OFA super layers we subclass; its internals are version-specific
        # paddleslim 2.6.0 imports these without declaring them
        "six",
        "requests",
        "decorator",
        "numpy",
        "scipy>=1.7",
        "pyyaml>=5.1",
        "visualdl>=2.5",
        "matplotlib",
    ],
    extras_require={
        "cpu": ["paddlepaddle>=2.6"],
        "test": ["pytest>=7"],
    },
    entry_points={"console_scripts": ["paddle-supernet=paddle_supernet.cli:main"]},
)
