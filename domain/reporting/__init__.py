"""Reporting: the ledgers (台账) a street or community hands in, read across the other contexts."""
