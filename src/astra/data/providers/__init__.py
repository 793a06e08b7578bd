"""Price providers. Each returns :class:`astra.data.PriceData` (a wide close frame + metadata)."""
