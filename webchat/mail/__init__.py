"""Email: SMTP_URL parsed (smtp), a database outbox and its worker (outbox), signed links (links),
away digests (digest), and the pages for addresses, unsubscribing and forgotten passwords (views)."""
