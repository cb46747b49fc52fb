"""Live receipts: a payment to a stall published after its transaction
commits, the stall page's event stream fed by it (the ledger being the source
of what was missed), and the phones' acknowledgements of each announcement
(docs/stall.md)."""
