"""Run `write_tree` in a child process and kill it, or fail one system call, at a chosen step.

Every file-system call `write_tree` makes raises a Python audit event; this script counts
them and at step N either exits at once as a `kill -9` would (`kill`) or makes that call
fail with "no space left on the device" (`enospc`) or "read-only file system" (`erofs`). `--no-exchange` hides renameat2 so the
two-rename fallback runs. Prints the number of steps it saw; exit 0, 1 (OutputError) or 137.

    python output_faults.py OUT FILES.json MODE STEP [--no-exchange]
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import sys
from pathlib import Path

STEP_EVENTS = {"open", "os.link", "os.mkdir", "os.rename", "os.rmdir", "os.remove", "os.chmod", "os.scandir",
               "os.listdir", "shutil.rmtree", "tempfile.mkdtemp", "ctypes.dlsym"}


def main() -> int:
    out, files_json, mode, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    files = {rel: text.encode() for rel, text in json.loads(Path(files_json).read_text()).items()}
    from monspec.errors import MonspecError
    from monspec.output import write_tree

    if "--no-exchange" in sys.argv:
        ctypes.CDLL = lambda *args, **kwargs: object()  # no renameat2: the two-rename fallback
    seen = 0

    def hook(event: str, args: tuple) -> None:
        nonlocal seen
        if event not in STEP_EVENTS:
            return
        seen += 1
        if seen != step:
            return
        if mode == "kill":
            os._exit(137)
        code = errno.ENOSPC if mode == "enospc" else errno.EROFS
        raise OSError(code, os.strerror(code), str(args[0]))

    sys.addaudithook(hook)
    try:
        write_tree(Path(out), files)
    except MonspecError as exc:
        print(json.dumps({"steps": seen, "error": [p.render() for p in exc.problems]}))
        return 1
    print(json.dumps({"steps": seen, "error": None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
