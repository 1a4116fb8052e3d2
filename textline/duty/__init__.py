"""Duty of care: report decisions owed to the authorities, emergency records, and the adults' work list."""
