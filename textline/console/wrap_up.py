"""The wrap-up a volunteer fills in before a conversation closes: the one place that says which
fields there are, which values each may take, and which are required. The console's form, the
server's check (conversations.end) and the insights page all read this module.

Stored in Conversation.disposition (JSON):
    {"outcome": "supported", "topics": ["school", "anxiety"], "risk": "low", "resources": ["988"],
     "follow_up": "none", "by": "volunteer"}
`by` says who closed it: "volunteer" (a complete wrap-up, always), "adult" (an advisor ending it;
only the outcome is required, because an adult may end a conversation they never handled, such as a
prank still in the queue), or "system" (STOP, erasure: nobody to ask).
"""
from __future__ import annotations

from dataclasses import dataclass

from textline.safety.resources import default_directory

# Fixed lists, suitable for a teen line. Keys are stored; labels are shown. Order is the form's order.
TOPICS = {
    "family": "Family", "friends": "Friends", "school": "School", "relationships": "Relationships",
    "bullying": "Bullying", "anxiety": "Anxiety or stress", "depression": "Depression or sadness",
    "self_harm": "Self-harm", "suicide": "Suicide", "abuse": "Abuse", "lgbtq": "LGBTQ+ identity",
    "substance_use": "Substance use", "other": "Other",
}
RISK_LEVELS = {"none": "None", "low": "Low", "medium": "Medium", "high": "High"}
FOLLOW_UPS = {"none": "None needed", "adult": "Adult advisor follow-up", "referral": "Referral given"}
OUTCOMES = {
    "supported": "Texter felt supported", "referred": "Referred to a resource",
    "texter_left": "Texter stopped replying", "escalated": "Handed to an adult advisor",
    "emergency": "Emergency services contacted", "prank": "Prank / test",
}
# Only an adult contacts emergency services; the volunteer's form does not offer it.
ADULT_ONLY_OUTCOMES = ("emergency",)
# Written by the server alone when nobody filled a form.
SYSTEM_OUTCOMES = {"opted_out": "Texter opted out (STOP)", "erased": "Erased on request",
                   "idle": "Closed by the server after going quiet"}
BY = ("volunteer", "adult", "system")


class WrapUpError(ValueError):
    """A wrap-up that cannot be stored, with a message fit to show the volunteer and the field it is
    about (the form moves focus there)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def volunteer_outcomes() -> dict[str, str]:
    return {k: v for k, v in OUTCOMES.items() if k not in ADULT_ONLY_OUTCOMES}


def label(value: str) -> str:
    """A stored key as people read it (unknown keys, e.g. from older data, as they are)."""
    for table in (TOPICS, OUTCOMES, SYSTEM_OUTCOMES, FOLLOW_UPS):
        if value in table:
            return table[value]
    return value


def _resource_ids() -> dict[str, str]:
    return {r.id: r.name for r in default_directory().all()}


def resources() -> dict[str, str]:
    """The resources a volunteer can say they gave: the crisis resource directory (data/resources.yaml)."""
    return _resource_ids()


def _choice(raw: dict, field: str, allowed: dict, ask: str, noun: str, required: bool) -> str | None:
    value = raw.get(field)
    if value in (None, ""):
        if required:
            raise WrapUpError(f"Choose {ask}.", field)
        return None
    if not isinstance(value, str) or value not in allowed:
        raise WrapUpError(f"Unknown {noun}: {str(value)[:40]!r}. Choose one of: {', '.join(allowed)}.", field)
    return value


def _choices(raw: dict, field: str, allowed: dict, what: str, at_least_one: bool) -> list[str] | None:
    values = raw.get(field)
    if values in (None, "", []):
        if at_least_one:
            raise WrapUpError(f"Choose at least one {what}.", field)
        return [] if values == [] else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise WrapUpError(f"The {what} list must be a list of names.", field)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise WrapUpError(f"Unknown {what}: {', '.join(repr(v[:40]) for v in unknown[:3])}.", field)
    return list(dict.fromkeys(values))  # repeats dropped, order kept


def validate(raw, by_adult: bool) -> dict:
    """The disposition to store, or WrapUpError saying what is missing or wrong.

    A volunteer's wrap-up is complete or refused: outcome, at least one topic, the risk they assessed,
    the follow-up, and which resources they gave (an empty list says "none"). A high risk assessment
    needs an adult follow-up or a referral: the adults must hear about it. An adult must give the
    outcome; whatever else they give is checked the same way."""
    if not isinstance(raw, dict):
        if by_adult and raw is None:
            raise WrapUpError("Choose how the conversation ended.", "outcome")
        raise WrapUpError("Fill in the wrap-up before ending the conversation." if raw is None
                          else "The wrap-up must be a set of fields.")
    full = not by_adult
    outcomes = OUTCOMES if by_adult else volunteer_outcomes()
    if not by_adult and raw.get("outcome") in ADULT_ONLY_OUTCOMES:
        raise WrapUpError("Only an adult advisor can record that emergency services were contacted.", "outcome")
    out = {"outcome": _choice(raw, "outcome", outcomes, "how the conversation ended", "outcome",
                              required=True),
           "topics": _choices(raw, "topics", TOPICS, "topic", at_least_one=full),
           "risk": _choice(raw, "risk", RISK_LEVELS, "the risk level you assessed", "risk level", required=full),
           "resources": _choices(raw, "resources", resources(), "resource", at_least_one=False),
           "follow_up": _choice(raw, "follow_up", FOLLOW_UPS, "the follow-up", "follow-up", required=full)}
    if full and out["resources"] is None:
        raise WrapUpError("Say which resources you gave (none is an answer).", "resources")
    if out["risk"] == "high" and out["follow_up"] == "none":
        raise WrapUpError("A high risk assessment needs an adult advisor follow-up or a referral.", "follow_up")
    out = {k: v for k, v in out.items() if v is not None}
    out["by"] = "adult" if by_adult else "volunteer"
    return out


def system(outcome: str) -> dict:
    """The disposition of a conversation the server closed (nobody filled a form)."""
    if outcome not in SYSTEM_OUTCOMES:
        raise ValueError(f"not a system outcome: {outcome!r}")
    return {"outcome": outcome, "by": "system"}


def after_system_close(stored, fields: dict) -> dict:
    """The volunteer's wrap-up of a conversation the server had already closed (the texter sent STOP
    mid-conversation): their topics, risk, resources and follow-up are kept; the outcome stays the
    server's (what happened), theirs is kept beside it."""
    system_outcome = read(stored).outcome
    return {**fields, "outcome": system_outcome, "volunteer_outcome": fields["outcome"], "by": "system"}


def owed(conv) -> bool:
    """The server closed it under its volunteer (the texter's STOP) and they have not written their
    wrap-up yet: it stays in their "My conversations", across reloads, until they do."""
    d = conv.disposition if isinstance(conv.disposition, dict) else {}
    return (conv.status == "closed" and conv.volunteer_id is not None and d.get("by") == "system"
            and d.get("outcome") == "opted_out" and "volunteer_outcome" not in d)


@dataclass(frozen=True)
class Recorded:
    """A stored disposition read back leniently (older rows may lack fields or hold other values)."""
    outcome: str | None
    topics: tuple[str, ...]
    risk: str | None
    resources: tuple[str, ...]
    follow_up: str | None
    by: str | None

    @property
    def complete(self) -> bool:
        """Every required field of a volunteer's wrap-up is there."""
        return bool(self.outcome and self.topics and self.risk and self.follow_up)


def _text(value) -> str | None:
    return str(value) if isinstance(value, (str, int)) and str(value).strip() else None


def _texts(value) -> tuple[str, ...]:
    return tuple(str(v) for v in value if isinstance(v, str) and v.strip()) if isinstance(value, list) else ()


def read(disposition) -> Recorded:
    d = disposition if isinstance(disposition, dict) else {}
    return Recorded(_text(d.get("outcome")), _texts(d.get("topics")), _text(d.get("risk")),
                    _texts(d.get("resources")), _text(d.get("follow_up")), _text(d.get("by")))


def form_options() -> dict:
    """What the console's wrap-up form offers (rendered into the page by the server)."""
    return {"topics": TOPICS, "risk_levels": RISK_LEVELS, "follow_ups": FOLLOW_UPS,
            "outcomes": volunteer_outcomes(), "adult_outcomes": OUTCOMES, "resources": resources()}
