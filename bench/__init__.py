"""``make bench``: measures the executor and the web pages against the simulator; writes bench/results.md.

Run with ``.venv/bin/python -m bench``. Every part runs in its own subprocess on its own throw-away database (a
temporary SQLite file, or ``BENCH_DATABASE_URL``), never the developer's or the test database.
"""
