"""The demo accounts of the README (embedded default only, never in production): one definition for every
service's seed, so demo data is consistent across services."""

DEMO_PASSWORD = "sotay-demo-2026"
# signed in from the start: activated in identity, counted as uptake in members, never invited by notify
ACTIVATED_DEMO_ACCOUNTS = ("001000000000", "001000000001", "001000000002")
