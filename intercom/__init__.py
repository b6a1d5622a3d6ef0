"""intercom: a Raspberry Pi video door station and the small phone system it talks to."""

__version__ = "0.1.0"
