"""textline/models/upsert.py: one INSERT ... ON CONFLICT for the database in use, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.texting import new_sid
from textline.extensions import db
from textline.models import DeliveryReceipt
from textline.models.upsert import insert_for
from textline.texting.delivery import record_receipt


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        assert db.engine.dialect.name == request.param
    return app


def test_the_dialects_own_insert_from_a_session_an_engine_or_a_connection(any_app):
    with any_app.app_context():
        name = db.engine.dialect.name
        with db.engine.connect() as conn:
            for bind in (db.session, db.engine, conn):
                assert type(insert_for(bind, DeliveryReceipt)).__module__ == f"sqlalchemy.dialects.{name}.dml"


def test_a_retried_status_callback_is_kept_once(any_app):
    with any_app.app_context():
        sid = new_sid()
        for status, code in [("delivered", None), ("delivered", None), ("undelivered", "30003")]:
            record_receipt(sid, status, code)
        kept = db.session.scalars(select(DeliveryReceipt.status).where(DeliveryReceipt.twilio_sid == sid)).all()
        assert sorted(kept) == ["delivered", "undelivered"]
