"""Helpers shared by test modules of several folders (``tests/conftest.py`` puts ``tests/`` on ``sys.path``)."""
