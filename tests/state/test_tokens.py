"""The names of leases, state versions and CallEnd claims: unique whatever the app does to `random`, and per worker."""

from __future__ import annotations

import os
import random

import pytest

from vns_sdk.state._tokens import new_token


def test_names_stay_unique_when_the_random_module_is_seeded() -> None:
    random.seed(7)
    first = new_token()
    random.seed(7)  # an app (or a test framework) seeding the random module the same way again
    assert new_token() != first
    assert len({new_token() for _ in range(10_000)}) == 10_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need os.fork")
def test_a_forked_worker_names_apart_from_its_parent() -> None:
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: send its next name and go
        os.write(writing, new_token().encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    theirs = os.read(reading, 64).decode()
    os.close(reading)
    ours = new_token()
    assert theirs != ours and theirs[:12] != ours[:12]  # another prefix, not only another count
