"""The floor the benchmark compares dropout-lint with: ``libcst.parse_module`` of each file.

    python benchmarks/libcst_parse.py JOBS PATH [PATH ...]

PATH is a file, a folder (every ``*.py`` below it, sorted) or ``@LIST`` (a file naming one
path per line). With JOBS 1 the files are parsed in this process; with more, in a
``multiprocessing`` pool of JOBS processes. Nothing is done with the trees: this is the
parse alone. Prints ``parsed N of M files``; a file that does not parse is counted, not
fatal. Standard library and libcst only.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Iterable, List


def _parse(path: str) -> int:
    import libcst

    with open(path, "rb") as handle:
        source = handle.read()
    try:
        libcst.parse_module(source)
    except Exception:  # a file libcst rejects is part of the corpus, not an error here
        return 0
    return 1


def _expand(arguments: Iterable[str]) -> List[str]:
    paths: List[str] = []
    for argument in arguments:
        if argument.startswith("@"):
            with open(argument[1:], encoding="utf-8") as listing:
                paths.extend(line.strip() for line in listing if line.strip())
        elif os.path.isdir(argument):
            found = []
            for folder, subfolders, names in os.walk(argument):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                found.extend(os.path.join(folder, name) for name in names if name.endswith(".py"))
            paths.extend(sorted(found))
        else:
            paths.append(argument)
    return paths


def main(argv: List[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit() or int(argv[0]) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    jobs = int(argv[0])
    paths = _expand(argv[1:])
    if jobs == 1:
        parsed = sum(map(_parse, paths))
    else:
        with multiprocessing.Pool(jobs) as pool:
            parsed = sum(pool.imap_unordered(_parse, paths, chunksize=4))
    print(f"parsed {parsed} of {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
