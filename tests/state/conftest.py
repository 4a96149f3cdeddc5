"""Fixtures of the Redis store's tests: a key prefix of the test's own, and a plain client to look with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses, so tests can share one Redis."""
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain redis-py client, to look at what the store wrote."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()
