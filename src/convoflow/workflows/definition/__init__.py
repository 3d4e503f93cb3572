"""Workflow definitions: pure data models and checks, with no database or web imports."""
