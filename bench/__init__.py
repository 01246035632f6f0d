"""webchat's benchmark: a real server process, driven over loopback sockets by a lean asyncio client.

Run it with `make bench` (full) or `make bench-quick`; see bench/README.md for what each figure means.
"""
