"""Socket.IO events: only textline/broadcast.py emits, and the browser and the server agree on every
event name (static/js/events.js mirrors broadcast.py's constants and the server's handlers)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from textline import broadcast

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "textline" / "static" / "js"
EVENTS_JS = JS / "events.js"
BUILT_IN = {"connect", "disconnect"}  # Socket.IO's own events, not ours
PAGE_SCRIPTS = sorted(p for p in JS.glob("*.js") if p != EVENTS_JS)


def _python_files():
    for package in ("textline", "workers"):
        yield from sorted((ROOT / package).rglob("*.py"))


def _js_table(name: str) -> dict[str, str]:
    block = re.search(rf"const {name} = Object\.freeze\(\{{(.*?)\}}\);", EVENTS_JS.read_text(), re.S).group(1)
    return dict(re.findall(r'^\s*([A-Z_]+): "([a-z_]+)",', block, re.M))


def _page_js() -> str:
    return "\n".join(p.read_text() for p in PAGE_SCRIPTS)


def test_only_the_broadcast_module_emits():
    offenders = []
    for path in _python_files():
        if path == ROOT / "textline" / "broadcast.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):  # socketio.emit(...), self.emit(...), emit(...)
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name == "emit" or (name == "send" and "socketio" in ast.unparse(func)):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(func)}()")
            if isinstance(node, ast.ImportFrom) and node.module == "flask_socketio":
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports flask_socketio.{a.name}"
                              for a in node.names if a.name in ("emit", "send")]
    assert not offenders, "emit only through textline/broadcast.py:\n" + "\n".join(offenders)


def test_the_broadcast_module_sends_each_event_by_its_constant():
    tree = ast.parse((ROOT / "textline" / "broadcast.py").read_text())
    sent = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_emit":
            event = node.args[0]
            assert isinstance(event, ast.Name), f"line {node.lineno}: name the event by its constant"
            sent.add(getattr(broadcast, event.id))
    assert sent == broadcast.SENT, "every event in broadcast.SENT is sent, and only those"


def test_events_js_mirrors_what_the_server_sends():
    events = _js_table("EVENTS")
    assert set(events.values()) == broadcast.SENT
    assert all(getattr(broadcast, key) == value for key, value in events.items()), "same names on both sides"


def test_the_browser_listens_for_exactly_what_the_server_sends():
    page = _page_js()
    bare = [m.group(0) for m in re.finditer(r'socket\.on\("([a-z_]+)"', page) if m.group(1) not in BUILT_IN]
    assert not bare, f"name events through events.js (EVENTS.X): {bare}"
    listened = set(re.findall(r"socket\.on\(EVENTS\.([A-Z_]+)", page))
    events = _js_table("EVENTS")
    assert listened <= set(events), f"listening for events events.js does not have: {listened - set(events)}"
    assert {events[k] for k in listened} == broadcast.SENT, \
        f"sent but never listened for: {broadcast.SENT - {events[k] for k in listened}}"


def test_the_browser_asks_for_exactly_what_the_server_handles(app):
    from textline.extensions import socketio

    handled = {event for handlers in socketio.server.handlers.values() for event in handlers}
    for handler in socketio.server.namespace_handlers.values():
        handled |= {name[3:] for name in dir(handler) if name.startswith("on_")}
    actions = _js_table("ACTIONS")
    assert set(actions.values()) == handled - BUILT_IN
    page = _page_js()
    bare = re.findall(r'socket\.emit\("([a-z_]+)"', page)
    assert not bare, f"name actions through events.js (ACTIONS.X): {bare}"
    used = set(re.findall(r"\bACTIONS\.([A-Z_]+)", page))
    assert used == set(actions), f"unused: {set(actions) - used}; unknown: {used - set(actions)}"


def test_every_page_that_uses_the_event_names_loads_them_first():
    users = {p.name for p in PAGE_SCRIPTS if "window.TextlineEvents" in p.read_text()}
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        scripts = re.findall(r"filename='js/([\w.-]+\.js)'", html)
        if users & set(scripts):
            assert "events.js" in scripts, template.name
            assert scripts.index("events.js") < min(scripts.index(s) for s in users & set(scripts)), template.name
