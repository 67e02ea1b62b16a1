"""Notifications: webhooks a client subscribes, the events written where their change is made
(an outbox), and their signed delivery with retries (api.md: Notifications)."""
