"""Analysis: the outcomes table and the statistics computed from it."""
