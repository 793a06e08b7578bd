"""The issue's example book, shared by the funding tests."""

ISSUE_BOOK = """
[account]
equity = 1_000_000
[positions]
AAPL = 1500
JPM = -1200
[prices]
AAPL = 276.49
JPM = 317.27
[funding]
model = "cash"
long_spread_bps = 50
short_spread_bps = 25
gc_fee_bps = 40
[funding.borrow_fee_bps]
JPM = 40
[[funding.tiers]]
up_to = 1_000_000
long_spread_bps = 75
"""
