"""The volunteer console: its page and live Socket.IO events (the supervisor dashboard's too), saved
replies, transfers, and the wrap-up."""
