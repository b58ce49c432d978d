"""All database access: models, sessions, repository functions. Nothing else touches SQL."""

from gxcrawl.store import quality_models  # noqa: F401  (registers report_quality_scores)
from gxcrawl.store.db import Database, database_url, make_engine, upgrade

__all__ = ["Database", "database_url", "make_engine", "upgrade"]
