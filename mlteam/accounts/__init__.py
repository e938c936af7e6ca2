"""A person's own account settings: personal API tokens (and, later, sign-in,
two-factor authentication and sessions)."""
