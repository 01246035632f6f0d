"""Searching messages: what a query means (query), how each database finds it (engines), the
excerpt shown for a result (excerpt), and who may find what (service)."""
