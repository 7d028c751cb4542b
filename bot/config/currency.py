"""Default exchange rates, the one table both settings and budget parsing start from."""

from __future__ import annotations

from typing import Mapping

# USD per unit of each currency. Rough mid-2026 rates, used offline; operators set their own
# in CURRENCY_RATES (see .env.example).
DEFAULT_RATES: Mapping[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "AUD": 0.66,
    "CHF": 1.13,
    "INR": 0.012,
    "JPY": 0.0067,
}
