"""Attachments: storage, content checks, images, the service and its views."""
