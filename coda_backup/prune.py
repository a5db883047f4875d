"""`coda-backup prune --output DIR --keep-… [--dry-run] [--json]`: thin out old runs.

The decisions are `retention.apply_policy` (restic's `forget` rules); `latest` is always
kept. Space freed is counted by inode: a file is freed only when every one of its hard
links is in a removed run (a file carried forward into a kept run frees nothing). A run
is renamed to a hidden `.pruning-<name>` folder before it is deleted, so a prune cut
short never leaves half a run that looks whole; the next prune finishes the job. Partial
folders of interrupted backups are cleaned as the backup cleans them: when no process
holds their lock. Prune holds the output folder's writer lock (`lock.py`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import stat
import sys
import time
import typing as t
from pathlib import Path

from coda_backup import lock, retention, runs
from coda_backup.state import read_latest

EXIT_OK = 0
EXIT_FATAL = 1
PRUNING_PREFIX = ".pruning-"
PARTIAL_PREFIX = ".partial-"
PARTIAL_LOCK = ".lock"
#: A partial folder without its lock file may be a run just being created, unless old.
PARTIAL_GRACE_S = 60.0


def space_freed(output: Path, removed: t.Iterable[str]) -> int:
    """Bytes the removal of these runs gives back: files none of whose links survive."""
    links: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen, st_nlink, size]
    for name in removed:
        run_dir = output / name
        for path in [run_dir / runs.MANIFEST, *(p for _rel, p in runs.walk_files(run_dir))]:
            try:
                st = path.lstat()
            except OSError:
                continue
            seen = links.setdefault((st.st_dev, st.st_ino), [0, st.st_nlink, st.st_size])
            seen[0] += 1
    return sum(size for seen, nlink, size in links.values() if seen >= nlink)


def _writable_tree(root: Path) -> None:
    """Finished runs are read-only; their folders must be writable to empty them."""
    for folder, _dirs, _files in os.walk(root):
        path = Path(folder)
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IRWXU)


def remove_tree(path: Path) -> None:
    _writable_tree(path)
    shutil.rmtree(path)


def remove_run(output: Path, name: str) -> None:
    hidden = output / f"{PRUNING_PREFIX}{name}"
    (output / name).rename(hidden)  # atomic: the run is whole or gone
    remove_tree(hidden)


def _partial_is_dead(partial: Path) -> bool:
    """The target's rule: a partial folder is alive while its process holds its `.lock`."""
    try:
        handle = (partial / PARTIAL_LOCK).open("rb+")
    except FileNotFoundError:
        return time.time() - partial.stat().st_mtime > PARTIAL_GRACE_S
    except OSError:
        return False
    with handle:
        return lock.try_lock(handle)  # closing the handle releases it again


def clean_leftovers(output: Path, *, dry_run: bool) -> list[str]:
    """Partial folders of dead backups and half-done removals of an earlier prune."""
    found = []
    for entry in sorted(output.iterdir()):
        if entry.is_symlink() or not entry.is_dir():
            continue
        pruning = entry.name.startswith(PRUNING_PREFIX)
        if pruning or (entry.name.startswith(PARTIAL_PREFIX) and _partial_is_dead(entry)):
            found.append(entry.name)
            if not dry_run:
                remove_tree(entry)
    return found


def decide(output: Path, policy: retention.Policy) -> list[retention.Decision]:
    """The policy's decision per run, newest first; `latest` always kept."""
    names = runs.list_runs(output)
    dated = [(n, m) for n in names if (m := runs.run_time(n)) is not None]
    decisions = retention.apply_policy(dated, policy)
    latest = read_latest(output)
    for decision in decisions:
        if decision.name == latest:
            decision.reasons.insert(0, "latest")
    return decisions


# -- command line --------------------------------------------------------------------------


def _count(value: str) -> int:
    if value == "unlimited":
        return retention.UNLIMITED
    try:
        number = int(value)
    except ValueError:
        number = -2
    if number < 0:
        msg = f"must be a number of 0 or more, or 'unlimited', not {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


def _duration(value: str) -> retention.Duration:
    try:
        return retention.parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coda-backup prune",
        description="Remove old run folders by a retention policy (restic's forget rules, "
        "in UTC, from the run folders' names). `latest` is never removed.",
    )
    add = parser.add_argument
    add("--output", metavar="DIR", type=Path, default=Path(runs.DEFAULT_OUTPUT))
    for kind in ("last", "hourly", "daily", "weekly", "monthly", "yearly"):
        add(f"--keep-{kind}", metavar="N", type=_count, default=0, help=f"keep {kind} runs")
    add("--keep-within", metavar="DURATION", type=_duration, help="e.g. 30d, 1y6m, 36h")
    add("--dry-run", action="store_true", help="only say what would be removed")
    add("--json", action="store_true", help="print one JSON object")
    add("--lock-wait", metavar="SECONDS", type=float, default=lock.DEFAULT_WAIT_S)
    return parser


def _policy(args: argparse.Namespace) -> retention.Policy:
    return retention.Policy(
        last=args.keep_last,
        hourly=args.keep_hourly,
        daily=args.keep_daily,
        weekly=args.keep_weekly,
        monthly=args.keep_monthly,
        yearly=args.keep_yearly,
        within=args.keep_within,
    )


def _report(
    decisions: list[retention.Decision], freed: int, leftovers: list[str], *, dry_run: bool
) -> list[str]:
    lines = [
        f"{'keep' if d.keep else 'remove':6} {d.name}"
        + (f"  ({', '.join(d.reasons)})" if d.keep else "")
        for d in decisions
    ]
    lines += [f"clean  {name}  (left by an interrupted run)" for name in leftovers]
    removed = sum(not d.keep for d in decisions)
    verb = "would remove" if dry_run else "removed"
    lines.append(
        f"prune: {len(decisions) - removed} kept, {verb} {removed}; "
        f"{'would free' if dry_run else 'freed'} {freed:,} bytes"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(format="coda-backup prune: %(levelname)s: %(message)s")
    policy = _policy(args)
    if policy.empty():
        parser.error("give at least one --keep-… option (nothing is removed without a policy)")
    output = args.output.expanduser().absolute()
    if not output.is_dir():
        parser.error(f"no output folder {output}")
    try:
        with lock.output_lock(output, command="prune", wait=args.lock_wait):
            decisions = decide(output, policy)
            leftovers = clean_leftovers(output, dry_run=args.dry_run)
            removed = [d.name for d in decisions if not d.keep]
            freed = space_freed(output, removed)
            if not args.dry_run:
                for name in removed:
                    remove_run(output, name)
    except lock.LockBusy as exc:
        sys.stderr.write(f"coda-backup prune: error: {exc}\n")
        return EXIT_FATAL
    except OSError as exc:
        sys.stderr.write(f"coda-backup prune: error: {exc.strerror or exc}: {exc.filename}\n")
        return EXIT_FATAL
    if args.json:
        body = {
            "policy": str(policy),
            "dry_run": args.dry_run,
            "runs": [{"run": d.name, "keep": d.keep, "reasons": d.reasons} for d in decisions],
            "cleaned": leftovers,
            "bytes_freed": freed,
        }
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        lines = _report(decisions, freed, leftovers, dry_run=args.dry_run)
        sys.stdout.write("\n".join([str(policy), *lines]) + "\n")
    return EXIT_OK
