"""webchat: an accessible, server-rendered real-time chat (Quart, htmx, Server-Sent Events).

The app is made by webchat.app.create_app(); `python -m webchat` serves it (webchat.server).
"""
