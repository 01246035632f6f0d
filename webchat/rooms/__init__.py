"""Rooms: memberships, direct rooms, read markers; what a room publishes; the room page and views."""
