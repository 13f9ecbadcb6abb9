"""A person's rights over what Jalon holds about them: access (export) and erasure."""
