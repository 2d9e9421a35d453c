"""Tests of the horde CLI, the C++ client library and its C interface (a package, so that this
folder's conftest.py does not shadow the plain `conftest` module other test folders import)."""
