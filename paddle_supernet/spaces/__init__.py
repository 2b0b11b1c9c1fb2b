"""Search spaces: pure Python, registered by name.

Example:
    >>> from paddle_supernet.spaces import get_space
    >>> get_space("cvpr22_resnet48").largest()[:6]
    '155851'
"""
from .base import LayerSpec, SearchSpace
from .registry import get_space, list_spaces, register_space
from . import cvpr21_resnet20, cvpr22_resnet48  # noqa: F401  (register the built-in spaces)

__all__ = ["LayerSpec", "SearchSpace", "get_space", "list_spaces", "register_space"]
