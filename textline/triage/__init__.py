"""Triage: how well the live risk scorer does by the line's own adults. Adults label messages and
conversations (labels.py); the Triage page (measures.py, views.py) compares the scorer's decisions with
those labels over a period."""
