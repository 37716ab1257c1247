"""replybench: measure how fast and how well companies answer their customers."""

__version__ = "0.1.0"
