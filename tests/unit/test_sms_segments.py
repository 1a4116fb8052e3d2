import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from textline.texting import sms_segments
from textline.texting.sms_segments import GSM_BASIC, GSM_EXTENDED, SegmentInfo, count

JS_PATH = Path(sms_segments.__file__).resolve().parents[1] / "static" / "js" / "segments.js"
CURLY = "\u2019"  # right single quote: the usual way a phone sneaks UCS-2 into a text
EMOJI = "\U0001F600"  # one code point, two UTF-16 units


# -- the GSM-7 tables ----------------------------------------------------------

def test_basic_table_follows_3gpp_code_order():
    assert len(GSM_BASIC) == 127 == len(set(GSM_BASIC))  # 128 codes minus ESC
    assert "\x1b" not in GSM_BASIC
    # Spot-check code points; after 0x1B the index is one lower because ESC is omitted.
    assert GSM_BASIC[0x00] == "@" and GSM_BASIC[0x0A] == "\n" and GSM_BASIC[0x1A] == "Ξ"
    assert GSM_BASIC[0x20 - 1] == " " and GSM_BASIC[0x40 - 1] == "¡" and GSM_BASIC[0x41 - 1] == "A"
    assert GSM_BASIC[0x60 - 1] == "¿" and GSM_BASIC[0x7F - 1] == "à"


def test_extension_table():
    assert sorted(GSM_EXTENDED) == sorted("\f^{}\\[~]|€")
    assert not set(GSM_EXTENDED) & set(GSM_BASIC)


def _js_string_literal(name: str) -> str:
    source = JS_PATH.read_text(encoding="utf-8")
    m = re.search(r'var %s = ("(?:[^"\\]|\\.)*");' % name, source)
    assert m, f"{name} literal not found in {JS_PATH}"
    return json.loads(m.group(1))  # the JS literals are kept JSON-compatible on purpose


@pytest.mark.parametrize("name, python_table", [("GSM_BASIC", GSM_BASIC), ("GSM_EXTENDED", GSM_EXTENDED)])
def test_js_tables_match_python(name, python_table):
    assert _js_string_literal(name) == python_table


# -- counting ------------------------------------------------------------------

def test_empty_text_is_zero_segments():
    assert count("") == SegmentInfo("GSM-7", 0, 0, 160, 160)


@pytest.mark.parametrize("length, segments, per_segment, remaining", [
    (1, 1, 160, 159),
    (160, 1, 160, 0),
    (161, 2, 153, 145),
    (306, 2, 153, 0),
    (307, 3, 153, 152),
    (459, 3, 153, 0),
])
def test_gsm_boundaries(length, segments, per_segment, remaining):
    info = count("a" * length)
    assert (info.encoding, info.units, info.segments, info.per_segment, info.remaining) == (
        "GSM-7", length, segments, per_segment, remaining)


def test_accented_gsm_characters_stay_gsm():
    text = "Ñoño à Ça £5 ¥ é è ü ö ¿qué? ¡ñ! @_§ ΔΩ\r\n"
    assert count(text) == SegmentInfo("GSM-7", len(text), 1, 160, 160 - len(text))


@pytest.mark.parametrize("ch", list("áíóúÁÍÓÚ"))
def test_spanish_acute_vowels_other_than_e_are_not_gsm(ch):
    # GSM-7 has é and É but not á/í/ó/ú, so "¿Qué día?" costs a 70-character segment.
    assert count("¿Qué " + ch).encoding == "UCS-2"


@pytest.mark.parametrize("ch", list("^{}\\[~]|€\f"))
def test_extension_chars_cost_two_septets(ch):
    assert count(ch) == SegmentInfo("GSM-7", 2, 1, 160, 158)


def test_extension_char_at_the_single_segment_limit():
    assert count("a" * 158 + "€").segments == 1  # 160 septets
    info = count("a" * 159 + "€")  # 161 septets
    assert (info.units, info.segments) == (161, 2)


def test_escape_pair_is_not_split_across_parts():
    # 152 + 2 + 152 = 306 septets would fit two 153-septet parts if the pair could
    # be split; it cannot, so the euro moves to part 2 and the tail spills into part 3.
    info = count("a" * 152 + "€" + "a" * 152)
    assert (info.units, info.segments, info.remaining) == (306, 3, 152)
    # With the pair aligned to the start of part 2, two parts suffice.
    assert count("a" * 153 + "€" + "a" * 151).segments == 2


@pytest.mark.parametrize("text", ["ç", "`", "ł", CURLY, "–", EMOJI, "你"])
def test_non_gsm_character_switches_to_ucs2(text):
    # Note: GSM-7 has capital Ç but not lowercase ç.
    assert count(text).encoding == "UCS-2"


def test_one_non_gsm_character_switches_the_whole_message():
    info = count("a" * 100 + CURLY)
    assert (info.encoding, info.units, info.segments, info.per_segment) == ("UCS-2", 101, 2, 67)


@pytest.mark.parametrize("length, segments, remaining", [
    (70, 1, 0), (71, 2, 63), (134, 2, 0), (135, 3, 66),
])
def test_ucs2_boundaries(length, segments, remaining):
    info = count(CURLY * length)
    assert (info.units, info.segments, info.remaining) == (length, segments, remaining)


def test_emoji_counts_two_units():
    assert count(EMOJI) == SegmentInfo("UCS-2", 2, 1, 70, 68)
    assert count(EMOJI * 35).segments == 1
    assert count("a" * 69 + EMOJI) == SegmentInfo("UCS-2", 71, 2, 67, 63)


def test_surrogate_pair_is_not_split_across_parts():
    # 66 + 2 + 66 = 134 units: two parts if the pair could be split, three because it can't.
    info = count("a" * 66 + EMOJI + "a" * 66)
    assert (info.units, info.segments) == (134, 3)
    assert count(EMOJI * 36).segments == 2  # 33 emoji (66 units) per part


# -- the JavaScript twin -------------------------------------------------------

JS_CASES = [
    "", "hello", "a" * 160, "a" * 161, "a" * 306, "a" * 307,
    "a" * 158 + "€", "a" * 159 + "€", "a" * 152 + "€" + "a" * 152, "{}" * 80,
    "Ñoño à Ça £5 é\r\n", "¿Qué día?", "ç", "`", CURLY * 70, CURLY * 71, "a" * 100 + CURLY,
    EMOJI, EMOJI * 35, EMOJI * 36, "a" * 69 + EMOJI, "a" * 66 + EMOJI + "a" * 66,
    "If you are in danger right now, call 911.", "\ud800",  # lone surrogate
]

NODE_SCRIPT = r"""
const fs = require("fs"), vm = require("vm");
const seg = require(process.argv[1]);
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
// Load it the way a browser does too: a plain script with a global window.
const sandbox = { window: {} };
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), sandbox);
const browser = sandbox.window.TextlineSegments.count("a".repeat(161));
console.log(JSON.stringify({ results: cases.map(seg.count), browser: browser }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH; cannot run segments.js")
def test_js_implementation_agrees_with_python():
    proc = subprocess.run(
        ["node", "-e", NODE_SCRIPT, str(JS_PATH)],
        input=json.dumps(JS_CASES), capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for text, js in zip(JS_CASES, out["results"], strict=True):
        assert js == count(text).__dict__, f"JS and Python disagree on {text[:20]!r}... (len {len(text)})"
    assert out["browser"]["segments"] == 2
