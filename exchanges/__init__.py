"""Venue clients for Bybit v5 and BingX perpetual swap: a plain library that knows nothing of Django models."""
