"""The integration API: tokens and bot accounts, the JSON API under /api/v1, its event stream and
webhooks. Views here call the same services as the browser's views."""
