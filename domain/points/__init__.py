"""Points: an append-only ledger, hours and star levels, the credit supermarket, rewards, the monthly board."""
