"""`skelact prepare <recipe> [options]`: raw data → packed store (or a split added to one).

Every recipe is found through the preparer registry, and its flags are generated from its option
records, so adding a recipe touches no code here.
"""

from __future__ import annotations

from skelact.cli.main import QuietArgumentParser
from skelact.cli.options import add_option_flags, flag_names, options_from_namespace, show_flags
from skelact.errors import SkelactError


def run_prepare(args: list[str]) -> int:
    from skelact.data.prepare.registry import load_preparers
    from skelact.video import jhmdb_rgb  # noqa: F401  registers `jhmdb-rgb` (the data layer cannot import video)

    parser = QuietArgumentParser(prog="skelact prepare", description="Write a packed store.")
    sources = parser.add_subparsers(dest="source", required=True, parser_class=QuietArgumentParser)
    preparers = load_preparers()
    for name, preparer in preparers.items():
        sub = sources.add_parser(name, help=preparer.help, description=preparer.help)
        add_option_flags(sub, *preparer.option_types)
    namespace = parser.parse_args(args)
    preparer = preparers[namespace.source]
    try:
        options = [options_from_namespace(cls, namespace) for cls in preparer.option_types]
        summary = preparer.prepare(*options)
    except SkelactError as err:  # messages name options by field: show the flags the user typed
        show_flags(err, flag_names(*preparer.option_types))
        raise
    for line in summary.lines():
        print(line)
    return 0
