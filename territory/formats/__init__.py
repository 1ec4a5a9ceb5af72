"""Readers for the French public files the territory app imports. They parse and validate;
they never touch the database (services do)."""
