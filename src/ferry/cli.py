"""The ``ferry`` command: one thin verb per API call; the only place that prints
errors and chooses exit codes (0 ok, 1 failed run or differences, 2 bad input)."""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console

from ferry import api
from ferry.errors import FerryError, InputError
from ferry.secrets import redact

out = Console(width=None if sys.stdout.isatty() else 200, emoji=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200, emoji=False)


class _State:
    debug = False


def _split(values: tuple[str, ...]) -> list[str]:
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def _plan(plan_file, source, target, tables=(), exclude=(), **options):
    """A plan from a file (CLI options override its options) or from URLs."""
    options = {k: v for k, v in options.items() if v is not None}
    if plan_file:
        plan = api.load_plan(plan_file)
        if source or target:
            raise InputError("give either a plan file or --source/--target, not both")
        from ferry.plan.model import Options

        merged = api.validated(Options, {**plan.options.model_dump(), **options})
        update = {"options": merged}
        if tables:
            update["include"] = _split(tables)
        if exclude:
            update["exclude"] = _split(exclude)
        return plan.model_copy(update=update)
    if not (source and target):
        raise InputError("missing --source and --target (or a plan file)",
                         "ferry run --source URL --target URL, or ferry run plan.yaml")
    api.check_urls(source, target)
    return api.plan_from_urls(source, target, _split(tables), _split(exclude), **options)


def _fail(exc: BaseException) -> None:
    if _State.debug:
        raise exc
    if isinstance(exc, FerryError):
        err.print(f"error: {exc.message}", highlight=False, markup=False)
        for problem in getattr(exc, "problems", []):
            err.print(f"  {problem}", highlight=False, markup=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", highlight=False, markup=False)
        sys.exit(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        err.print("interrupted: run `ferry run` again to resume")
        sys.exit(130)
    err.print(f"error: {redact(f'{type(exc).__name__}: {exc}')}", highlight=False, markup=False)
    err.print("hint: run again with --debug for the traceback", highlight=False)
    sys.exit(1)


class _Guarded(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            err.print(f"error: {exc.format_message()}", highlight=False, markup=False)
            sys.exit(2)
        except (Exception, KeyboardInterrupt) as exc:
            _fail(exc)


@click.group(cls=_Guarded)
@click.option("--debug", is_flag=True, help="show tracebacks")
@click.version_option(package_name="ferry")
def main(debug: bool) -> None:
    """ferry: plan, run, prove and reverse database data migrations."""
    _State.debug = debug


_url_options = [
    click.argument("plan_file", required=False, type=click.Path(dir_okay=False)),
    click.option("--source", help="source URL: postgresql://, mysql://, sqlite:///path"),
    click.option("--target", help="target URL"),
    click.option("--tables", multiple=True, help="table name patterns to include (comma separated)"),
    click.option("--exclude", multiple=True, help="table name patterns to leave out"),
]


def url_options(fn):
    for option in reversed(_url_options):
        fn = option(fn)
    return fn


@main.command()
@url_options
@click.option("--jobs", type=int, help="parallel workers (default: CPU cores)")
@click.option("--chunk-rows", type=int, help="rows per chunk (default 100000)")
@click.option("--batch-rows", type=int, help="rows per batch (default 10000)")
@click.option("--max-rejects", type=int, help="fail above this many rejected rows (default 0)")
@click.option("--if-exists", type=click.Choice(["fail", "drop", "truncate"]), help="existing target tables")
@click.option("--no-verify", is_flag=True, help="skip the verification at the end")
@click.option("--dry-run", is_flag=True, help="show the phases and actions without changing anything")
def run(plan_file, source, target, tables, exclude, jobs, chunk_rows, batch_rows, max_rejects,
        if_exists, no_verify, dry_run):
    """Migrate every table (or the plan's), resuming an interrupted run."""
    plan = _plan(plan_file, source, target, tables, exclude, jobs=jobs, chunk_rows=chunk_rows,
                 batch_rows=batch_rows, max_rejects=max_rejects, if_exists=if_exists,
                 verify=False if no_verify else None)
    from ferry.report.progress import progress_events

    with progress_events(err) as events:
        result = api.run(plan, plan_file=plan_file, events=events, dry_run=dry_run)
    from ferry.report import summary as report

    if dry_run:
        for phase, lines in result:
            out.print(f"[bold]{phase}[/bold]")
            for line in lines:
                out.print(f"  - {line}", highlight=False, markup=False)
        return
    report.run_summary(out, result)


@main.command()
@url_options
@click.option("--json", "as_json", is_flag=True, help="print the reconciliation report as one JSON document "
              "(what --report x.json writes)")
@click.option("--checks", "check_names", help="checks to run, comma separated: counts, checksum, sample, "
              "aggregates, not_null, unique, foreign_keys, sql (default: the plan's, else counts,checksum)")
@click.option("--source-only", is_flag=True, help="run not_null, unique, foreign_keys on the source only")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="write a reconciliation report: .md, .html or .json")
def verify(plan_file, source, target, tables, exclude, as_json, check_names, source_only, report_path):
    """Compare source and target with the selected checks. Exit 0 when every
    check passes, 1 when one fails or needs review, 2 for bad input."""
    from ferry.report import reconciliation

    if report_path:
        reconciliation.report_format(report_path)
    plan = _plan(plan_file, source, target, tables, exclude)
    from ferry.report.progress import progress_events

    with progress_events(err) as events:
        results = api.verify(plan, plan_file=plan_file, events=events, checks=check_names,
                             source_only=source_only)
    if report_path:
        reconciliation.write(report_path, results, plan)
    if as_json:
        click.echo(reconciliation.to_json(results, plan))
    else:
        from ferry.report import summary as report

        if results:
            report.verify_results(out, results)
        reconciliation.print_checks(out, results)
    if results.status != "pass":
        failed = sorted({c.table for c in results.checks if c.status == results.status})
        what = f"differences in {len(failed)} table(s)" if results.status == "fail" else "needs review"
        err.print(f"{what}: {', '.join(failed)}", highlight=False, markup=False)
        sys.exit(1)


@main.command()
@url_options
def status(plan_file, source, target, tables, exclude):
    """Show the last run of the plan from its journal."""
    plan = _plan(plan_file, source, target, tables, exclude)
    info = api.status(plan, plan_file)
    if info is None:
        out.print("no run recorded for this plan yet")
        return
    from ferry.report import summary as report

    report.status(out, info)


@main.command()
@click.option("--source", required=True, help="source URL")
@click.option("--target", required=True, help="target URL")
@click.option("--tables", multiple=True, help="table name patterns to include")
@click.option("--exclude", multiple=True, help="table name patterns to leave out")
def init(source, target, tables, exclude):
    """Write a commented migration plan (YAML) from introspection to stdout."""
    from ferry.report.init import render_plan

    plan = _plan(None, source, target, tables, exclude)
    click.echo(render_plan(plan, source, target))


@main.command("plan-schema")
def plan_schema():
    """Print the JSON Schema of a plan file."""
    from ferry.plan.model import plan_json_schema

    click.echo(json.dumps(plan_json_schema(), indent=2))


def entry() -> None:
    """The ``ferry`` command (console script and ``python -m ferry.cli``):
    :func:`main`, then the process ends at once. Every journal, lock and
    connection is closed when a command returns, and the output is flushed
    here; what is skipped is the interpreter's teardown of its modules
    (pydantic's, sqlglot's, rich's), 0.05-0.1 s of every command (measured:
    bench/RESULTS.md, session 12)."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):     # sys.exit("message")
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    entry()

