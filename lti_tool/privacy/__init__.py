"""Personal data: a person's rights (access, erasure), retention and its purge, the register."""
