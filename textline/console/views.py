"""The volunteer console page. Its live data arrives over Socket.IO (textline/console/sockets.py)."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from textline.console import wrap_up
from textline.texting import language

bp = Blueprint("console", __name__)


@bp.get("/console")
@login_required
def console():
    return render_template("console/console.html", me=current_user, wrap=wrap_up.form_options(),
                           me_languages=[language.NAMES[c] for c in language.codes(current_user.languages)])
