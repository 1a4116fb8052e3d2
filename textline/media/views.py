"""The only way a browser gets a texter's picture: our own routes, signed in, for people who may see
that conversation, never cached. Twilio's URL stays on the server.

    GET  /media/<id>/preview   the blurred preview (made on the server: no real pixels in it)
    POST /media/<id>/reveal    the picture itself; every reveal is in the audit log
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user, login_required

from textline import broadcast
from textline.accounts import audit
from textline.accounts.permissions import can_see_media
from textline.extensions import db
from textline.media import kinds, storage
from textline.models import MessageMedia, utcnow
from textline.models.texting import MEDIA_STORED

bp = Blueprint("media", __name__, url_prefix="/media")


def _viewable(media_id: int) -> MessageMedia:
    item = db.session.get(MessageMedia, media_id)
    if item is None:
        abort(404)
    if not can_see_media(current_user, item, current_app.config["MEDIA_ADULT_FIRST"]):
        abort(403)
    return item


def _private(data: bytes, content_type: str) -> Response:
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/<int:media_id>/preview")
@login_required
def preview(media_id: int):
    item = _viewable(media_id)
    if item.state != MEDIA_STORED or item.preview_key is None:
        abort(404)
    try:
        data = storage.current().read(item.preview_key)
    except FileNotFoundError:
        abort(404)
    return _private(data, "image/jpeg")


@bp.post("/<int:media_id>/reveal")
@login_required
def reveal(media_id: int):
    item = _viewable(media_id)
    if item.state != MEDIA_STORED or not kinds.is_picture(item.content_type):
        abort(404)
    try:
        data = storage.current().read(item.storage_key)
    except FileNotFoundError:
        abort(404)
    first_adult = current_user.is_supervisor and item.adult_viewed_at is None
    if first_adult:
        item.adult_viewed_at, item.adult_viewed_by_id = utcnow(), current_user.id
    audit.record("media.reveal", current_user, "media", item.id, conversation_id=item.message.conversation_id,
                 first_adult=first_adult)
    if first_adult:  # the volunteer's console learns an adult has looked (and, adults first, may now show it)
        broadcast.message_added(item.message)
    return _private(data, kinds.base_type(item.content_type))
