"""Persistence: peewee models, opening the database, migrations, audit chain."""
