"""Development sessions: `./dev demo`, `./dev tests`, `./dev lint`, `./dev perf` (or `nox -s NAME`)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session
def demo(session: nox.Session) -> None:
    """Run the example suite against the embedded sandbox; prints a table and the HTML report's path."""
    session.install("-e", ".")
    session.run("replybench", "demo", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (real Dovecot, real SMTP servers on loopback)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy --strict."""
    session.install("-e", ".[lint,test]")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")
    session.run("mypy")


@nox.session
def perf(session: nox.Session) -> None:
    """The harness's own speed and accuracy benchmarks (prints figures; not pass/fail timings)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.perf", *session.posargs)
