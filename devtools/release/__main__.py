"""``python -m devtools.release``: build, reproduce or verify a release from a git checkout."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from devtools.release.artifacts import ReleaseError, build, write_sha256sums
from devtools.release.reproduce import reproduce
from devtools.release.verify import check_release, twine_check

SOURCE_HELP = "the git checkout (default: the current folder)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return 0 when it holds, 1 with the problems on stderr otherwise."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ReleaseError as error:
        return _report([str(error)], "")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.release", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("build", "build the sdist (normalised) and the wheel of the checkout, then twine check them"),
        ("reproduce", "build HEAD in two clones, compare the bytes, twine check, keep the first build"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--source", type=Path, default=Path.cwd(), help=SOURCE_HELP)
        command.add_argument("--outdir", type=Path, default=Path("dist"), help="where they go (dist)")
    verify = commands.add_parser("verify-tag", help="check a tag can be published (version, CHANGELOG, URLs)")
    verify.add_argument("tag", help="the git tag, v<version>")
    verify.add_argument("--source", type=Path, default=Path.cwd(), help=SOURCE_HELP)
    verify.add_argument("--repository-url", help="the repository's URL, which [project.urls] Source must be")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "verify-tag":
        return _report(check_release(args.source, args.tag, args.repository_url), f"{args.tag} is ready")
    if args.command == "build":
        paths = list(build(args.source.resolve(), args.outdir.resolve()).paths())
        return _finish(paths, args.outdir, [])
    with tempfile.TemporaryDirectory(prefix="cdk-sklearn-release-") as work:
        reproduction = reproduce(args.source.resolve(), Path(work))
        args.outdir.mkdir(parents=True, exist_ok=True)
        paths = [Path(shutil.copy2(path, args.outdir)) for path in reproduction.first.paths()]
        commit = reproduction.commit
        mismatches = [f"two builds of {commit} differ: {line}" for line in reproduction.mismatches()]
    return _finish(paths, args.outdir, mismatches)


def _finish(paths: list[Path], outdir: Path, problems: list[str]) -> int:
    problems = problems + twine_check(paths)
    sums = write_sha256sums(paths, outdir / "SHA256SUMS")
    return _report(problems, f"{', '.join(path.name for path in paths)} (sha256 in {sums})")


def _report(problems: list[str], success: str) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {success}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
