"""Risk models retrained on the line's own labels: a candidate scored in shadow beside the live model,
promoted, discarded or rolled back by an admin (issue 12, item 6). Training: retraining.py (scikit-learn,
only in `flask textline train-risk`); which model scores: live.py."""
