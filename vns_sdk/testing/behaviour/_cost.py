"""Tokens and dollars: what a behaviour test used (the Realtime model, the judge, the simulated caller)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["PRICES", "Price", "Spend", "TokenCount"]


@dataclass(frozen=True)
class Price:
    """A model's list price in US dollars per million tokens (text)."""

    input: float
    output: float


PRICES: Mapping[str, Price] = {
    "gpt-realtime": Price(4.00, 16.00),
    "gpt-realtime-mini": Price(0.60, 2.40),
    "gpt-4o-realtime-preview": Price(5.00, 20.00),
    "gpt-4o-mini-realtime-preview": Price(0.60, 2.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
}
"""Text prices of the models a behaviour test is likely to use; pass ``prices=`` to `Spend` to override.

A dated model (``gpt-4.1-mini-2025-04-14``) is priced as its family. Audio tokens cost more than these
figures: a test run in text (the default) is what they estimate.
"""


@dataclass(frozen=True)
class TokenCount:
    """Tokens one model used for one purpose.

    Attributes:
        model: The model's name.
        input_tokens: Input tokens.
        output_tokens: Output tokens.
        purpose: ``agent`` (the Realtime model), ``judge`` or ``caller``.
    """

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    purpose: str = "agent"


@dataclass
class Spend:
    """Tokens used so far and what they cost, by the `prices` (default `PRICES`).

    A model with no price is counted at the dearest price known, so a budget is never passed unseen, and
    named in `unpriced`.
    """

    prices: Mapping[str, Price] = field(default_factory=lambda: dict(PRICES))
    counts: list[TokenCount] = field(default_factory=list)

    def add(self, count: TokenCount) -> None:
        """Count more tokens."""
        if count.input_tokens or count.output_tokens:
            self.counts.append(count)

    def extend(self, other: Spend) -> None:
        """Count another spend's tokens too."""
        self.counts.extend(other.counts)

    def price_of(self, model: str) -> Price | None:
        """The model's price, its family's for a dated name, or None."""
        name = model
        while name:
            if name in self.prices:
                return self.prices[name]
            name = name.rpartition("-")[0]
        return None

    @property
    def unpriced(self) -> list[str]:
        """The models counted that have no price."""
        return sorted({count.model for count in self.counts if self.price_of(count.model) is None})

    @property
    def dollars(self) -> float:
        """The estimate, in US dollars."""
        dearest = Price(
            max((price.input for price in self.prices.values()), default=0.0),
            max((price.output for price in self.prices.values()), default=0.0),
        )
        total = 0.0
        for count in self.counts:
            price = self.price_of(count.model) or dearest
            total += (count.input_tokens * price.input + count.output_tokens * price.output) / 1_000_000
        return total

    def tokens(self, purpose: str | None = None) -> tuple[int, int]:
        """Input and output tokens, of one purpose or of all."""
        chosen = [count for count in self.counts if purpose is None or count.purpose == purpose]
        return sum(count.input_tokens for count in chosen), sum(count.output_tokens for count in chosen)

    def summary(self) -> str:
        """One line: tokens by purpose and the estimate."""
        parts = []
        for purpose in ("agent", "caller", "judge"):
            used_in, used_out = self.tokens(purpose)
            if used_in or used_out:
                parts.append(f"{purpose} {used_in}+{used_out}")
        unpriced = f" (no price for {', '.join(self.unpriced)}: counted at the dearest)" if self.unpriced else ""
        return f"tokens in+out: {', '.join(parts) or 'none'}; about ${self.dollars:.4f}{unpriced}"
