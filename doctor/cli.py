"""The command line edge: parses arguments, maps DoctorError to exit codes, and is the only place
(with the reporters) that writes to the terminal. Subcommands load lazily so `--help` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from doctor import __version__

# subcommand -> "module:attribute" of its click command; one module per subcommand
COMMANDS: dict[str, str] = {
    "check": "doctor.commands.check:check",
    "collect": "doctor.commands.collect:collect",
    "rules": "doctor.commands.rules:rules",
    "replicas": "doctor.commands.replicas:replicas",
    "explain": "doctor.commands.rules:explain",
    "completion": "doctor.commands.completion:completion",
    "probe": "doctor.commands.probe:probe",
    "simulate": "doctor.commands.simulate:simulate",
    "preflight": "doctor.commands.preflight:preflight",
    "fix": "doctor.commands.fix:fix",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_HELP = {
    "check": "Diagnose a service: a Docker container, a Kubernetes workload or an offline bundle.",
    "collect": "Write a support bundle (secrets redacted) for offline diagnosis.",
    "rules": "List, show, lint and test rules; print the rule JSON Schema.",
    "replicas": "Replicas needed for a load, by the Azure ML autoscaling formula.",
    "explain": "What a rule looks for, why, and how to fix it.",
    "completion": "Print the shell completion script (bash, zsh or fish).",
    "preflight": "Run score.py as the server would, before deploying, and predict its failures.",
    "probe": "Send real scoring requests to a URL and diagnose the answers.",
    "simulate": "Replay an access log through the autoscaler model and predict 503s.",
    "fix": "Propose the fixes as patches of your own files (diffs, kubectl patch); never applied by mldoctor.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=lambda ctx, _p, value: _version(ctx, value),
              help="Show the version, the log scan engine and the traffic pass, and exit.")
def cli() -> None:
    """mldoctor: why does my model service not start, keep restarting, or answer 502/503/504?"""


def _version(ctx: click.Context, value: bool) -> None:
    """`mldoctor --version`: the version, the scan engine in use (hyperscan, or re: the pure-Python path) and the
    traffic pass (c, or numpy / regex where the extension was not built)."""
    if not value or ctx.resilient_parsing:
        return
    from doctor.scan import resolve_engine
    from doctor.traffic.fast import resolve_engine as traffic_engine

    engine, traffic = resolve_engine(), traffic_engine()
    click.echo(f"mldoctor, version {__version__} (log scan engine: {engine}"
               f"{'' if engine == 'hyperscan' else '; pure Python: pip install hyperscan for the fast scan'}"
               f"; traffic pass: {traffic}"
               f"{'' if traffic == 'c' else _no_c_pass()})")
    ctx.exit()


def _no_c_pass() -> str:
    """Why the traffic pass is not the C one."""
    import os

    if os.environ.get("MLDOCTOR_TRAFFIC_NATIVE") == "0":
        return " (MLDOCTOR_TRAFFIC_NATIVE=0)"
    return " (the C pass was not built: pip install . with a C compiler builds it)"


# CPython's cyclic collector, tuned for a check: it allocates a few containers per hit line and keeps few of them, and
# the default young generation (700 allocations) collected ~500 times over 256 MB of the `mixed` shape, promoting
# what was briefly alive into the older generations it then traverses again: 0.24 s of the main process's 2.2 CPU-s
# there, 0.08 s with these (bench/README.md, issue 18). Memory is unchanged: little of what a check frees is cyclic.
GC_THRESHOLDS = (20_000, 10, 10)


def main(argv: list[str] | None = None, prog: str = "mldoctor") -> int:
    """Run the CLI; returns the exit code (0 ok, 1 findings, 2 bad input, 3 unreachable, 4 internal error,
    130 interrupted)."""
    from doctor.errors import DoctorError

    _terminate_as_interrupt()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        result: Any = cli.main(args=argv, prog_name=prog, standalone_mode=False)
    except DoctorError as err:
        click.echo(f"{prog}: error: {_redacted(err)}", err=True)
        return err.exit_code
    except click.exceptions.Exit as err:
        return int(err.exit_code)
    except click.ClickException as err:
        err.show()
        return 2
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo(f"{prog}: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # noqa: BLE001 - the one place a bug becomes a message instead of a traceback
        if os.environ.get("MLDOCTOR_DEBUG"):
            raise
        return _internal_error(err, prog, sys.argv[1:] if argv is None else argv)
    return int(result or 0)


def _internal_error(err: Exception, prog: str, argv: list[str]) -> int:
    """One line naming the bug and the file its traceback was saved to; exit 4 (not 2: the input was fine)."""
    from doctor.crash import save_traceback
    from doctor.errors import INTERNAL_ERROR_EXIT

    saved = save_traceback(err, argv)
    where = f"traceback saved to {saved}" if saved else "rerun with MLDOCTOR_DEBUG=1 for the traceback"
    click.echo(f"{prog}: internal error: {type(err).__name__}: {_redacted(err)} (a bug in mldoctor; {where}; "
               "please report it)", err=True)
    return INTERNAL_ERROR_EXIT


def _terminate_as_interrupt() -> None:
    """SIGTERM (a CronJob pod stopped, a CI job cancelled) ends the run like Ctrl-C: exit 130, temporary files
    removed and a live collection's reader process stopped, instead of dying on the spot."""
    import signal

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, interrupted)
    except ValueError:  # not the main thread (main() called from a thread): leave signals alone
        pass


def _redacted(err: BaseException) -> str:
    """The error's text redacted, on one line, with no control character reaching the terminal."""
    from doctor.redact import redact_text
    from doctor.report.escape import for_terminal

    return for_terminal(redact_text(str(err))).replace("\n", "\\n")


def run() -> None:
    """The `mldoctor` command (and `python -m doctor`): `main`, then the process ends (`end`)."""
    end(main())


def end(code: int) -> None:
    """Exit with `code`, without the interpreter's teardown: the output is flushed and the exit handlers run (the
    temporary folders of a live collection removed, ...) as the interpreter's own exit would, then the process ends
    at once rather than freeing every object the check made one by one (~20 ms of every check, on one core: a
    tenth of a small one). When a thread that is not a daemon still runs, or the output cannot be flushed, or this
    Python has no `atexit._run_exitfuncs`, the interpreter's own exit runs instead."""
    import atexit
    import threading

    handlers = getattr(atexit, "_run_exitfuncs", None)
    running = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if handlers is None or running:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`| head`), a closed stream: the usual exit reports it
        sys.exit(code)
    handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def kubectl_main() -> int:
    """Entry point of `kubectl mldoctor ...` (kubectl's plugin mechanism): `check deployment/scorer -n ml` works."""
    from doctor.kubectl_plugin import translate

    return main(translate(sys.argv[1:]), prog="kubectl mldoctor")


if __name__ == "__main__":
    run()
