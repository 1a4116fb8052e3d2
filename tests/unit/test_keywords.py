import pytest

from textline.texting.keywords import Keyword, classify


@pytest.mark.parametrize("body", [
    "STOP", "stop", "Stop", " stop ", "STOP.", "stop!!", "Stop?", "stop \n", "\tSTOP",
    "STOPALL", "unsubscribe", "Cancel", "END", "end.", "quit", "REVOKE", "optout",
    "stop\u00a0",  # trailing non-breaking space
])
def test_opt_out(body):
    assert classify(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", " Start! ", "UNSTOP", "unstop."])
def test_opt_in(body):
    assert classify(body) is Keyword.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help", "Help!", " info ", "INFO?"])
def test_help(body):
    assert classify(body) is Keyword.HELP


@pytest.mark.parametrize("body", [
    # Sentences that merely contain a keyword must reach a volunteer as ordinary text.
    "please don't stop talking to me",
    "i want to end it",
    "I just want it all to end",
    "end it",
    "end.it",
    "I want to quit everything",
    "cancel my life",
    "stop please",
    "STOP ALL",
    "stop stop",
    "help me",
    "i need help",
    "HELP ME PLEASE",
    "can you help",
    "start over",
    # Look-alikes and near misses.
    "stopp", "stops", "ending", "helpful", "informed", "opt out", "s t o p",
    ".stop",  # only trailing punctuation is ignored
    "stop\U0001F622",  # an emoji is not punctuation
    "", "   ", "...", None,
])
def test_not_a_keyword(body):
    assert classify(body) is None


@pytest.mark.parametrize("body", ["yes", "YES", "Yes.", "yes!"])
def test_yes_is_just_an_answer_mid_conversation(body):
    # "Are you safe right now?" - "yes" must never be swallowed as a keyword.
    assert classify(body) is None


@pytest.mark.parametrize("body", ["yes", "YES", "Yes."])
def test_yes_resubscribes_an_opted_out_number(body):
    # Twilio lifts its block on YES, so our records must follow it.
    assert classify(body, opted_out=True) is Keyword.OPT_IN


def test_opted_out_flag_changes_nothing_else():
    assert classify("yes please", opted_out=True) is None
    assert classify("STOP", opted_out=True) is Keyword.OPT_OUT
    assert classify("START", opted_out=True) is Keyword.OPT_IN
    assert classify("help", opted_out=True) is Keyword.HELP
