"""The blurred preview a volunteer sees before revealing a picture, made on the server from a tiny
downscale, so the real picture's bytes never reach a browser that has not asked for them."""
from __future__ import annotations

import io

from PIL import Image, ImageFilter, UnidentifiedImageError

SIDE = 240          # the preview's longest side, in pixels
SAMPLE = 8          # the picture is first shrunk to this: colours survive, nothing recognisable
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs (a 5 MB PNG can claim gigapixels)


def blurred(data: bytes) -> bytes | None:
    """A small, heavily blurred JPEG of the picture; None if it cannot be decoded as an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (SAMPLE * 8, SAMPLE * 8))  # JPEGs decode small, cheaply
            small = image.convert("RGB")
            small.thumbnail((SAMPLE, SAMPLE))
            width, height = small.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        return None
    scale = SIDE / max(width, height)
    big = small.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    big = big.filter(ImageFilter.GaussianBlur(radius=SIDE / 12))
    out = io.BytesIO()
    big.save(out, format="JPEG", quality=60)
    return out.getvalue()
