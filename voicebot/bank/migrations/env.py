"""Alembic environment: runs on the engine handed over by voicebot.bank.db."""

from alembic import context

from voicebot.bank.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    context.run_migrations()
