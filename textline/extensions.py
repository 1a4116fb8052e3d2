"""Flask extension objects, created once and bound to the app in create_app()."""
import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from textline.models.base import Base

db = SQLAlchemy(model_class=Base)
# The database did not answer (down, unreachable, or no connection free in time): nothing was written.
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
migrate = Migrate()
socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """SQLite shared by web and worker processes: WAL lets readers run beside a writer. How long a writer
    waits its turn is the connection's timeout (SQLITE_BUSY_TIMEOUT, config.engine_options)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
