"""The organisation: streets, communities and grids, their working groups, their staff, who may act where."""
