"""A few-shot supernet: N copies of one supernet, each arch routed to its copy.

Sub-supernet enhancing (SSE) trains each copy on its own group of archs. The
wrapper only routes: :meth:`FewShotSupernet.set_active` picks the copy of the
code (:class:`paddle_supernet.spaces.routing.CopyRouting`) and activates the
code there; forward, export and BN calibration use that copy. Its state dict
holds ``copies.<i>.<key of the plain supernet>`` for every copy, in one
checkpoint file written atomically like any other.

Example:
    >>> model = FewShotSupernet([build() for _ in range(route.copies)], route)  # doctest: +SKIP
    >>> model.load_plain(plain_supernet.state_dict())                     # doctest: +SKIP
    >>> model.set_active(code); logits = model(images)                         # doctest: +SKIP
"""
from __future__ import annotations

import paddle


class FewShotSupernet(paddle.nn.Layer):
    """See the module docstring."""

    def __init__(self, copies: list, route):
        super().__init__()
        self.copies = paddle.nn.LayerList(copies)
        self.route = route
        self.active = 0

    def set_active(self, code: str, **options) -> None:
        self.active = self.route.group_of(code)
        self.copies[self.active].set_active(code, **options)

    def active_network(self) -> paddle.nn.Layer:
        """The copy of the active arch (what BN calibration recalibrates)."""
        return self.copies[self.active]

    def forward(self, images):
        return self.copies[self.active](images)

    def export(self, code: str):
        """The stand-alone network of ``code`` with the weights of its copy."""
        return self.copies[self.route.group_of(code)].export(code)

    def load_plain(self, state: dict) -> None:
        """Every copy starts from one plain supernet's weights (e.g. the CPT stage)."""
        for copy in self.copies:
            copy.set_state_dict(state)

    def plain_targets(self) -> list:
        """The plain supernets a full-network state (``model.pretrained``) loads into."""
        return list(self.copies)

    def group_parameters(self, group: int) -> list:
        return list(self.copies[group].parameters())

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:  # options of the plain supernet (distribution, ...) read through
            copies = self.__dict__.get("_sub_layers", {}).get("copies")
            if copies is None or name.startswith("_"):
                raise
            return getattr(copies[0], name)
