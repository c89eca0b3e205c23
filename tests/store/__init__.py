"""Tests of the file store: real processes, real files."""
