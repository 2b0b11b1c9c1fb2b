"""CVPR 2021 Track 1: ResNet20 channel search on CIFAR-100.

Code: 20 integers joined by ``-``. Fields 0-6 in {4..16}, 7-12 in {4..32},
13-19 in {4..64}, all multiples of 4. Field 19 is a dummy: kept in codes,
ignored by the network. Block k (1..9) has in = c[2k-2], mid = c[2k-1],
out = c[2k].

Example:
    >>> space = Cvpr21ResNet20()
    >>> arch = space.decode("16-4-12-16-8-16-16-24-12-8-16-4-32-52-52-52-20-40-8-44")
    >>> arch.blocks[0]
    BlockArch(index=1, cin=16, mid=4, cout=12, stride=1)
    >>> space.encode(arch) == "16-4-12-16-8-16-16-24-12-8-16-4-32-52-52-52-20-40-8-44"
    True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..errors import InputError
from .base import Choice, LayerSpec, SearchSpace, describe_allowed
from .registry import register_space

NUM_FIELDS = 20
DUMMY_FIELD = 19
FIELD_CHOICES: tuple[tuple[int, ...], ...] = tuple(
    tuple(range(4, top + 1, 4)) for top in [16] * 7 + [32] * 6 + [64] * 7
)
STAGE_STRIDES = (1, 2, 2)
BLOCKS_PER_STAGE = 3
SHORTCUT_POLICIES = ("official", "projection")
_FIELD_TOKEN = re.compile(r"[1-9][0-9]*\Z")


@dataclass(frozen=True)
class BlockArch:
    """One BasicBlock: conv3x3(cin->mid), conv3x3(mid->cout), shortcut."""

    index: int
    cin: int
    mid: int
    cout: int
    stride: int

    @property
    def first_of_stage(self) -> bool:
        return (self.index - 1) % BLOCKS_PER_STAGE == 0

    def needs_projection(self, shortcut: str = "official") -> bool:
        """Official rule: 1x1 projection on a stage's first block or when cin != cout."""
        if shortcut == "projection":
            return True
        return self.first_of_stage or self.cin != self.cout


@dataclass(frozen=True)
class ResNet20Arch:
    """A decoded 2021 arch: the 20 fields, with the network view derived."""

    fields: tuple[int, ...]

    @property
    def stem(self) -> int:
        return self.fields[0]

    @property
    def dummy(self) -> int:
        return self.fields[DUMMY_FIELD]

    @property
    def blocks(self) -> list[BlockArch]:
        c = self.fields
        return [
            BlockArch(k, c[2 * k - 2], c[2 * k - 1], c[2 * k], STAGE_STRIDES[(k - 1) // BLOCKS_PER_STAGE] if (k - 1) % BLOCKS_PER_STAGE == 0 else 1)
            for k in range(1, 10)
        ]

    @property
    def head_in(self) -> int:
        return self.fields[18]


@register_space("cvpr21_resnet20")
class Cvpr21ResNet20(SearchSpace):
    """The 2021 space; ``num_classes``/``image_size``/``in_channels`` set the counted network."""

    placeholder_acc = 0
    distributions = ("uniform",)
    field_choices = FIELD_CHOICES
    model_options = {"width_map": None, "activation": "relu", "branches": "none", "prelu_init": 0.25,
                     "teacher_weights": "shared", "freeze_teacher": False}

    @classmethod
    def check_config(cls, cfg: dict, file: str) -> None:
        """``model.width_map`` (options enhancement) maps channel options of the space to the widths
        built (positive integers); one error naming ``file`` otherwise.

        Example:
            >>> Cvpr21ResNet20.check_config({"space": "cvpr21_resnet20", "model": {"width_map": {4: 5, 8: 9}}}, "c.yaml")
        """
        width_map = cfg["model"].get("width_map")
        if width_map is None:
            return
        options = sorted({o for choices in FIELD_CHOICES for o in choices})
        if not isinstance(width_map, dict):
            raise InputError(f"must be a mapping option: width, e.g. {{4: 5, 8: 9}}, got {width_map!r}", file=file,
                             key="model.width_map")
        for option, width in width_map.items():
            if option not in options:
                raise InputError(f"key {option!r} is not a channel option of the space ({options[0]}, {options[1]}, "
                                 f"..., {options[-1]})", file=file, key="model.width_map")
            if isinstance(width, bool) or not isinstance(width, int) or width < 1:
                raise InputError(f"width for option {option} must be a positive integer, got {width!r}", file=file,
                                 key="model.width_map")

    def __init__(self, num_classes: int = 100, image_size: int = 32, in_channels: int = 3):
        self.num_classes = num_classes
        self.image_size = image_size
        self.in_channels = in_channels

    # ---- codes -----------------------------------------------------------
    def decode(self, code: str) -> ResNet20Arch:
        if not isinstance(code, str):
            raise InputError(f"arch code must be a string, got {type(code).__name__} {code!r}")
        tokens = code.split("-")
        if len(tokens) != NUM_FIELDS:
            raise InputError(f"arch code {code!r} has {len(tokens)} fields, expected {NUM_FIELDS} integers joined by '-'")
        fields = []
        for i, (token, allowed) in enumerate(zip(tokens, FIELD_CHOICES)):
            if not _FIELD_TOKEN.match(token):
                raise InputError(f"arch code {code!r}: field {i + 1} (1-based) is {token!r}, not a plain positive integer")
            value = int(token)
            if value not in allowed:
                raise InputError(f"arch code {code!r}: field {i + 1} (1-based) is {value}, allowed {describe_allowed(allowed)}")
            fields.append(value)
        return ResNet20Arch(tuple(fields))

    def encode(self, arch: ResNet20Arch) -> str:
        return "-".join(str(v) for v in arch.fields)

    def sample_code(self, rng: np.random.Generator, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(choices[rng.integers(len(choices))]) for choices in FIELD_CHOICES)

    def sample_code_skewed(self, rng: np.random.Generator, level: float, distribution: str | None = None) -> str:
        """Each field's option index is Binomial(options - 1, ``level``)."""
        self._check_distribution(distribution)
        return "-".join(str(choices[rng.binomial(len(choices) - 1, level)]) for choices in FIELD_CHOICES)

    def largest(self, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(choices[-1]) for choices in FIELD_CHOICES)

    def smallest(self, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return "-".join(str(choices[0]) for choices in FIELD_CHOICES)

    def size(self, include_dummy: bool = False) -> int:
        """Number of distinct networks (19 real fields; ``include_dummy`` counts codes)."""
        total = 1
        for i, choices in enumerate(FIELD_CHOICES):
            if i != DUMMY_FIELD or include_dummy:
                total *= len(choices)
        return total

    # ---- choices (samplers) ---------------------------------------------
    num_stages = 3

    def choices(self, distribution: str | None = None) -> list[Choice]:
        """One width choice per field (``f0`` ... ``f19``); the stage is the one whose widths the field's
        options span (field 0, the stem, counts as stage 0)."""
        self._check_distribution(distribution)
        tops = sorted({c[-1] for c in FIELD_CHOICES})
        return [Choice(f"f{i}", "width", tops.index(c[-1]), c) for i, c in enumerate(FIELD_CHOICES)]

    def compose(self, values: dict[str, int], distribution: str | None = None) -> str:
        code = "-".join(str(values[f"f{i}"]) for i in range(NUM_FIELDS))
        self.validate(code)
        return code

    def choice_values(self, code: str, distribution: str | None = None) -> dict[str, int]:
        return {f"f{i}": v for i, v in enumerate(self.decode(code).fields)}

    def layer_group(self, layer_name: str) -> int | None:
        if layer_name.startswith("blocks."):
            return int(layer_name.split(".")[1]) // BLOCKS_PER_STAGE + 1
        return super().layer_group(layer_name)

    def group_params(self, code: str, shortcut: str = "official", width_map: Mapping[int, int] | None = None,
                     prelu: bool = False) -> list[int]:
        """:meth:`layer_specs`' parameters per group (stem, stages 1-3; the classifier left out), computed
        directly from the widths: CCFS counts 400 archs a step (tested equal to the generic count)."""
        if shortcut not in SHORTCUT_POLICIES:
            raise InputError(f"unknown shortcut policy {shortcut!r}; choose one of {', '.join(SHORTCUT_POLICIES)}")
        arch = self.decode(code)
        built = (lambda c: width_map.get(c, c)) if width_map else (lambda c: c)
        stem = built(arch.stem)
        totals = [9 * self.in_channels * stem + 2 * stem, 0, 0, 0]
        for block in arch.blocks:
            cin, mid, cout = built(block.cin), built(block.mid), built(block.cout)
            count = 9 * cin * mid + 2 * mid + 9 * mid * cout + 2 * cout
            if block.needs_projection(shortcut) or cin != cout:
                count += cin * cout + 2 * cout
            totals[(block.index - 1) // BLOCKS_PER_STAGE + 1] += count + (1 if prelu else 0)
        return totals

    # ---- stand-alone network --------------------------------------------
    def layer_specs(
        self,
        code: str,
        shortcut: str = "official",
        width_map: Mapping[int, int] | None = None,
        prelu: bool = False,
    ) -> list[LayerSpec]:
        """Layers of the stand-alone ResNet20.

        ``shortcut``: ``official`` (projection on a stage's first block or when
        in != out) or ``projection`` (every block). ``width_map`` maps arch
        options to built widths (options enhancement, e.g. ``{4: 5, 8: 9}``).
        ``prelu`` adds one PReLU slope per block after the residual add.
        """
        if shortcut not in SHORTCUT_POLICIES:
            raise InputError(f"unknown shortcut policy {shortcut!r}; choose one of {', '.join(SHORTCUT_POLICIES)}")
        arch = self.decode(code)
        built = (lambda c: width_map.get(c, c)) if width_map else (lambda c: c)
        hw = self.image_size
        layers = [
            LayerSpec("conv", "stem.conv", self.in_channels, built(arch.stem), 3, 1, hw),
            LayerSpec("bn", "stem.bn", built(arch.stem), built(arch.stem)),
        ]
        for block in arch.blocks:
            hw = _conv_out(hw, 3, block.stride)
            cin, mid, cout = built(block.cin), built(block.mid), built(block.cout)
            p = f"blocks.{block.index - 1}"
            layers += [
                LayerSpec("conv", f"{p}.conv1", cin, mid, 3, block.stride, hw),
                LayerSpec("bn", f"{p}.bn1", mid, mid),
                LayerSpec("conv", f"{p}.conv2", mid, cout, 3, 1, hw),
                LayerSpec("bn", f"{p}.bn2", cout, cout),
            ]
            if block.needs_projection(shortcut) or cin != cout:
                layers += [
                    LayerSpec("conv", f"{p}.shortcut.conv", cin, cout, 1, block.stride, hw),
                    LayerSpec("bn", f"{p}.shortcut.bn", cout, cout),
                ]
            if prelu:
                layers.append(LayerSpec("prelu", f"{p}.act", 1, 1))
        layers.append(LayerSpec("linear", "head", built(arch.head_in), self.num_classes))
        return layers


def _conv_out(hw: int, kernel: int, stride: int) -> int:
    """Output side of a conv with padding kernel//2."""
    return (hw + 2 * (kernel // 2) - kernel) // stride + 1
