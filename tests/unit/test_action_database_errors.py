"""A console action whose database does not answer is answered at once with a clear refusal (the console
then asks again), instead of raising inside the Socket.IO handler and leaving the console to wait for an
answer that never comes. The error is a real one from the driver (SQLite: a table that is not there)."""
from __future__ import annotations

from flask_login import login_user
from sqlalchemy import func, select, text

from tests.support.state import make_user
from textline.console.actions import action
from textline.extensions import db
from textline.models import User


class Events:
    @action()
    def on_read(self, _data):
        return {"rows": db.session.execute(text("SELECT * FROM a_table_that_is_not_there")).all()}

    @action()
    def on_count(self, _data):
        return {"users": db.session.scalar(select(func.count()).select_from(User))}


def test_an_action_whose_database_fails_is_refused_at_once_and_the_session_still_works(app_ctx):
    user_id = make_user(db.session, "sam@example.org").id
    db.session.remove()
    with app_ctx.test_request_context():
        login_user(db.session.get(User, user_id))
        answer = Events().on_read({})
        assert answer == {"ok": False, "error": "The database is briefly unavailable. Try again in a moment.",
                          "code": "unavailable"}
        # Rolled back: the next action in the same session works.
        assert Events().on_count({}) == {"ok": True, "users": 1}
