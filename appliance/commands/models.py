"""``appliance models``: the embedded model, pinned downloads, requantization."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance import modelstore
from appliance.errors import ConfigError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("models", help="manage model files")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    lst = msub.add_parser("list", help="the production models and their pinned checksums")
    lst.set_defaults(func=run_list)

    path = msub.add_parser("path", help="print the embedded model's path (assembling it once)")
    path.add_argument("--small", action="store_true",
                      help="the pure Q4_0 requantization (<200 MB) instead")
    path.set_defaults(func=run_path)

    fetch = msub.add_parser(
        "fetch", help="download production models, verified against pinned sha256 checksums")
    fetch.add_argument("names", nargs="*", metavar="NAME",
                       help=f"which ({', '.join(modelstore.PRODUCTION_MODELS)}); default all")
    fetch.add_argument("--dest", type=Path, default=Path("/var/lib/appliance/models"),
                       help="directory to download into (default /var/lib/appliance/models)")
    fetch.add_argument("--sha256", help="expected sha256 (required for a model without a pin)")
    fetch.add_argument("--url", help="download from this URL instead (a mirror)")
    fetch.set_defaults(func=run_fetch)

    q = msub.add_parser("quantize", help="requantize a GGUF with a 4-bit embedding (<200 MB)")
    q.add_argument("source", type=Path, nargs="?",
                   help="the GGUF to requantize (default: the embedded model)")
    q.add_argument("dest", type=Path, nargs="?", help="where to write it (default: the cache)")
    q.add_argument("--keep-k-quants", action="store_true",
                   help="Q4_K_M blocks with a Q4_0 embedding (169 MB) instead of pure Q4_0")
    q.set_defaults(func=run_quantize)


def run_list(args: argparse.Namespace) -> int:
    for item in modelstore.PRODUCTION_MODELS.values():
        print(f"{item.name}: {item.url}")
        print(f"    sha256 {item.sha256 or '(not pinned)'}")
        print(f"    source: {item.source}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    print(modelstore.small_model() if args.small else modelstore.embedded_model())
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    names = args.names or list(modelstore.PRODUCTION_MODELS)
    unknown = [n for n in names if n not in modelstore.PRODUCTION_MODELS]
    if unknown:
        raise ConfigError(f"unknown model {unknown[0]!r} (known: "
                          f"{', '.join(modelstore.PRODUCTION_MODELS)})")
    if (args.sha256 or args.url) and len(names) != 1:
        raise ConfigError("--sha256 and --url apply to one model: name it")
    for name in names:
        item = modelstore.PRODUCTION_MODELS[name]

        def progress(done: int, total: int | None, name: str = name) -> None:
            if sys.stderr.isatty():
                pct = f" {100 * done / total:5.1f}%" if total else ""
                print(f"\r{name}: {done / 1e6:8.1f} MB{pct}", end="", file=sys.stderr)

        path = modelstore.fetch(item, args.dest, sha256=args.sha256, url=args.url,
                                progress=progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if item.unpack:
            path = modelstore.unpack_zip(path, args.dest)
        print(f"{name}: {path} (sha256 verified)")
    return 0


def run_quantize(args: argparse.Namespace) -> int:
    src = args.source or modelstore.embedded_model()
    dest = args.dest or modelstore.cache_dir() / (
        src.stem + ("-q4emb.gguf" if args.keep_k_quants else "-q4_0-pure.gguf"))
    out = modelstore.quantize(src, dest, recipe="q4_k_m" if args.keep_k_quants else "q4_0")
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
