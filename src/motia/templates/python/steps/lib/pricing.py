"""Helpers shared by steps: import them as `from steps.lib.pricing import ...`."""

PRICES = {"book": 12.5, "pen": 1.2, "lamp": 30.0}
DEFAULT_PRICE = 10.0


def price_of(item: str, quantity: int) -> float:
    return round(PRICES.get(item, DEFAULT_PRICE) * quantity, 2)
