"""Backups: hot snapshots, rotation, verify, restore, export and import."""
