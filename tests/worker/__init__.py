"""End-to-end tests of horde-worker (a package so its conftest stays separate)."""
