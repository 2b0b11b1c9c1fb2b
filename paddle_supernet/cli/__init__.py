"""The ``paddle-supernet`` command: one subcommand per job.

Pure-Python subcommands (sample, proxy, score, merge) never import Paddle;
the training ones import it only when run.

Example:
    $ paddle-supernet sample --space cvpr21_resnet20 --n 100 --seed 0 --out archs.json
    $ paddle-supernet proxy --space cvpr21_resnet20 --proxy params --archs archs.json --out params.json
    $ paddle-supernet score --submission params.json --gt gt.json
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import InputError
from ..quiet_import import quiet_paddle_import
from . import archs as _archs_commands

_COMMAND_MODULES = [_archs_commands]


def _lazy_modules():
    """Subcommands that need Paddle; imported only to register their parsers (cheap)."""
    from . import deploy, training  # noqa: WPS433

    return [training, deploy]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="paddle-supernet", description="One-shot NAS supernets on PaddlePaddle.")
    parser.add_argument("--version", action="version", version=f"paddle-supernet {__version__}")
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                        help="import MODULE first (repeatable): a search space of your own, registered by it "
                             "(configs list theirs under custom_imports)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMAND_MODULES + _lazy_modules():
        module.add_commands(sub)
    return parser


def _imports_first(argv: list[str]) -> list[str]:
    """``--import MODULE`` is accepted anywhere on the line: moved before the subcommand.

    >>> _imports_first(["sample", "--n", "2", "--import", "m", "--import=k"])
    ['--import', 'm', '--import=k', 'sample', '--n', '2']
    """
    front, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] == "--import" and i + 1 < len(argv):
            front += argv[i:i + 2]
            i += 2
            continue
        (front if argv[i].startswith("--import=") else rest).append(argv[i])
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input)."""
    quiet_paddle_import()
    args = build_parser().parse_args(_imports_first(sys.argv[1:] if argv is None else list(argv)))
    try:
        from ..plugins import import_modules

        import_modules(args.imports, "--import", key=None)
        from ..io.guards import check_command

        check_command(args)  # no output over an input, before any work
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, so that a reader that stopped early (`| head`) is caught below
        return code
    except InputError as err:
        print(f"paddle-supernet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of our output went away: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
