"""Page images as the writers take them: decoded one at a time (Pillow), in one of
three modes (1-bit, 8-bit gray, RGB)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from PIL import Image

FLAT_MODES: Final = ("1", "L", "RGB")
_WHITE: Final[Mapping[str, int | tuple[int, int, int]]] = MappingProxyType(
    {
        "L": 255,
        "RGB": (255, 255, 255),
    }
)


def page_dpi(image: Image.Image, dpi: float) -> tuple[float, float]:
    """The image's own resolution when it states a sane one, else ``dpi``."""
    own = image.info.get("dpi")
    if isinstance(own, tuple) and len(own) == 2:
        if all(isinstance(v, (int, float)) and 10 <= v <= 100_000 for v in own):
            return float(own[0]), float(own[1])
    return dpi, dpi


def flat_image(image: Image.Image) -> Image.Image:
    """``image`` loaded in mode 1, L or RGB: transparency on white, 16-bit gray scaled
    to 8 bits, palettes and CMYK to RGB."""
    image.load()
    if image.mode in FLAT_MODES:
        return image
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        scale = 1 / 256 if image.mode != "F" else 255
        return image.convert("I").point(lambda value: value * scale).convert("L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        base = "L" if image.mode.startswith("L") else "RGB"
        background = Image.new(base, image.size, _WHITE[base])
        background.paste(image.convert(base), mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
