"""What a media item is, as people read it, from Twilio's content type."""
from __future__ import annotations

# Pictures a browser shows safely as <img> (no SVG: it can carry script). Only these get a preview and
# a reveal; anything else is listed by type and size.
PICTURE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/bmp"})
CONTACT_TYPES = frozenset({"text/vcard", "text/x-vcard", "text/directory"})


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def kind_of(content_type: str | None) -> str:
    """picture | video | audio | contact | file"""
    base = base_type(content_type)
    if base in PICTURE_TYPES:
        return "picture"
    if base.startswith(("video/", "audio/")):
        return base.split("/", 1)[0]
    if base in CONTACT_TYPES:
        return "contact"
    return "file"


def is_picture(content_type: str | None) -> bool:
    return kind_of(content_type) == "picture"
