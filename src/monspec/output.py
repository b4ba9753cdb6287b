"""Writing the output tree atomically, and comparing it with what is on disk.

The whole tree is written into a sibling temp folder and swapped in with renames,
so a failed run never leaves a half-written `generated/`, and files no longer
produced disappear.
"""
from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path


def write_tree(out: Path, files: dict[str, bytes]) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rmdir(old)
            os.rename(out, old)
            try:
                os.rename(tmp, out)
            except OSError:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_tree(out: Path) -> dict[str, bytes]:
    out = Path(out)
    if not out.is_dir():
        return {}
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def changed_files(current: dict[str, bytes], files: dict[str, bytes]) -> list[str]:
    """Paths that differ between two trees: changed, added or no longer produced."""
    return sorted(rel for rel in set(current) | set(files) if current.get(rel) != files.get(rel))


def diff_tree(out: Path, files: dict[str, bytes], context: int = 2, max_lines: int = 60) -> list[str]:
    """Unified diff from what is on disk to what the specs produce; empty when fresh."""
    current = read_tree(out)
    lines: list[str] = []
    for rel in changed_files(current, files):
        old, new = current.get(rel), files.get(rel)
        if old is None:
            lines.append(f"missing: {out}/{rel}")
            continue
        if new is None:
            lines.append(f"not produced by the specs: {out}/{rel}")
            continue
        lines.extend(difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(), new.decode("utf-8", "replace").splitlines(),
            f"{out}/{rel} (on disk)", f"{out}/{rel} (from specs)", n=context, lineterm=""))
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"… {len(lines) - max_lines} more diff lines"]
    return lines
