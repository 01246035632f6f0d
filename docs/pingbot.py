"""Answers "ping" with "pong" in every room it is in. WEBCHAT=https://… TOKEN=… python pingbot.py"""
import json
import os

import httpx

last = None  # the id of the last event seen: a reconnect resumes there, missing nothing
with httpx.Client(base_url=os.environ["WEBCHAT"], timeout=httpx.Timeout(30, read=60),
                  headers={"Authorization": f"Bearer {os.environ['TOKEN']}"}) as http:
    me = http.get("/api/v1/me").raise_for_status().json()["id"]
    while True:
        with http.stream("GET", "/api/v1/events", headers={"Last-Event-ID": last} if last else {}) as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("id: "):
                    last = line[4:]
                elif line.startswith("data: ") and kind == "message":
                    message = json.loads(line[6:])["message"]
                    if message["author"]["id"] != me and message["body"].strip().lower() == "ping":
                        http.post(f"/api/v1/rooms/{message['room']}/messages",
                                  json={"body": "pong", "nonce": f"pong-{message['id']}"})
