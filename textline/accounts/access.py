"""Role checks for HTTP routes and Socket.IO events: volunteer < supervisor < admin."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from textline.models import Role

RANK = {Role.VOLUNTEER.value: 1, Role.SUPERVISOR.value: 2, Role.ADMIN.value: 3}


def has_role(user, role: str) -> bool:
    return bool(user and user.is_authenticated and RANK.get(user.role, 0) >= RANK[role])


def role_required(role: str):
    """For views: sign-in required, then at least `role` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


supervisor_required = role_required(Role.SUPERVISOR.value)
admin_required = role_required(Role.ADMIN.value)
