#!/usr/bin/env bash
# Quick start, command 2: install what the tests need, start a local PostgreSQL, run the whole suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k segmenter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"

# PostgreSQL for the store contract tests: Debian's cluster, a superuser role for this user.
if [[ -z "${HT_TEST_PG_URL:-}" ]]; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster "$ver" main start 2>/dev/null || true
  me=$(id -un)
  $SUDO su postgres -c "psql -tAc \"select 1 from pg_roles where rolname='$me'\"" | grep -q 1 \
    || $SUDO su postgres -c "createuser -s $me"
fi

.venv/bin/ruff check gateway tests bench
.venv/bin/mypy gateway  # strict: settings in pyproject.toml [tool.mypy]
# Two workers (pytest-xdist): the suite waits on subprocesses, sockets and real-time audio much of
# the time, so two share the 2 cores well. Extra arguments come later and win (-n 0: one process).
exec .venv/bin/python -m pytest -q -n 2 "$@"
