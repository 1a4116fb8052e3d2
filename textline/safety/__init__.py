"""Safety: risk scoring, escalation to adult advisors and paging, notices, crisis resources, opening
hours, and what adults do from the supervisor dashboard."""
