"""ht-gateway: hears an HT radio channel, cuts and records each transmission, and reports on them."""

__version__ = "0.1.0"
