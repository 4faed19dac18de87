"""The ``dicomreg`` command line: save, read, warp, map, validate, dump, scan, fields, batch,
echo, find, fetch, send, and the commands other packages add (the flows' run and editor).

Every refusal names the cause and what is accepted on stderr, with exit status 1 (2 for a
malformed command line), and no output file: one line for one problem; for several, a summary
line and then one line per problem, all of them at once. A traceback means a bug in dicomreg.

The commands are the modules in ``COMMAND_MODULES``, then the entry points of the group
``dicomreg.commands`` (see :mod:`.plugins`). A command module holds, side by side:

- ``COMMANDS``: each command's name and one-line help;
- ``add_parser(subparsers)``: adds them, each through :func:`.command.add_command` with its
  runner, and ``reads_dicom=True`` where it reads DICOM through pydicom (whose reading
  warnings are then quieted, see :func:`main`);
- the runners, each taking the parsed arguments and returning the exit status. They import
  pydicom, SimpleITK and numpy when they run, never at the module's top.

Only the chosen command's parser is built in full, the others being listed by name and help,
and other packages' commands are loaded only when the chosen one is not ours: save's option
choices come from a module that needs numpy, entry points need importlib.metadata, and
``dicomreg scan`` or ``dicomreg --help`` then import neither numpy, pydicom nor SimpleITK,
whose imports alone take longer than scanning thousands of headers.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dicomreg.core.cli import apply, batch, dump, fields, net, register, save, scan, validate
from dicomreg.core.cli.plugins import add_plugin_commands
from dicomreg.core.errors import DicomRegError

__all__ = ["COMMAND_MODULES", "build_parser", "builtin_commands", "main"]

COMMAND_MODULES = (save, register, apply, validate, dump, scan, fields, batch, net)


def builtin_commands() -> list[str]:
    """The names of this package's commands, in the order ``--help`` lists them."""
    return [name for module in COMMAND_MODULES for name in module.COMMANDS]


class _Version(argparse.Action):
    """``--version``, read from the installed metadata only when asked: importing
    importlib.metadata would cost ``dicomreg scan`` a third of its time."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from dicomreg.core.distribution import package_version

        print(f"dicomreg {package_version()}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``dicomreg``, with every command's parser built in full.

    Given ``command``, the first word of a command line (empty when it starts with an
    option), only what parsing that line needs: that command's parser in full, the other
    commands by name and help, and other packages' commands only when ``command`` is not
    one of ours (after a command's name, argparse parses nothing at the top).
    """
    parser = argparse.ArgumentParser(
        prog="dicomreg",
        description="DICOM Deformable Spatial Registration (REG) objects from displacement "
        "fields, rebuilding MeVisLab's DicomREGSave.")
    parser.add_argument("--version", action=_Version, help="show dicomreg's version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        if command is None or command in module.COMMANDS:
            module.add_parser(subparsers)
        else:
            for name, summary in module.COMMANDS.items():
                subparsers.add_parser(name, help=summary)
    ours = builtin_commands()
    if command not in ours:
        add_plugin_commands(subparsers, taken=ours)
    return parser


# Imported by pydicom (its test-data downloader, pydicom.data.download) when installed, used
# by no command of ours: they cost a command that reads DICOM a sixth of its start-up.
_DOWNLOADERS = ("requests", "tqdm")


def _import_pydicom_without_downloads() -> None:
    """Import pydicom with its optional downloaders hidden (None in ``sys.modules`` makes
    their imports fail, which pydicom expects), then unhide them: the network commands'
    DICOMweb client imports requests afterwards as usual."""
    if "pydicom" in sys.modules:
        return
    hidden = [name for name in _DOWNLOADERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import pydicom  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


@contextmanager
def _pydicom_reading_quieted(quiet: bool) -> Iterator[None]:
    """Values read from sources are validated by our own rules when inherited (an invalid
    one is reported and not copied); pydicom's reading warnings would only repeat that."""
    if not quiet:
        yield
        return
    _import_pydicom_without_downloads()
    from pydicom import config

    reading_mode = config.settings.reading_validation_mode
    config.settings.reading_validation_mode = config.IGNORE
    try:
        yield
    finally:
        config.settings.reading_validation_mode = reading_mode


def _print_refusal(command: str, error: DicomRegError) -> None:
    """One line for one problem; a summary line and one line per problem for several."""
    problems = getattr(error, "problems", None) or [str(error)]
    if len(problems) == 1:
        print(f"dicomreg {command}: error: {problems[0]}", file=sys.stderr)
        return
    print(f"dicomreg {command}: error: {len(problems)} problems:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM (a batch system's or a user's ``kill``) raised as SystemExit in the main
    thread, so that what a command started is undone on the way out as for any error: a
    partial output removed, an elastix child killed and its temporary folder removed. Python's
    default ends the process at once and left the child running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dicomreg``; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv and not argv[0].startswith("-") else ""
    args = build_parser(first).parse_args(argv)
    from dicomreg.core.input import limit_restored_after  # the face only: cheap

    with _pydicom_reading_quieted(getattr(args, "reads_dicom", False)), \
            limit_restored_after(), _terminate_as_exit():
        try:
            return int(args.runner(args))
        except DicomRegError as error:
            _print_refusal(args.command, error)
            return 1
        except BrokenPipeError:
            # Whoever read our output has gone (``| head``): the work is done, and there is
            # no one left to tell. Point stdout at nowhere so that the exit does not fail
            # again.
            with open(os.devnull, "w") as nowhere:
                os.dup2(nowhere.fileno(), sys.stdout.fileno())
            return 141  # as a shell reports a command ended by SIGPIPE
        except OSError as error:  # a full disk, a permission: nothing was written
            print(f"dicomreg {args.command}: error: {error}", file=sys.stderr)
            return 1
        except RecursionError:
            # The last guard for hostile nesting (sequences in sequences, JSON, patterns)
            # that a reader below did not bound itself: one line, like every refusal.
            print(f"dicomreg {args.command}: error: an input is nested too deeply to read "
                  "(a damaged or hostile file); expected ordinary nesting", file=sys.stderr)
            return 1
        except MemoryError:
            print(f"dicomreg {args.command}: error: an input needs more memory than the "
                  "machine gives (a damaged header, or a field beyond --max-field-size)",
                  file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
