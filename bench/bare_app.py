"""The bare baseline for the check bench: a Flask JSON endpoint and nothing else."""

from flask import Flask

app = Flask(__name__)


@app.get("/json")
def answer() -> dict[str, object]:
    return {"subject": {"uscc": "91230500MA1B3N1N2M"}, "known": True, "verdict": "clear"}
