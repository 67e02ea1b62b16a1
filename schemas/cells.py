"""Cells of the CSV files people open in a spreadsheet (前置机 files, rejected-rows reports).

A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage return) is read as a formula
by Excel and its kin at the agency that opens the file; written with a leading apostrophe, it
is shown as the text it is (OWASP's CSV-injection advice). Nothing else changes.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
