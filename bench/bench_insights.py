"""How long the insights page takes to compute for a busy line: milliseconds for the report, its
charts and the CSV export, over 7, 30 and 90 days of made-up history.

    python bench/bench_insights.py [--per-day 300] [--database-url postgresql://postgres@127.0.0.1/bench]

Uses a scratch SQLite file unless a database URL is given (that database is emptied first).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, time as dtime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from sqlalchemy import insert  # noqa: E402

from textline.app import create_app  # noqa: E402
from textline.extensions import db  # noqa: E402
from textline.safety.hours import load_schedule  # noqa: E402
from textline.models import Base, Conversation, Message, SurveyResponse, Texter  # noqa: E402


def fill(days: int, per_day: int, tz) -> int:
    rng = random.Random(6)
    today = datetime.now(timezone.utc).astimezone(tz).date()
    texters = [{"id": i + 1, "phone_hash": f"{i:064d}", "alias": f"Texter {i:04X}",
                "first_seen_at": datetime.now(timezone.utc), "last_seen_at": datetime.now(timezone.utc),
                "opted_out": False} for i in range(days * per_day)]
    db.session.execute(insert(Texter), texters)
    convs, surveys, answers = [], [], []
    cid = 0
    for d in range(days):
        day = today - timedelta(days=d)
        for _ in range(per_day):
            cid += 1
            opened = datetime.combine(day, dtime(18), tz) + timedelta(seconds=rng.randint(0, 4 * 3600))
            wait = rng.expovariate(1 / 150) if rng.random() > 0.05 else None
            claimed = opened + timedelta(seconds=wait) if wait is not None else None
            convs.append({"id": cid, "texter_id": cid, "status": "closed", "priority": 0,
                          "risk_level": rng.choice(["none", "none", "low", "medium", "high"]), "risk_reasons": [],
                          "opened_at": opened, "queued_at": opened, "claimed_at": claimed,
                          "closed_at": opened + timedelta(minutes=40), "training": rng.random() < 0.02,
                          "disposition": {"outcome": rng.choice(["supported", "referred", "texter_left"]),
                                          "topics": rng.sample(["school", "family", "friends", "anxiety"], 2)}})
            if claimed is not None:
                surveys.append({"conversation_id": cid, "direction": "out", "author_kind": "system",
                                "kind": "survey", "body": "?", "status": "delivered", "attempts": 1,
                                "created_at": opened + timedelta(minutes=41),
                                "updated_at": opened + timedelta(minutes=41)})
                if rng.random() < 0.3:
                    answers.append({"conversation_id": cid, "score": rng.randint(1, 5),
                                    "answered_at": opened + timedelta(minutes=45)})
    db.session.execute(insert(Conversation), convs)
    db.session.execute(insert(Message), surveys)
    db.session.execute(insert(SurveyResponse), answers)
    db.session.commit()
    return cid


def timed(fn, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-day", type=int, default=300, help="conversations per day of history")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://")})
    from textline.insights import views as insights_page
    from textline.insights.report import Period, build_report

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        tz = load_schedule().tz
        t = time.perf_counter()
        n = fill(90, args.per_day, tz)
        print(f"{db.engine.dialect.name}: {n} conversations over 90 days, loaded in {time.perf_counter() - t:.1f} s")
        today = datetime.now(timezone.utc).astimezone(tz).date()
        for days in (7, 30, 90):
            period = Period(today - timedelta(days=days - 1), today, tz)
            report = build_report(period)
            build = timed(lambda: build_report(period))
            charts = timed(lambda: insights_page._charts(report))
            export = timed(lambda: insights_page._csv(insights_page._export_rows(report, "conversations")))
            per_day = timed(lambda: insights_page._export_rows(report, "days"))
            print(f"{days:3d} days ({report.total:6d} conversations): report {build:7.1f} ms, charts {charts:6.1f} ms, "
                  f"per-conversation CSV {export:7.1f} ms, per-day CSV {per_day:6.1f} ms")


if __name__ == "__main__":
    main()
