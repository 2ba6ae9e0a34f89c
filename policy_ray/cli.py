"""`policy-ray` command line: thin wrappers over flows.

Exit codes: 0 done; 1 verification or usage failed, or reconcile found a new deviation or drift; 2 the night
could not run (or the lake cannot be read); 3 another run holds the batch. Each command's own docstring says more.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from policy_ray import logs
from policy_ray.config import Settings


def _add_ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="folder or filesystem URI holding the night's documents")
    p.add_argument("--lake", required=True, help="folder or URI of the Delta lake")
    p.add_argument("--batch-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    p.add_argument("--batch-id", default=None, help="override the deterministic batch id")
    p.add_argument("--address", default=None, help="Ray address (default: RAY_ADDRESS, else a local instance)")
    p.add_argument("--extractors", type=int, default=None, help="extractor actors (default: one per CPU)")
    p.add_argument("--max-calls", type=int, default=None, help="documents per actor before it is recycled")
    p.add_argument("--memory-ceiling-mb", type=int, default=None, help="memory ceiling of each actor")
    p.add_argument("--deadline", type=float, default=None, help="seconds a document may take")
    p.add_argument("--max-attempts", type=int, default=None, help="worker failures before a document is poison")
    p.add_argument("--commit-every", type=int, default=None, help="documents per micro-batch commit")
    p.add_argument("--ocr", action=argparse.BooleanOptionalAction, default=None,
                   help="send scans and weak text layers to the OCR pool (default: on)")
    p.add_argument("--ocr-workers", type=int, default=None, help="OCR actors (default 1)")
    p.add_argument("--ocr-engine", choices=("auto", "tesseract", "rapidocr"), default=None,
                   help="auto: rapidocr on GPU clusters, tesseract otherwise")
    p.add_argument("--ocr-dpi", type=int, default=None, help="render resolution for OCR (default 200)")
    # Where actors run on a cluster of dedicated node types; cluster.yaml's head exports these for its jobs.
    p.add_argument("--extractor-resource", metavar="NAME", default=os.environ.get("POLICY_RAY_EXTRACTOR_RESOURCE"),
                   help="custom resource every extractor asks for (default: $POLICY_RAY_EXTRACTOR_RESOURCE; unset: "
                        "`extractor` once a node advertises it; none: never)")
    p.add_argument("--ocr-resource", metavar="NAME", default=os.environ.get("POLICY_RAY_OCR_RESOURCE"),
                   help="custom resource every OCR actor asks for (default: $POLICY_RAY_OCR_RESOURCE; unset: `ocr` "
                        "once a node advertises it; none: never)")
    p.add_argument("--ocr-gpus", metavar="N", type=float, default=os.environ.get("POLICY_RAY_OCR_GPUS"),
                   help="GPUs per OCR actor: RapidOCR on CUDA, on GPU nodes (default: $POLICY_RAY_OCR_GPUS; 0: CPU)")
    p.add_argument("--alert-webhook", default=None, help="POST a JSON alert here when the night is quarantined")
    p.add_argument("--no-reconcile", action="store_true", help="skip the end-of-night reconciliation")
    p.add_argument("--storage-option", action="append", default=None, metavar="KEY=VALUE",
                   help="S3 option for input and lake, e.g. AWS_ENDPOINT_URL=http://minio:9000 (repeatable; "
                        "default: the AWS_* environment variables; put secrets in the environment)")
    p.add_argument("--autoscale", action=argparse.BooleanOptionalAction, default=None,
                   help="ask the Ray autoscaler for what finishes the backlog in time (default: on)")
    p.add_argument("--night-window-hours", type=float, default=None, help="finish the backlog within (default 6)")
    p.add_argument("--scale-min-cpus", type=int, default=None, help="extractor CPUs asked for at least")
    p.add_argument("--scale-max-cpus", type=int, default=None, help="extractor CPUs asked for at most (160)")
    p.add_argument("--scale-max-ocr", type=int, default=None, help="OCR actors asked for at most (4)")
    p.add_argument("--no-triage", action="store_true", help="geometry on every page (slow path)")
    p.add_argument("--no-camelot", action="store_true", help="skip camelot's second opinion on ruled tables")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--log-level", default=None)
    p.add_argument("--json-summary", type=Path, default=None, help="also write the summary as JSON here")
    p.add_argument("--take-over-lease", action="store_true",
                   help="run even though another run holds the batch's lease: only when that run is known to be "
                        "dead (e.g. its head node is gone; runbooks/rerun-night.md)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    def opt(name: str) -> Any:
        return getattr(args, name, None)

    return Settings().replace(
        extractors=opt("extractors"), max_calls=opt("max_calls"), memory_ceiling_mb=opt("memory_ceiling_mb"),
        document_deadline_s=opt("deadline"), max_attempts=opt("max_attempts"), commit_every_docs=opt("commit_every"),
        triage=False if opt("no_triage") else None, camelot=False if opt("no_camelot") else None,
        ocr=opt("ocr"), ocr_workers=opt("ocr_workers"), ocr_engine=opt("ocr_engine"), ocr_dpi=opt("ocr_dpi"),
        alert_webhook=opt("alert_webhook"), reconcile=False if opt("no_reconcile") else None,
        storage_options=dict(o.split("=", 1) for o in opt("storage_option")) if opt("storage_option") else None,
        autoscale=opt("autoscale"), scale_min_cpus=opt("scale_min_cpus"), scale_max_cpus=opt("scale_max_cpus"),
        scale_max_ocr_bundles=opt("scale_max_ocr"),
        night_window_s=opt("night_window_hours") * 3600 if opt("night_window_hours") else None,
        extractor_resource=opt("extractor_resource"), ocr_resource=opt("ocr_resource"),
        ocr_use_gpu=None if opt("ocr_gpus") is None else opt("ocr_gpus") > 0,
        ocr_gpus_per_actor=opt("ocr_gpus") or None,
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    import json

    from policy_ray.flows.nightly import NightRequest, run_night

    logs.configure("driver", level=args.log_level)
    request = NightRequest(input_uri=args.input, lake_uri=args.lake, batch_date=args.batch_date or date.today(),
                           batch_id=args.batch_id, address=args.address, progress=args.progress,
                           take_over_lease=args.take_over_lease)
    try:
        summary = run_night(request, settings_from_args(args))
    except Exception as exc:
        code = night_exit_code(exc)
        if code is None:
            raise  # a defect, not an outcome: the traceback is what a developer needs
        what = "nothing done" if code == 3 else "the night could not run"
        logs.logger.error(what, error=str(exc), error_type=type(exc).__name__)
        print(f"policy-ray: {what}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return code
    print(summary.render())
    if args.json_summary:
        args.json_summary.write_text(json.dumps(summary.as_dict(), indent=2, sort_keys=True, default=str))
    return 0


def night_exit_code(exc: BaseException) -> int | None:
    """3: another run holds the batch or committed to it at the same moment; 2: the night itself could not
    run (input missing, lake or object store unreachable, cluster gone or too small); None: a defect."""
    import ray.exceptions
    from deltalake.exceptions import CommitFailedError, DeltaError

    from policy_ray.actors.scheduler import NoCapacity
    from policy_ray.adapters.lake import LakeUnavailable
    from policy_ray.flows.nightly import BatchBusy

    if isinstance(exc, BatchBusy | CommitFailedError):
        return 3
    if isinstance(exc, LakeUnavailable | OSError | NoCapacity | DeltaError | ray.exceptions.RaySystemError
                  | ray.exceptions.RpcError | ray.exceptions.NodeDiedError | ray.exceptions.LocalRayletDiedError):
        return 2
    return None


def cmd_sample(args: argparse.Namespace) -> int:
    from policy_ray.sample import generate_night

    acord = args.acord_form
    if acord is None:
        default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pdfs" / "acord25_blank.pdf"
        acord = default if default.exists() else None
    truth = generate_night(args.out, args.n, args.seed, acord_form=acord, include_images=args.images)
    print(f"wrote {args.n} documents to {args.out} (ground truth: {truth})")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from policy_ray.flows.query import format_table, run_sql

    result = run_sql(args.lake, args.query)
    print(format_table(result, max_rows=args.max_rows))
    return 0


def _lake(args: argparse.Namespace) -> Any:
    from policy_ray.adapters.lake import Lake

    options = dict(o.split("=", 1) for o in args.storage_option) if getattr(args, "storage_option", None) else None
    return Lake(args.lake, storage_options=options)


def _unreadable_lake(command: str, exc: Exception) -> int:
    print(f"policy-ray {command}: the lake cannot be read: {exc}", file=sys.stderr)
    return 2


def _published_head(text: str) -> Any:
    from policy_ray.core.audit_chain import PublishedHead

    try:
        return PublishedHead.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """0 the history holds; 1 a finding; 2 the lake cannot be read."""
    from policy_ray.adapters.lake import LakeUnavailable
    from policy_ray.flows.verify import verify

    try:
        report = verify(_lake(args), batch_id=args.batch, sources=args.sources, published=args.published_head)
    except LakeUnavailable as exc:
        return _unreadable_lake("audit verify", exc)
    print(report.render())
    return 0 if report.ok else 1


def cmd_optimize(args: argparse.Namespace) -> int:
    import json

    from policy_ray.adapters.lake import Lake
    from policy_ray.flows.maintenance import optimize

    print(json.dumps(optimize(Lake(args.lake)), indent=2, sort_keys=True))
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """0 every batch fine, or its deviations already reported (quarantined) or reviewed (released, figures
    unchanged since), or still running; 1 a new deviation or drift found by this run, an unknown batch, or
    neither/both of --batch and --all; 2 the lake cannot be read. See runbooks/reconcile.md."""
    from policy_ray.adapters.lake import LakeUnavailable
    from policy_ray.flows.reconcile import UnknownBatch, exit_code, reconcile_all, reconcile_batch

    if bool(args.all) == bool(args.batch):
        print("policy-ray reconcile: give either --batch ID or --all", file=sys.stderr)
        return 1
    logs.configure("reconcile", level=args.log_level)
    lake = _lake(args)
    try:
        results = (reconcile_all(lake, webhook=args.webhook) if args.all
                   else [reconcile_batch(lake, args.batch, webhook=args.webhook)])
    except UnknownBatch as exc:
        print(f"policy-ray reconcile: {exc}", file=sys.stderr)
        return 1
    except LakeUnavailable as exc:
        return _unreadable_lake("reconcile", exc)
    for result in results:
        print(result.render())
    return exit_code(results)


def cmd_batch_release(args: argparse.Namespace) -> int:
    """0 released; 1 unknown batch, not quarantined, or no reason; 2 the lake cannot be read."""
    from policy_ray.adapters.lake import LakeUnavailable
    from policy_ray.flows.reconcile import release

    logs.configure("reconcile", level=args.log_level)
    try:
        release(_lake(args), args.batch_id, args.reason)
    except (KeyError, ValueError) as exc:  # UnknownBatch, TransitionRefused, an empty reason
        print(f"policy-ray batch release: {exc}", file=sys.stderr)
        return 1
    except LakeUnavailable as exc:
        return _unreadable_lake("batch release", exc)
    print(f"batch {args.batch_id} released")
    return 0


def _dlq_filter(args: argparse.Namespace) -> Any:
    from policy_ray.flows.replay import REPLAYABLE, DlqFilter

    status = tuple(args.status.split(",")) if args.status else REPLAYABLE
    return DlqFilter(category=args.category, batch_id=args.batch, carrier=args.carrier, retryable=args.retryable,
                     since=args.since, status=status, keys=tuple(getattr(args, "keys", ()) or ()))


def cmd_dlq(args: argparse.Namespace) -> int:
    """list: 0. show: 0, or 1 when nothing matches. replay: 0 it ran (failing again is an outcome), 2/3 as
    for ingest when its batch could not run."""
    import json

    from policy_ray.adapters.lake import LakeUnavailable
    from policy_ray.flows.query import format_table
    from policy_ray.flows.replay import LIST_COLUMNS, history, replay, select

    lake = _lake(args)
    try:
        if args.dlq_command == "list":
            print(format_table(select(lake, _dlq_filter(args)).select(LIST_COLUMNS), max_rows=args.max_rows))
            return 0
        if args.dlq_command == "show":
            rows = select(lake, _dlq_filter(args)).to_pylist()
            for row in rows:
                row["replay_history"] = history(lake, row["idempotency_key"])
                print(json.dumps(row, indent=2, default=str, sort_keys=True))
            if not rows:
                print("policy-ray dlq show: no dead letter matches (mind --status: default "
                      "open,requeued,failed_again)", file=sys.stderr)
            return 0 if rows else 1
    except LakeUnavailable as exc:
        return _unreadable_lake(f"dlq {args.dlq_command}", exc)
    logs.configure("replay", level=args.log_level)
    try:
        result = replay(lake, _dlq_filter(args), settings_from_args(args), address=args.address)
    except Exception as exc:
        code = night_exit_code(exc)
        if code is None:
            raise  # a defect: the traceback is what a developer needs
        print(f"policy-ray dlq replay: the replay could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return code
    print(result.render())
    if result.summary:
        print(result.summary.render())
    return 0


def _add_lake_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-option", action="append", default=None, metavar="KEY=VALUE",
                   help="S3 option for the lake (repeatable; default: the AWS_* environment variables)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy-ray", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="run the nightly ingestion job")
    _add_ingest_options(ingest)
    ingest.set_defaults(func=cmd_ingest)

    sample = sub.add_parser("sample", help="write a synthetic night of carrier documents with ground truth")
    sample.add_argument("out", type=Path)
    sample.add_argument("--n", type=int, default=200)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--acord-form", type=Path, default=None,
                        help="blank fillable ACORD 25 to fill (default: ../shared/corpus copy when present)")
    sample.add_argument("--images", action="store_true", help="also write TIFF/PNG/JPEG scans")
    sample.set_defaults(func=cmd_sample)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    verify_cmd = audit.add_parser("verify", help="recompute the hash chain and check the tables against it")
    verify_cmd.add_argument("--lake", required=True)
    verify_cmd.add_argument("--batch", default=None, help="check only this batch's rows (the chain is always whole)")
    verify_cmd.add_argument("--sources", type=Path, default=None, help="also re-hash the source files in DIR")
    verify_cmd.add_argument("--published-head", action="append", default=[], type=_published_head,
                            metavar="SEQ:HASH", help="a head kept outside the lake (printed by an earlier "
                            "passing verify) that the chain must still hold; repeatable")
    _add_lake_options(verify_cmd)
    verify_cmd.set_defaults(func=cmd_audit_verify)

    rec = sub.add_parser("reconcile", help="check a night against its baseline; quarantine it on a deviation")
    rec.add_argument("--lake", required=True)
    rec.add_argument("--batch", default=None)
    rec.add_argument("--all", action="store_true", help="every batch, with a drift sweep against the audit trail")
    rec.add_argument("--webhook", default=None, help="POST a JSON alert here when a batch is quarantined")
    rec.add_argument("--log-level", default=None)
    _add_lake_options(rec)
    rec.set_defaults(func=cmd_reconcile)

    batch = sub.add_parser("batch", help="batch administration").add_subparsers(dest="batch_command", required=True)
    rel = batch.add_parser("release", help="release a quarantined batch after review (an audit entry)")
    rel.add_argument("batch_id")
    rel.add_argument("--lake", required=True)
    rel.add_argument("--reason", required=True, help="what was reviewed and done (kept in the audit entry)")
    rel.add_argument("--log-level", default=None)
    _add_lake_options(rel)
    rel.set_defaults(func=cmd_batch_release)

    dlq = sub.add_parser("dlq", help="the dead-letter queue").add_subparsers(dest="dlq_command", required=True)
    for name, text in (("list", "dead letters matching the filters"),
                       ("show", "everything about matching dead letters"),
                       ("replay", "re-submit matching dead letters through the pipeline as a new attempt")):
        cmd = dlq.add_parser(name, help=text)
        cmd.add_argument("--lake", required=True)
        cmd.add_argument("--category", default=None)
        cmd.add_argument("--batch", default=None)
        cmd.add_argument("--carrier", default=None, help="substring of the carrier name the mapping read")
        cmd.add_argument("--retryable", action=argparse.BooleanOptionalAction, default=None)
        cmd.add_argument("--since", type=date.fromisoformat, default=None, help="batch date on or after")
        cmd.add_argument("--status", default=None, help="comma list (default: open,requeued,failed_again)")
        _add_lake_options(cmd)
        if name == "list":
            cmd.add_argument("--max-rows", type=int, default=50)
        if name == "show":
            cmd.add_argument("keys", nargs="+", help="idempotency keys or prefixes")
        if name == "replay":
            cmd.add_argument("--address", default=None)
            cmd.add_argument("--extractors", type=int, default=None)
            cmd.add_argument("--ocr", action=argparse.BooleanOptionalAction, default=None)
            cmd.add_argument("--ocr-workers", type=int, default=None)
            cmd.add_argument("--log-level", default=None)
            cmd.add_argument("keys", nargs="*", help="only these idempotency keys or prefixes")
        cmd.set_defaults(func=cmd_dlq)

    opt = sub.add_parser("optimize", help="compact small files and checkpoint every table (keeps the evidence)")
    opt.add_argument("--lake", required=True)
    opt.set_defaults(func=cmd_optimize)

    sql = sub.add_parser("sql", help="run SQL over the lake's tables (DataFusion)")
    sql.add_argument("--lake", required=True)
    sql.add_argument("query")
    sql.add_argument("--max-rows", type=int, default=50)
    sql.set_defaults(func=cmd_sql)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
