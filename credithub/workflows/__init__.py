"""Objections (异议) and credit repair (信用修复), on working days."""
