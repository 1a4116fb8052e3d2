"""All SQLAlchemy models, importable from one place (Alembic autogenerate sees them here)."""
from textline.models.audit import AuditEvent
from textline.models.blocklist import TexterBlock
from textline.models.base import Base, UTCDateTime, utcnow
from textline.models.canned import CannedResponse
from textline.models.duty import (
    CONSULTED, DECISIONS, NOT_REQUIRED, REPORTED, REPORTED_TO, EmergencyRecord, ReportDecision,
)
from textline.models.people import Role, User, UserSession
from textline.models.riskmodels import (
    CANDIDATE, DISCARDED, LIVE, MODEL_STATUSES, RETIRED, SHADOW, RiskModelVersion, ShadowScore,
)
from textline.models.safety import REASONS, TRANSFER_NOTE, WHISPER, ConversationNote, Escalation, Page
from textline.models.survey import SurveyResponse
from textline.models.triage import FALSE_ALARM, NEEDED, VERDICTS, LexiconEdit, RiskLabel
from textline.models.wellbeing import DebriefTask, ShiftCheckout
from textline.models.texting import (
    ACTIVE, BLOCKED, CLOSED, DELIVERY_RANK, FINAL_FAILURES, INBOUND, OUTBOUND, WAITING,
    Conversation, DeliveryReceipt, Message, MessageMedia, SpoolErasure, Texter, TexterPhone,
)

__all__ = [
    "AuditEvent", "Base", "CannedResponse", "EmergencyRecord", "ReportDecision", "CONSULTED", "DECISIONS", "NOT_REQUIRED", "REPORTED",
    "REPORTED_TO", "UTCDateTime", "utcnow", "Role", "User", "UserSession", "Texter", "TexterPhone", "Conversation", "Message", "MessageMedia",
    "DeliveryReceipt", "SpoolErasure", "Escalation", "Page", "ConversationNote", "REASONS", "WHISPER", "TRANSFER_NOTE", "SurveyResponse", "WAITING", "ACTIVE", "BLOCKED", "TexterBlock",
    "CLOSED", "INBOUND", "OUTBOUND", "DELIVERY_RANK", "FINAL_FAILURES", "ShiftCheckout", "DebriefTask",
    "RiskLabel", "LexiconEdit", "NEEDED", "FALSE_ALARM", "VERDICTS",
    "RiskModelVersion", "ShadowScore", "CANDIDATE", "SHADOW", "LIVE", "RETIRED", "DISCARDED", "MODEL_STATUSES",
]
