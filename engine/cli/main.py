"""``layerstudio COMMAND ...``: an argparse front end over the registry in ``engine.cli``.

Only the module of the command being run is imported (its ``add_arguments`` fills its
sub-parser); the others appear in ``--help`` by their one-line help alone.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from engine.cli import COMMANDS
from engine.errors import LayerStudioError, UnreadableFileError

PROG = "layerstudio"

# Exit codes of DESIGN.md.
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A command line that cannot be run: one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, not a usage block."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser(command: str | None = None, *, extra_epilog: str = "") -> Parser:
    """The parser; only ``command``'s module (if any) is imported to add its arguments."""
    parser = Parser(prog=PROG, description="Design, train and understand neural networks.",
                    epilog=extra_epilog or None, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option (the sub-command), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None, *, extra_epilog: str = "") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(argv)
    try:
        if command is not None and command not in COMMANDS:
            raise UsageError(f"{PROG}: unknown command {command!r} "
                             f"(commands: {', '.join(COMMANDS)}; see {PROG} --help)")
        parser = build_parser(command, extra_epilog=extra_epilog)
        if not argv:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help prints and exits 0
            return int(e.code or 0)
        module = importlib.import_module(COMMANDS[args.command][0])
        return int(module.run(args))
    except UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    except LayerStudioError as e:  # a command that let a user error through: still one line
        print(f"{PROG}: {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, UnreadableFileError) else EXIT_INVALID
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `layerstudio check x.json | head`: the reader left, not an error of ours
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not raise again."""
    import os
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
