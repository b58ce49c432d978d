"""Build hook only; the package is described in pyproject.toml.

Ships the top-level `migrations/` (Alembic) inside the package as `gxcrawl/_migrations`, so an
installed wheel or a Scrapyd egg can create and upgrade databases without the checkout. Kept in
git so that `scrapyd-deploy` builds its egg from this file and pyproject.toml instead of writing a
setup.py of its own (which would drop the package data and the migrations).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PACKAGED = Path("gxcrawl") / "_migrations"
SHIPPED = ("*.py", "*.mako", "versions/*.py")


class BuildWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads migrations/ from the checkout
            return
        for pattern in SHIPPED:
            for source in sorted(MIGRATIONS.glob(pattern)):
                target = Path(self.build_lib) / PACKAGED / source.relative_to(MIGRATIONS)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithMigrations})
