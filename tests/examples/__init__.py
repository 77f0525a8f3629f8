"""Tests of the examples/ scripts."""
