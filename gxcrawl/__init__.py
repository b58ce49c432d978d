"""gxcrawl: government information-disclosure annual reports as a research dataset."""

__version__ = "0.1.0"
