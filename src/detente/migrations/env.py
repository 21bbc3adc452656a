"""Alembic environment: migrations run on the engine detente hands over."""

from alembic import context

import detente.core.audit
import detente.sharing.tables  # noqa: F401
from detente.core.db import metadata
from detente.store.records import record_types

record_types()  # every slice's tables, announced through the detente.records entry points

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # migrations reach every row, whatever row-level security (0004) says
        connection.exec_driver_sql("SELECT set_config('detente.system', 'on', true)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
