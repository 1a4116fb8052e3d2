"""Textline's benchmark harness: see bench/README.md. Run with ./bench/run.sh."""
