"""Shared pytest options: `--update-golden` rewrites golden files instead of comparing."""
from __future__ import annotations

import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output (also: UPDATE_GOLDEN=1)")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN") == "1"
