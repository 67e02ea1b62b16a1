"""The joint office's console (/admin/): accounts with argon2-hashed passwords and lock-out, a
dashboard of the hub's state, and pages that work the queues through the API's own services."""
