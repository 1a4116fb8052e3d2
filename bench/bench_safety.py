"""What the safety machinery costs: the escalation sweep (runs every ESCALATION_SWEEP_SECONDS in beat) and
the inbound webhook with keywords, hours, crisis text and the immediate risk alert.

    python bench/bench_safety.py [--conversations 500] [--texts 200]

Uses a private redis-server and a temporary SQLite file; sends go nowhere (Celery is not started, the
tasks just queue in Redis), so it times our code and SQL, not Twilio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from tests.support.servers import RedisServer, free_port  # noqa: E402
from tests.support.state import settings  # noqa: E402
from tests.support.texting import inbound_params, twilio_signature  # noqa: E402
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, load_config  # noqa: E402

HIGH = "i have the pills in my hand and i want to kill myself tonight"
ORDINARY = "hey so school was awful today and my mom yelled again, can we talk for a bit?"


def ms(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return f"median {statistics.median(samples) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   n={len(samples)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--texts", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp)).start()
        try:
            run(Path(tmp), redis_server.url, args)
        finally:
            redis_server.stop()


def run(tmp: Path, redis_url: str, args) -> None:
    from flask_migrate import upgrade

    from textline.safety import escalation
    from textline.app import create_app
    from textline.extensions import db
    from textline.models import Conversation, Texter, utcnow

    base = f"http://127.0.0.1:{free_port()}"
    app = create_app(load_config(settings(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}", redis_url, base)))
    with app.app_context():
        upgrade()
        client = app.test_client()

        def post(number, body):
            params = inbound_params(FAKE_ACCOUNT_SID, number, body)
            sig = twilio_signature(FAKE_AUTH_TOKEN, base + "/sms/inbound", params)
            started = time.perf_counter()
            response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sig},
                                   base_url=base)
            assert response.status_code == 200, response.status_code
            return time.perf_counter() - started

        print("inbound webhook (signature, store, score, keywords, hours, queue, emits), interleaved so")
        print("every kind sees the same queue length (the queue snapshot sent to consoles grows with it):")
        kinds = {"ordinary, new conversation": ORDINARY, "high risk, new conversation": HIGH,
                 "STOP (opt-out, close)": "STOP"}
        samples = {label: [] for label in kinds}
        for n in range(args.texts):
            for i, (label, body) in enumerate(kinds.items()):
                samples[label].append(post(f"+1555{i + 2}{n:06d}", body))
        for label, got in samples.items():
            print(f"  {label:32} {ms(got)}")

        # The sweep with many live conversations: the first pass opens a wait escalation for each; later
        # passes find nothing new (the steady state every few seconds).
        now = utcnow()
        for n in range(args.conversations):
            db.session.add(Conversation(texter=Texter(phone_hash=f"{n:064x}", alias=f"Texter {n:04X}"),
                                        status="waiting", queued_at=now, waiting_since=now, opened_at=now, priority=0,
                                        risk_level="none", risk_reasons=[]))
        db.session.commit()
        later = now + timedelta(seconds=app.config["ESCALATE_WAIT_SECONDS"] + 1)
        total = db.session.query(Conversation).filter(Conversation.status == "waiting").count()
        print(f"escalation sweep with {total} waiting conversations (no advisor on the rota, so no pages):")
        passes, started = 0, time.perf_counter()
        while escalation.sweep(later)["opened"]:
            passes += 1
        print(f"  catching up: {passes} passes of at most {escalation.SWEEP_BATCH}, "
              f"{(time.perf_counter() - started) * 1000:.0f} ms in all")
        steady = []
        for _ in range(5):
            started = time.perf_counter()
            escalation.sweep(later)
            steady.append(time.perf_counter() - started)
        print(f"  steady state (nothing due)       {ms(steady)}")


if __name__ == "__main__":
    main()
