"""``python -m newsradar.native``: compile the hot path (see :mod:`newsradar.native`)."""

from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from newsradar.native import GROUP, MODULES, RECORD, build_dir, modules, recorded, sources

__all__ = ["build", "closure"]

# The directory holding the newsradar package.
_ROOT = Path(__file__).resolve().parents[2]


def closure(root: Path, modules: Iterable[str]) -> list[str]:
    """The source files of ``modules`` and of every newsradar module they import, transitively
    (at import time: the code the compiled modules were type-checked against)."""
    pending, seen = list(modules), set[str]()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        file = _source(root, module)
        for node in _imports(ast.parse(file.read_bytes(), str(file))):
            if isinstance(node, ast.ImportFrom):
                if not node.module or node.level:
                    continue
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = [a.name for a in node.names]
            pending += [
                n for n in names if n.startswith("newsradar.") and _source(root, n).is_file()
            ]
    return sorted(_source(root, m).relative_to(root).as_posix() for m in seen)


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: not those inside functions, which the
    compiled code never reaches (config's validators import the mail modules, for one)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(child)


def _source(root: Path, module: str) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def build(where: Path | None = None) -> bool:
    """Compile :data:`MODULES` into ``where`` (default :func:`build_dir`) unless already current.

    Prints one line; returns False when the compiler failed (the package stays pure Python).
    """
    where = build_dir() if where is None else where
    wanted = sources(closure(_ROOT, MODULES), _ROOT)
    if recorded(where) == wanted and all(map(Path.is_file, modules(where))):
        print(f"newsradar: the compiled matching engine is up to date ({where})")
        return True
    print("newsradar: compiling the matching engine with mypyc (about half a minute)...")
    began = time.monotonic()
    where.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=where.parent) as tmp:
        log = Path(tmp, "build.log")
        lib = Path(tmp, "lib")
        try:
            _compile([_source(_ROOT, m) for m in MODULES], Path(tmp), log)
        except Exception as exc:  # any failure (no C compiler, a mypyc error) leaves pure Python
            if log.exists():
                print("\n".join(log.read_text(errors="replace").strip().splitlines()[-12:]))
            print(
                f"newsradar: could not compile the matching engine ({exc}); it runs as pure Python"
            )
            return False
        (lib / RECORD).write_text(json.dumps(wanted, indent=1), encoding="utf-8")
        # Swapped in by renames, so a process starting meanwhile sees one whole build or none.
        if where.exists():
            where.rename(Path(tmp, "old"))
        try:
            lib.rename(where)
        except OSError as exc:  # another build finished first: it compiled the same sources
            print(f"newsradar: kept the build another process made ({exc})")
            return True
    print(f"newsradar: compiled the matching engine in {time.monotonic() - began:.0f} s ({where})")
    return True


def _compile(files: list[Path], tmp: Path, log: Path) -> None:
    """mypyc and the C compiler, output in ``tmp/lib``; their chatter goes to ``log``."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    sys.stdout.flush()  # what was printed so far goes to the user, not into the log
    sys.stderr.flush()
    saved = os.getcwd(), os.dup(1), os.dup(2)
    # Python's own prints (mypyc's warnings) through sys.stdout, the C compiler's through the
    # file descriptors.
    with log.open("w") as out, redirect_stdout(out), redirect_stderr(out):
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            # mypy writes its cache into the working directory: keep it out of the checkout.
            os.chdir(tmp)
            extensions = mypycify(
                [str(f) for f in files], group_name=GROUP, target_dir=str(tmp / "c")
            )
            dist = Distribution({"ext_modules": extensions, "script_name": "setup.py"})
            command = dist.get_command_obj("build_ext")
            setattr(command, "build_lib", str(tmp / "lib"))  # noqa: B010 - untyped options
            setattr(command, "build_temp", str(tmp / "obj"))  # noqa: B010
            dist.run_command("build_ext")
        finally:
            out.flush()
            os.chdir(saved[0])
            os.dup2(saved[1], 1)
            os.dup2(saved[2], 2)
            os.close(saved[1])
            os.close(saved[2])
