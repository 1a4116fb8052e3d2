"""People for a console test: accounts name@example.org, all on shift (where those tests start)."""
from __future__ import annotations

from textline.extensions import db
from textline.ops.cli import create_user


def on_shift(password: str, **roles: str) -> dict:
    """on_shift(PASSWORD, sam="volunteer", dana="supervisor") -> {"sam": User, "dana": User}."""
    people = {name: create_user(f"{name}@example.org", name.title(), role, password) for name, role in roles.items()}
    for person in people.values():
        person.on_shift = True
    db.session.commit()
    return people
