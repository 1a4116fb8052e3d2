"""Write a new Alembic migration from the models: python scripts/new_migration.py 0003_name "message".

Autogenerates against a scratch SQLite database upgraded to head, names the file and revision after
the given id, and writes UTCDateTime columns as plain timezone-aware DateTime (migrations never
import app code). Read and adjust the result before committing it.
"""
import sys, os, glob
from textline.app import create_app
db = "/tmp/mig.sqlite3"
if os.path.exists(db): os.remove(db)
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + db})
from flask_migrate import upgrade, migrate
rev_id, message = sys.argv[1], sys.argv[2]
with app.app_context():
    upgrade(directory="migrations")
    migrate(directory="migrations", message=message, rev_id=rev_id)
for f in glob.glob(f"migrations/versions/{rev_id}_*.py"):
    s = open(f).read().replace("textline.models.base.UTCDateTime(timezone=True)", "sa.DateTime(timezone=True)")
    open(f, "w").write(s)
    os.rename(f, f"migrations/versions/{rev_id}.py")
    print("wrote", f"migrations/versions/{rev_id}.py")
