"""Accounts: signing in, passwords, roles and who may see what, presence and shifts, the admin pages,
and the audit log."""
