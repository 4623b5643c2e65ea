"""Build of the one C module (the rest of the package is in pyproject.toml).

``ferry.connectors._pgpump`` moves COPY data into PostgreSQL (from PostgreSQL
and from MariaDB/MySQL) without the interpreter; it needs only Python's
headers. It is optional: without a C compiler the install goes on and those
copies run through Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("ferry.connectors._pgpump", ["src/ferry/connectors/_pgpump.c"], optional=True)])
