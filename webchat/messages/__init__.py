"""Messages: post, edit, delete and history; what a message publishes; the message views."""
