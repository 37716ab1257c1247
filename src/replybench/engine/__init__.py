"""The engine: scheduler, at-most-once dispatcher, listeners, recovery and timeouts."""
