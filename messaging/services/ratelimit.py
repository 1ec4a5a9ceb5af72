"""Pacing shared by every worker: a token bucket kept in Redis (GCRA: one slot every 1/rate
seconds, handed out in order), so N workers together never exceed the sender's throughput.
Without Redis (embedded mode, one process) the same schedule is kept in memory."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

# KEYS[1]: the next free slot (microseconds, Redis clock). ARGV[1]: microseconds per message;
# ARGV[2]: how far the schedule may lag behind now (microseconds): slots that busy workers left
# unused for less than that (between two chunks) are caught up, so the rate holds on average;
# a schedule further behind (a new or idle sender) restarts from now, with no burst.
# Returns how long the caller waits for its slot (<= 0: none).
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now - tolerance then slot = now end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', 60000)
return slot - now
"""

_local_lock = threading.Lock()
_local_slots: dict[str, float] = {}


def _redis() -> Any:
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


class TokenBucket:
    """`catch_up` seconds: how long a pause (every worker recording and taking its next chunk)
    may be made up afterwards; 0 paces strictly from now."""

    def __init__(
        self, name: str, *, rate: float, catch_up: float = 0.0, client: Any = None
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.key = f"cocarde:messaging:bucket:{name}"
        self.interval_us = int(1_000_000 / rate)
        self.tolerance_us = int(catch_up * 1_000_000)
        self.client = client if client is not None else _redis()
        self.script = self.client.register_script(GCRA) if self.client is not None else None

    def reserve(self) -> float:
        """Take the next slot; returns seconds to wait for it."""
        if self.script is not None:
            args = [self.interval_us, self.tolerance_us]
            return int(self.script(keys=[self.key], args=args)) / 1_000_000
        with _local_lock:
            now = time.monotonic()
            slot = _local_slots.get(self.key, 0.0)
            if slot < now - self.tolerance_us / 1_000_000:
                slot = now
            _local_slots[self.key] = slot + self.interval_us / 1_000_000
            return slot - now

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)
