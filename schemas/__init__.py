"""Marshmallow schemas and wire formats: API JSON, the 双公示 record, the feed.

Imports nothing from the app.
"""
