"""Keeping the terminal clean when Paddle is imported, in the main process and in spawned workers."""
import sys


def quiet_paddle_import() -> None:
    """Keep the terminal clean when Paddle is imported, hiding no real error.

    - OpenCV: Paddle probes ``cv2`` at import; the build PaddleSlim pins is compiled for numpy 1.x
      and prints a numpy-ABI ``RuntimeError`` that Paddle then catches. Nothing here uses OpenCV,
      so it is marked unavailable (``import cv2`` raises ImportError, which Paddle expects).
    - Two import-time warnings that concern building C++ extensions and distutils, not this program.

    Call it before the first ``import paddle`` of a process (the command line does; so do the workers
    ``standalone`` spawns, which import Paddle afresh):

        >>> quiet_paddle_import()  # doctest: +SKIP
    """
    import warnings

    if "cv2" not in sys.modules:
        sys.modules["cv2"] = None
    warnings.filterwarnings("ignore", message="No ccache found")
    warnings.filterwarnings("ignore", message="Setuptools is replacing distutils")
    warnings.filterwarnings("ignore", message="When training, we now always track global mean and variance")
