"""tap_coda.bodies: a body read within its cap while it arrives, gzip inflated piece by piece."""

from __future__ import annotations

import gzip
import io
import os

import pytest
import requests
import urllib3

from tap_coda.bodies import CHUNK, BodyLimitError, CutShortError, read_capped


def response(body: bytes, **headers: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = 200
    answer.headers.update(headers)
    answer.raw = urllib3.HTTPResponse(
        body=io.BytesIO(body), headers=headers, preload_content=False, decode_content=False
    )
    return answer


def read(body: bytes, limit: int = 1 << 24, **headers: str) -> bytes:
    return read_capped(response(body, **headers), limit=limit, what="the body")


def test_plain_and_gzip_bodies_come_back_whole() -> None:
    text = os.urandom(3 * CHUNK + 5)
    assert read(text) == text
    assert read(gzip.compress(text), **{"Content-Encoding": "gzip"}) == text


def test_every_gzip_member_is_inflated() -> None:
    two = gzip.compress(b"first ") + gzip.compress(b"second")
    assert read(two, **{"Content-Encoding": "gzip"}) == b"first second"


def test_output_held_back_by_zlib_is_read_to_the_end() -> None:
    exact = bytes(4 * CHUNK)  # inflates in whole chunks: the last may wait inside zlib
    assert read(gzip.compress(exact), **{"Content-Encoding": "gzip"}) == exact


def test_a_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(bytes(64 << 20))
    with pytest.raises(BodyLimitError, match="goes past the cap of 1,048,576 bytes"):
        read(bomb, 1 << 20, **{"Content-Encoding": "gzip"})


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with pytest.raises(BodyLimitError, match="is 999,999 bytes, over the cap of 10"):
        read(b"", 10, **{"Content-Length": "999999"})


def test_a_cut_gzip_stream_is_cut_short() -> None:
    whole = gzip.compress(os.urandom(10_000))
    with pytest.raises(CutShortError, match="incomplete gzip stream"):
        read(whole[: len(whole) // 2], **{"Content-Encoding": "gzip"})


def test_the_deadline_is_checked_after_each_read() -> None:
    clock = iter([0.0, 5.0, 10.0])
    answer = response(os.urandom(3 * CHUNK))
    with pytest.raises(BodyLimitError, match="still arriving at its deadline"):
        read_capped(answer, limit=1 << 24, what="the body", deadline=4.0, clock=lambda: next(clock))
