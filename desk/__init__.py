"""The street office's desk: ledgers (Excel), the staff web console and the Open311 API — a front end beside
`handlers/` on the same domain services."""
