"""Standing: may a subject take part in a trading domain at an instant, and why.

`compute.py` holds the pure computation (records + rule pack + instant -> restrictions,
misconduct points, score with its record-by-record explanation, and `valid_until`);
`points.py` the rolling misconduct-points window it uses. No Flask, no database here.
"""
