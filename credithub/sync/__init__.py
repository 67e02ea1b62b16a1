"""Sharing (一处失信，处处受约): the change feed, connector runs, cursors, dead letters."""
