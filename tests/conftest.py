"""Fixtures shared by every test: the fake Coda API on loopback."""

from tests.fakecoda.fixtures import fake_coda, fake_coda_factory  # noqa: F401
