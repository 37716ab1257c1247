"""Channels: the ways replybench asks companies and hears back (one small protocol each)."""
