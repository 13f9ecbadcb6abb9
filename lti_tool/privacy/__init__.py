"""Personal data over time: retention, purge and the register of processing."""
