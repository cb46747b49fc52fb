"""The volunteer's phone pages (/onboard/): pick a market, register a trader
in one form (or by scanning their bank QR), the done screen with the stall QR
and card, and "my traders". See docs/onboarding.md, "Volunteer pages"."""
