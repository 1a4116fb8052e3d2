import json
import textwrap

import pytest

from textline.safety.resources import (
    CONTACT_KINDS, Resource, ResourceDirectory, ResourceError, default_directory, load_resources,
)
from textline.texting.sms_segments import count

REQUIRED_IDS = {"988", "crisis-text-line", "911", "trevor", "childhelp", "rainn", "teenline"}


@pytest.fixture(scope="module")
def directory():
    return load_resources()


def write(tmp_path, text, name="res.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def entry(rid="a", name="A line", sms="Call A.", kind="call", value="123", extra=""):
    return f"""
  - id: {rid}
    name: {name}
    sms_text: {sms}
    contacts:
      - kind: {kind}
        value: "{value}"
{extra}"""


# -- the bundled data ------------------------------------------------------------

def test_bundled_directory_has_required_resources(directory):
    assert REQUIRED_IDS <= {r.id for r in directory.all()}
    for r in directory.all():
        assert r.name and r.sms_text and r.contacts and r.hours
        assert all(c.kind in CONTACT_KINDS for c in r.contacts)


def test_every_sms_text_fits_one_gsm7_segment(directory):
    for r in directory.all():
        info = count(r.sms_text)
        assert (info.encoding, info.segments) == ("GSM-7", 1), f"{r.id}: {info}"


# Guards against typos in the numbers a teen in crisis would dial: each must be right
# both in the contact list (shown in the console) and in the one-click SMS text.
KEY_CONTACTS = {
    "988": [("call", "988"), ("text", "988"), ("chat", "https://988lifeline.org/chat")],
    "crisis-text-line": [("text", "741741")],
    "911": [("call", "911")],
    "trevor": [("call", "1-866-488-7386"), ("text", "678678")],
    "childhelp": [("call", "1-800-422-4453"), ("text", "1-800-422-4453")],
    "rainn": [("call", "1-800-656-4673"), ("chat", "https://online.rainn.org")],
    "teenline": [("call", "1-800-852-8336"), ("text", "839863")],
}
KEY_SMS_PHRASES = {
    "988": ["text 988", "988lifeline.org"],
    "crisis-text-line": ["Text HOME to 741741"],
    "911": ["call 911"],
    "trevor": ["1-866-488-7386", "text START to 678-678"],
    "childhelp": ["1-800-422-4453"],
    "rainn": ["1-800-656-4673", "online.rainn.org"],
    "teenline": ["1-800-852-8336", "text TEEN to 839863", "6-10 PM Pacific"],
}


@pytest.mark.parametrize("rid", sorted(KEY_CONTACTS))
def test_key_numbers_are_right(directory, rid):
    resource = directory.get(rid)
    contacts = {(c.kind, c.value) for c in resource.contacts}
    for expected in KEY_CONTACTS[rid]:
        assert expected in contacts, f"{rid}: missing contact {expected}"
    for phrase in KEY_SMS_PHRASES[rid]:
        assert phrase in resource.sms_text, f"{rid}: sms_text lacks {phrase!r}"


def test_get_unknown_returns_none(directory):
    assert directory.get("nope") is None
    assert isinstance(directory.get("988"), Resource)


def test_crisis_sms_default(directory):
    text = directory.crisis_sms()
    assert text == directory.get("988").sms_text + "\n" + directory.get("911").sms_text
    assert count(text).segments == 1


def test_crisis_sms_keeps_order_and_drops_repeats(directory):
    text = directory.crisis_sms(["911", "trevor", "911"])
    assert text == directory.get("911").sms_text + "\n" + directory.get("trevor").sms_text


def test_crisis_sms_unknown_id_is_an_error(directory):
    with pytest.raises(ResourceError, match="'nope'"):
        directory.crisis_sms(["988", "nope"])


def test_to_list_is_json_safe(directory):
    data = directory.to_list()
    assert json.loads(json.dumps(data)) == data  # tuples would come back as lists and differ
    first = data[0]
    assert set(first) == {"id", "name", "audience", "description", "contacts", "hours", "sms_text", "tags",
                          "translations"}
    assert isinstance(first["contacts"][0], dict)


def test_default_directory_is_cached():
    assert default_directory() is default_directory()
    assert len(default_directory()) >= len(REQUIRED_IDS)


# -- loading other files -----------------------------------------------------------

def test_extra_paths_add_resources(tmp_path):
    extra = write(tmp_path, "resources:" + entry(rid="local-clinic", extra="    tags: [local]\n"))
    d = load_resources(extra_paths=[extra])
    assert d.get("local-clinic").tags == ("local",)
    assert d.get("988") is not None


def test_duplicate_id_across_files(tmp_path):
    extra = write(tmp_path, "resources:" + entry(rid='"988"'))
    with pytest.raises(ResourceError, match="duplicate resource id '988'.*already defined in"):
        load_resources(extra_paths=[extra])


def test_duplicate_id_in_one_file(tmp_path):
    path = write(tmp_path, "resources:" + entry() + entry())
    with pytest.raises(ResourceError, match="duplicate resource id 'a'"):
        load_resources(path)


def test_directory_rejects_duplicates_directly():
    r = Resource("x", "X", "Call X.", ())
    with pytest.raises(ResourceError, match="duplicate"):
        ResourceDirectory([r, r])


@pytest.mark.parametrize("yaml_text, message", [
    ("resources:\n  - name: A\n    sms_text: hi\n    contacts: [{kind: call, value: '1'}]\n",
     "missing required field 'id'"),
    ("resources:\n  - id: a\n    sms_text: hi\n    contacts: [{kind: call, value: '1'}]\n",
     "missing required field 'name'"),
    ("resources:\n  - id: a\n    name: A\n    contacts: [{kind: call, value: '1'}]\n",
     "missing required field 'sms_text'"),
    ("resources:\n  - id: a\n    name: A\n    sms_text: '  '\n    contacts: [{kind: call, value: '1'}]\n",
     "'sms_text' must not be blank"),
    ("resources:\n  - id: a\n    name: A\n    sms_text: hi\n    contacts: [{kind: fax, value: '1'}]\n",
     "unknown contact kind 'fax'"),
    ("resources:\n  - id: a\n    name: A\n    sms_text: hi\n    contacts: [{kind: call}]\n",
     "missing required field 'value'"),
    ("resources:\n  - id: a\n    name: A\n    sms_text: hi\n    contacts: []\n",
     "'contacts' must be a non-empty list"),
    ("resources:\n  - id: 988\n    name: A\n    sms_text: hi\n    contacts: [{kind: call, value: '1'}]\n",
     "quote numbers"),
    ("resources:\n  - id: a\n    name: A\n    sms-text: hi\n    contacts: [{kind: call, value: '1'}]\n",
     r"unknown field\(s\) \['sms-text'\]"),
    ("resources:\n  - id: a\n    name: A\n    sms_text: hi\n    contacts: [{kind: call, value: '1'}]\n    tags: oops\n",
     "'tags' must be a list"),
    ("- id: a\n", "top-level 'resources:' list"),
    ("resources: [unclosed\n", "invalid YAML"),
])
def test_bad_data_gives_clear_error(tmp_path, yaml_text, message):
    path = write(tmp_path, yaml_text)
    with pytest.raises(ResourceError, match=message):
        load_resources(path)


def test_error_names_the_entry(tmp_path):
    path = write(tmp_path, "resources:" + entry(rid="good") + entry(rid="bad", kind="pager"))
    with pytest.raises(ResourceError, match=r"resource 2 \(id 'bad'\) contact 1"):
        load_resources(path)


def test_missing_file(tmp_path):
    with pytest.raises(ResourceError, match="cannot read resource file"):
        load_resources(tmp_path / "absent.yaml")
