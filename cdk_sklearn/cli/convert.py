"""``cdk-sklearn convert``: turn a scikit-learn model into a verified ONNX graph and its report.

Loads the model (this runs the model file's code: use it on models you trust), converts it with
skl2onnx, checks the graph against the model on the sample and edge rows with onnxruntime
(:func:`cdk_sklearn.model.onnx.convert`), then writes ``--output`` and
``<output>.report.json`` next to it. A model that cannot be served as ONNX (no converter, a converter or
onnxruntime failure, a disagreement) is one line on stderr and exit code 2, never a traceback. Needs the
``onnx`` extra; never imports aws_cdk.
"""

from __future__ import annotations

import argparse
from typing import Any

from cdk_sklearn.cli.main import UsageError
from cdk_sklearn.distribution import install_extra


def register(subparsers: Any) -> None:
    """Add ``convert`` to the CLI."""
    parser = subparsers.add_parser(
        "convert",
        help="convert a model to ONNX and verify it against scikit-learn on sample rows",
        description="Convert a scikit-learn model (joblib, pickle or skops) to ONNX, verify the graph "
        "against the model on the sample rows and on edge rows (unseen categories, NaN, values beyond "
        "the sample's range), and write the graph with its verification report "
        "(<output>.report.json). Exit code 2 when the model cannot be served as ONNX.",
    )
    parser.add_argument("--model", required=True, help="the model file (joblib, pickle or skops)")
    parser.add_argument(
        "--sample",
        required=True,
        help="rows like those you will send: .csv (with header), .parquet, .npy, .json",
    )
    parser.add_argument("--output", required=True, help="where to write the graph, e.g. model.onnx")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="largest absolute difference allowed in probabilities and regression outputs (default 1e-5)",
    )
    parser.add_argument(
        "--trust",
        action="append",
        default=None,
        metavar="TYPE",
        help="for a .skops model: a type it may load (repeat); default: the types the file names",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Convert, verify, write, print the summary; a refusal is one line on stderr and exit code 2."""
    try:
        from cdk_sklearn.model.onnx import DEFAULT_TOLERANCE, convert
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise UsageError(
            f"cdk-sklearn convert needs cdk-sklearn's onnx extra ({exc.name} is missing): "
            f"{install_extra('onnx')}"
        ) from exc
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    try:
        result = convert(args.model, args.sample, tolerance=tolerance, trusted_types=args.trust)
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"cdk-sklearn convert needs cdk-sklearn's onnx extra ({exc.name} is missing): "
            f"{install_extra('onnx')}"
        ) from exc
    graph, report = result.write(args.output)
    print(result.summary())
    print(f"wrote {graph} and {report}")
    return 0
