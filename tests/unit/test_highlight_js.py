"""highlight.js must highlight exactly what the Python scorer matched, emoji or not (code points vs UTF-16)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from textline.safety.risk import score_text

JS = Path(__file__).resolve().parents[2] / "textline" / "static" / "js" / "highlight.js"

RUN = r"""
const hl = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map((c) => hl.parts(c.text, c.matches))));
"""

TEXTS = [
    "i want to kill myself tonight",
    "\U0001F62D\U0001F62D i want to kill myself \U0001F480 i have the pills",   # astral emoji before hits
    "\U0001F469\u200D\U0001F467 my stepdad hit me again and said he'd kill me",  # ZWJ family emoji
    "im not going to kill myself, i just feel alone \U0001F614",
    "caf\u00e9 \U0001D54A\U0001D556\U0001D565 i want to die",                     # math letters (astral)
]


def run_node(cases):
    proc = subprocess.run(["node", "-e", RUN, str(JS)], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH; cannot run highlight.js")
def test_js_highlights_the_same_text_the_python_scorer_matched():
    cases = [{"text": t, "matches": score_text(t).to_dict()["matches"]} for t in TEXTS]
    assert all(c["matches"] for c in cases)  # every case really has hits to place
    for case, parts in zip(cases, run_node(cases), strict=True):
        assert "".join(p["text"] for p in parts) == case["text"]  # nothing lost or doubled
        hits = [p["text"] for p in parts if p["hit"]]
        expected = _merged(case["text"], case["matches"])
        assert hits == expected, case["text"]


def _merged(text, matches):
    spans = sorted((m["start"], m["end"]) for m in matches)
    out = []
    for start, end in spans:
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [text[s:e] for s, e in out]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH; cannot run highlight.js")
def test_bad_offsets_are_ignored_not_thrown():
    [parts] = run_node([{"text": "\U0001F600 hi", "matches": [{"start": 5, "end": 9, "label": "x"},
                                                               {"start": "a", "end": 2}, None]}])
    assert parts == [{"text": "\U0001F600 hi", "hit": None}]
