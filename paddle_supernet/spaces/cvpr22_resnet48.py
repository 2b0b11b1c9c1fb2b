"""CVPR 2022 Track 1: ResNet48 depth and width search on ImageNet.

Code: 52 digits. Digit 0 is the image-size code (always 1 = 224), digits 1-4
the stage depths, digit 5 the stem width code, then one segment per stage of
2 x max-depth digits: ``(conv1 code, conv2 code)`` per active block, ``00`` per
absent block. Width = ``make_divisible(base * ratio[code - 1], 8)``.

Distributions: ``test`` (the 45,000 test archs: conv2 codes tied within a
stage, stage 1 tied to the stem, codes 1-3/1-3/1-3/1-5/1-7 for stem and
stages 1-4) and ``free`` (every width code 1-7 independently, the challenge
README's space).

Example:
    >>> space = Cvpr22ResNet48()
    >>> arch = space.decode("1252233313000000223212122253130000000000006515000000")
    >>> arch.depths, arch.stem_width
    ((2, 5, 2, 2), 56)
    >>> [(b.mid, b.cout) for b in arch.stage_blocks(0)]
    [(56, 56), (64, 56)]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import Choice, LayerSpec, SearchSpace, describe_allowed
from .registry import register_space

CODE_LENGTH = 52
IMAGE_SIZE_CODES = {1: 224}
MAX_DEPTHS = (5, 5, 8, 5)
DEPTH_RANGES = ((2, 5), (2, 5), (2, 8), (2, 5))
BASE_WIDTHS = (64, 128, 256, 512)
STEM_BASE = 64
STAGE_STRIDES = (1, 2, 2, 2)
WIDTH_RATIOS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)
FREE_CODES = tuple(range(1, len(WIDTH_RATIOS) + 1))
#: largest width code per stage in the test distribution: (stem, stage1..4)
TEST_MAX_CODE = (3, 3, 3, 5, 7)
#: largest width code per stage (stem, stage1..4) by distribution: ``test`` (the official test
#: list), ``tied`` (the official baseline's sampling: all 7 ratios, stage outputs tied as in the
#: test list; trap T15) and ``free`` (all 7 ratios, every block's output free)
DISTRIBUTION_TOPS = {"test": TEST_MAX_CODE, "tied": (7,) * 5, "free": (7,) * 5}
_SEGMENT_START = tuple(6 + 2 * sum(MAX_DEPTHS[:s]) for s in range(4))


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round to the nearest multiple of ``divisor`` (at least ``min_value``), not >10% below.

    >>> make_divisible(64 * 0.9), make_divisible(64 * 0.95)
    (56, 64)
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def width_of(base: int, code: int, width_scale: float = 1.0) -> int:
    """Channels of a conv with base width ``base`` and width code ``code`` (1-7).

    ``width_scale`` (small-image variant) scales the base width and the divisor 8
    alike, so every width is exactly ``width_scale`` times the official one and
    codes that differ officially still differ (see :func:`check_width_scale`).

    >>> [width_of(64, k, 0.25) for k in range(1, 8)]
    [16, 16, 14, 14, 12, 12, 12]
    """
    divisor = divisor_for(width_scale)
    return make_divisible(base * width_scale * WIDTH_RATIOS[code - 1], divisor)


def divisor_for(width_scale: float) -> int:
    """The make_divisible divisor at ``width_scale``: ``8 * width_scale``, which must be a whole number >= 1."""
    divisor = 8 * width_scale
    if not isinstance(width_scale, (int, float)) or isinstance(width_scale, bool) or divisor < 1 \
            or abs(divisor - round(divisor)) > 1e-9:
        raise InputError(f"width_scale {width_scale!r} must make 8 x width_scale a whole number >= 1 "
                         "(e.g. 0.125, 0.25, 0.5, 1)", key="model.width_scale")
    return int(round(divisor))


def check_width_scale(width_scale: float) -> float:
    """``width_scale`` if usable (see :func:`divisor_for`), else :class:`InputError`."""
    divisor_for(width_scale)
    return float(width_scale)


@dataclass(frozen=True)
class Block48:
    """One BasicBlock of ResNet48: conv3x3(cin->mid, stride), conv3x3(mid->cout)."""

    stage: int
    index: int
    cin: int
    mid: int
    cout: int
    stride: int
    mid_code: int
    out_code: int

    @property
    def needs_projection(self) -> bool:
        """1x1 conv + BN at a stage transition; also when cin != cout (free distribution only)."""
        return self.stride != 1 or self.cin != self.cout


@dataclass(frozen=True)
class ResNet48Arch:
    """A decoded 2022 arch."""

    image_code: int
    depths: tuple[int, int, int, int]
    stem_code: int
    block_codes: tuple[tuple[tuple[int, int], ...], ...]  # per stage, per active block (conv1, conv2)

    @property
    def image_size(self) -> int:
        return IMAGE_SIZE_CODES[self.image_code]

    @property
    def stem_width(self) -> int:
        return width_of(STEM_BASE, self.stem_code)

    def stem_channels(self, width_scale: float = 1.0) -> int:
        return width_of(STEM_BASE, self.stem_code, width_scale)

    def blocks(self, width_scale: float = 1.0) -> list[Block48]:
        """The active blocks in order, with their widths at ``width_scale``."""
        out, cin = [], self.stem_channels(width_scale)
        for s, codes in enumerate(self.block_codes):
            for j, (mid_code, out_code) in enumerate(codes):
                cout = width_of(BASE_WIDTHS[s], out_code, width_scale)
                stride = STAGE_STRIDES[s] if j == 0 else 1
                mid = width_of(BASE_WIDTHS[s], mid_code, width_scale)
                out.append(Block48(s, j, cin, mid, cout, stride, mid_code, out_code))
                cin = cout
        return out

    def stage_blocks(self, stage: int, width_scale: float = 1.0) -> list[Block48]:
        return [b for b in self.blocks(width_scale) if b.stage == stage]


@register_space("cvpr22_resnet48")
class Cvpr22ResNet48(SearchSpace):
    """The 2022 space; ``num_classes`` sets the counted classifier."""

    placeholder_acc = 0.0
    distributions = ("test", "tied", "free")
    model_options = {"small_input": False, "width_scale": 1.0, "distribution": None, "bn_stats": "batch",
                     "pretrained": None, "reorder": False}

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, image_size: int | None = None):
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.image_size = image_size  # None: the size the code's digit 0 says

    # ---- codes -----------------------------------------------------------
    def decode(self, code: str) -> ResNet48Arch:
        if not isinstance(code, str):
            raise InputError(f"arch code must be a string, got {type(code).__name__} {code!r}")
        if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
            raise InputError(f"arch code {code!r} must be exactly {CODE_LENGTH} digits, got {len(code)} characters")
        digits = [int(ch) for ch in code]

        def check(field: int, value: int, allowed) -> None:
            if value not in allowed:
                raise InputError(f"arch code {code!r}: digit {field} is {value}, allowed {describe_allowed(sorted(allowed))}")

        check(0, digits[0], IMAGE_SIZE_CODES)
        depths = []
        for s, (low, high) in enumerate(DEPTH_RANGES):
            check(1 + s, digits[1 + s], range(low, high + 1))
            depths.append(digits[1 + s])
        check(5, digits[5], FREE_CODES)
        stages = []
        for s in range(4):
            blocks = []
            for j in range(MAX_DEPTHS[s]):
                pos = _SEGMENT_START[s] + 2 * j
                if j < depths[s]:
                    check(pos, digits[pos], FREE_CODES)
                    check(pos + 1, digits[pos + 1], FREE_CODES)
                    blocks.append((digits[pos], digits[pos + 1]))
                else:
                    for field in (pos, pos + 1):
                        if digits[field] != 0:
                            raise InputError(f"arch code {code!r}: digit {field} is {digits[field]}, allowed {{0}}: it "
                                             f"belongs to block {j + 1} of stage {s + 1}, which depth {depths[s]} leaves "
                                             "absent, so it must be 0")
            stages.append(tuple(blocks))
        return ResNet48Arch(digits[0], tuple(depths), digits[5], tuple(stages))

    def encode(self, arch: ResNet48Arch) -> str:
        parts = [str(arch.image_code), "".join(str(d) for d in arch.depths), str(arch.stem_code)]
        for s, blocks in enumerate(arch.block_codes):
            seg = "".join(f"{a}{b}" for a, b in blocks)
            parts.append(seg + "00" * (MAX_DEPTHS[s] - len(blocks)))
        return "".join(parts)

    def in_test_distribution(self, code: str) -> bool:
        """True when ``code`` could be a test-set arch (tied outputs, per-stage code ranges)."""
        return self.in_distribution(code, "test")

    def in_distribution(self, code: str, distribution: str) -> bool:
        """True when ``distribution`` can draw ``code``: any valid code for ``free``; tied stage
        outputs (stage 1's = the stem's) for ``tied``; tied and within each stage's codes for ``test``.

            >>> space = Cvpr22ResNet48()
            >>> largest = space.largest()
            >>> code = largest[:5] + "7" + largest[6:]  # stem code 7, stage 1's outputs still 1
            >>> space.in_distribution(code, "tied"), space.in_distribution(code, "free")
            (False, True)
        """
        distribution = self._check_distribution(distribution)
        arch = self.decode(code)
        if distribution == "free":
            return True
        tops = DISTRIBUTION_TOPS[distribution]
        if arch.stem_code > tops[0]:
            return False
        for s, blocks in enumerate(arch.block_codes):
            outs = {o for _, o in blocks}
            if len(outs) != 1 or max(max(b) for b in blocks) > tops[s + 1]:
                return False
            if s == 0 and outs != {arch.stem_code}:
                return False
        return True

    def sample_code(self, rng: np.random.Generator, distribution: str | None = None) -> str:
        return self._draw_code(lambda low, high, wide_end: int(rng.integers(low, high + 1)), distribution)

    def sample_code_skewed(self, rng: np.random.Generator, level: float, distribution: str | None = None) -> str:
        """Depths lean deeper and channel codes wider (smaller) as ``level`` goes to 1."""
        def draw(low: int, high: int, wide_end: int) -> int:
            step = int(rng.binomial(high - low, level))
            return low + step if wide_end == high else high - step

        return self._draw_code(draw, distribution)

    def _draw_code(self, draw, distribution: str | None) -> str:
        """``draw(low, high, wide_end)`` picks an integer in [low, high]; ``wide_end`` is the larger network's end."""
        distribution = self._check_distribution(distribution)
        depths = tuple(draw(low, high, high) for low, high in DEPTH_RANGES)

        def width(top: int) -> int:  # channel code 1 is the widest
            return draw(1, top, 1)

        tops = DISTRIBUTION_TOPS[distribution]
        stem = width(tops[0])
        stages = []
        for s, d in enumerate(depths):
            top = tops[s + 1]
            if distribution == "free":  # every block's output drawn after its conv1
                stages.append(tuple((width(top), width(top)) for _ in range(d)))
            else:  # one output per stage (stage 1's is the stem's), drawn before the stage's conv1s
                out = stem if s == 0 else width(top)
                stages.append(tuple((width(top), out) for _ in range(d)))
        stages = tuple(stages)
        return self.encode(ResNet48Arch(1, depths, stem, stages))

    def largest(self, distribution: str | None = None) -> str:
        self._check_distribution(distribution)
        return self.encode(ResNet48Arch(1, tuple(h for _, h in DEPTH_RANGES), 1, tuple(((1, 1),) * h for _, h in DEPTH_RANGES)))

    def smallest(self, distribution: str | None = None) -> str:
        distribution = self._check_distribution(distribution)
        tops = DISTRIBUTION_TOPS[distribution]
        stages = tuple(((tops[s + 1], tops[s + 1]),) * low for s, (low, _) in enumerate(DEPTH_RANGES))
        return self.encode(ResNet48Arch(1, tuple(low for low, _ in DEPTH_RANGES), tops[0], stages))

    # ---- choices (samplers) ---------------------------------------------
    num_stages = 4

    def choices(self, distribution: str | None = None) -> list[Choice]:
        """Depths ``d1``-``d4``, then the widths. ``test``: ``stem`` (= stage 1's outputs), ``s{2,3,4}.out``
        (the stage's tied conv2 outputs) and ``s{s}.b{j}.mid`` (conv1 of block j); ``free``: ``stem`` and
        ``s{s}.b{j}.mid`` / ``s{s}.b{j}.out`` for every block. Blocks are numbered from 1; a block's choices
        are ignored when the depth leaves it absent. The stem is stage 0. ``tied``: as ``test`` with all 7 codes."""
        distribution = self._check_distribution(distribution)
        out = [Choice(f"d{s + 1}", "depth", s, tuple(range(low, high + 1))) for s, (low, high) in enumerate(DEPTH_RANGES)]
        tops = DISTRIBUTION_TOPS[distribution]
        out.append(Choice("stem", "width", 0, tuple(range(1, tops[0] + 1))))
        for s in range(4):
            codes = tuple(range(1, tops[s + 1] + 1))
            if distribution != "free" and s > 0:
                out.append(Choice(f"s{s + 1}.out", "width", s, codes))
            for j in range(MAX_DEPTHS[s]):
                out.append(Choice(f"s{s + 1}.b{j + 1}.mid", "width", s, codes))
                if distribution == "free":
                    out.append(Choice(f"s{s + 1}.b{j + 1}.out", "width", s, codes))
        return out

    def compose(self, values: dict[str, int], distribution: str | None = None) -> str:
        distribution = self._check_distribution(distribution)
        depths = tuple(int(values[f"d{s + 1}"]) for s in range(4))
        stages = []
        for s, d in enumerate(depths):
            if distribution == "free":
                outs = [values[f"s{s + 1}.b{j + 1}.out"] for j in range(d)]
            else:
                outs = [values["stem"] if s == 0 else values[f"s{s + 1}.out"]] * d
            stages.append(tuple((int(values[f"s{s + 1}.b{j + 1}.mid"]), int(outs[j])) for j in range(d)))
        code = self.encode(ResNet48Arch(1, depths, int(values["stem"]), tuple(stages)))
        self.validate(code)
        if not self.in_distribution(code, distribution):
            raise InputError(f"arch code {code!r} is outside the {distribution} distribution")
        return code

    def choice_values(self, code: str, distribution: str | None = None) -> dict[str, int]:
        distribution = self._check_distribution(distribution)
        if not self.in_distribution(code, distribution):
            raise InputError(f"arch code {code!r} is outside the {distribution} distribution")
        arch = self.decode(code)
        values = {f"d{s + 1}": d for s, d in enumerate(arch.depths)}
        values["stem"] = arch.stem_code
        for s, blocks in enumerate(arch.block_codes):
            for j, (mid, out) in enumerate(blocks):
                values[f"s{s + 1}.b{j + 1}.mid"] = mid
                if distribution == "free":
                    values[f"s{s + 1}.b{j + 1}.out"] = out
                elif s > 0:
                    values[f"s{s + 1}.out"] = out
        return values

    def group_params(self, code: str, small_input: bool = False, width_scale: float = 1.0,
                     image_size: int | None = None) -> list[int]:
        """:meth:`SearchSpace.group_params` from the blocks directly (4x faster than the layer list)."""
        check_width_scale(width_scale)
        arch = self.decode(code)
        stem = arch.stem_channels(width_scale)
        kernel = 3 if small_input else 7
        totals = [kernel * kernel * self.in_channels * stem + 2 * stem, 0, 0, 0, 0]
        for b in arch.blocks(width_scale):
            count = 9 * b.cin * b.mid + 2 * b.mid + 9 * b.mid * b.cout + 2 * b.cout
            if b.needs_projection:
                count += b.cin * b.cout + 2 * b.cout
            totals[b.stage + 1] += count
        return totals

    # ---- stand-alone network --------------------------------------------
    def layer_specs(self, code: str, small_input: bool = False, width_scale: float = 1.0,
                    image_size: int | None = None) -> list[LayerSpec]:
        """Layers of the official stand-alone ResNet48 (stem 7x7/2 + maxpool, BasicBlocks).

        The small-image variant (what ``model.small_input`` / ``model.width_scale``
        build): ``small_input`` replaces the stem by a 3x3 stride-1 conv without
        max-pool; ``width_scale`` scales every width (see :func:`width_of`);
        ``image_size`` overrides the input side (default: the space's, else the code's).
        """
        check_width_scale(width_scale)
        arch = self.decode(code)
        hw = image_size or self.image_size or arch.image_size
        stem = arch.stem_channels(width_scale)
        kernel, stride = (3, 1) if small_input else (7, 2)
        hw = _conv_out(hw, kernel, stride)
        layers = [
            LayerSpec("conv", "stem.conv", self.in_channels, stem, kernel, stride, hw),
            LayerSpec("bn", "stem.bn", stem, stem),
        ]
        if not small_input:
            hw = _conv_out(hw, 3, 2)  # maxpool 3x3 stride 2 padding 1
        for b in arch.blocks(width_scale):
            hw = _conv_out(hw, 3, b.stride)
            p = f"stages.{b.stage}.{b.index}"
            layers += [
                LayerSpec("conv", f"{p}.conv1", b.cin, b.mid, 3, b.stride, hw),
                LayerSpec("bn", f"{p}.bn1", b.mid, b.mid),
                LayerSpec("conv", f"{p}.conv2", b.mid, b.cout, 3, 1, hw),
                LayerSpec("bn", f"{p}.bn2", b.cout, b.cout),
            ]
            if b.needs_projection:
                layers += [
                    LayerSpec("conv", f"{p}.shortcut.conv", b.cin, b.cout, 1, b.stride, hw),
                    LayerSpec("bn", f"{p}.shortcut.bn", b.cout, b.cout),
                ]
        layers.append(LayerSpec("linear", "head", arch.blocks(width_scale)[-1].cout, self.num_classes))
        return layers


def _conv_out(hw: int, kernel: int, stride: int) -> int:
    return (hw + 2 * (kernel // 2) - kernel) // stride + 1
