"""Marks the benchmark tests share."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.wrk import WRK

needs_wrk = pytest.mark.skipif(
    shutil.which(WRK) is None, reason="needs the wrk binary on PATH (apt-get install wrk)"
)
