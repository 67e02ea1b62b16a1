"""The public read API (/api/v1/public): what anyone may see, without a token."""
