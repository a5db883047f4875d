"""Rules of the test house itself, checked on the suite as it is."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent

#: The packages that ship (the fake Coda API runs the demo), held to the size limits below.
PRODUCT = ("tap_coda", "target_files", "coda_backup", "fakecoda")
#: Most lines a module may have, and a class or a function (from `class`/`def` to its end).
MAX_MODULE, MAX_CLASS, MAX_FUNCTION = 400, 200, 60

#: A pytest plugin counting every socket server that binds (the fake is a ThreadingHTTPServer,
#: so any way of starting one is seen) and printing the count when collection ends.
COUNTER = """
import socketserver

BINDS = []
_bind = socketserver.TCPServer.server_bind


def _counted(self):
    BINDS.append(type(self).__name__)
    return _bind(self)


socketserver.TCPServer.server_bind = _counted


def pytest_collection_finish(session):
    print(f"SERVERS STARTED WHILE COLLECTING: {len(BINDS)} {BINDS}")
"""


def servers_started_collecting(tests: Path, plugin_dir: Path) -> tuple[list[str], str]:
    """`pytest --collect-only` of `tests` with the counter: its count line, and stdout."""
    (plugin_dir / "count_servers.py").write_text(COUNTER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(REPO_ROOT)])}
    args = ["--collect-only", "-q", "-n", "0", "-p", "count_servers", "-p", "no:cacheprovider"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, str(tests)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [line for line in proc.stdout.splitlines() if "SERVERS STARTED" in line], proc.stdout


def test_collecting_the_suite_starts_no_server(tmp_path: Path) -> None:
    counts, stdout = servers_started_collecting(TESTS, tmp_path)
    assert counts == ["SERVERS STARTED WHILE COLLECTING: 0 []"], stdout[-3000:]
    assert " tests collected" in stdout  # it did collect the suite


def test_the_server_counter_sees_a_fake_started_at_import(tmp_path: Path) -> None:
    """The check above can fail: a module that starts a fake at import is counted."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_eager.py").write_text(
        "from fakecoda import FakeCoda, build_test_workspace\n"
        "FAKE = FakeCoda(build_test_workspace()).start()\n"
        "def test_nothing():\n    assert FAKE.port\n",
        encoding="utf-8",
    )
    counts, stdout = servers_started_collecting(suite, tmp_path)
    assert counts == ["SERVERS STARTED WHILE COLLECTING: 1 ['_Server']"], stdout[-3000:]


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in helper modules (helpers.py, fakes.py, e2e/tree.py, …), never
    in a `test_*.py` or a conftest, so a test module can be moved or split freely."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests") and (last.startswith("test_") or last == "conftest"):
                    offenders.append(f"{path.relative_to(REPO_ROOT)} imports {name}")
    assert offenders == []


def test_every_fake_is_started_by_the_one_factory() -> None:
    """`tests/fakes.py` is the one place a test starts a fake Coda API (`start_fake` and
    `start_module_fake`): ephemeral ports, stopped with its scope."""
    direct = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted(TESTS.rglob("*.py"))
        if path.name not in ("fakes.py", "test_house.py")
        and "FakeCoda(" in path.read_text(encoding="utf-8")
    ]
    assert direct == []


def oversized(source: str, name: str) -> list[str]:
    """Every part of the module `source` (called `name`) over its size limit, with its size."""
    out = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE:
        out.append(f"{name}: module, {lines} lines (limit {MAX_MODULE})")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            kind, limit = "class", MAX_CLASS
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind, limit = "function", MAX_FUNCTION
        else:
            continue
        size = (node.end_lineno or node.lineno) - node.lineno + 1
        if size > limit:
            out.append(f"{name}:{node.lineno}: {kind} {node.name}, {size} lines (limit {limit})")
    return out


def test_no_product_module_class_or_function_is_over_its_size() -> None:
    """Rooms with one job each: no module over 400 lines, no class over 200, no function
    over 60 (README, "The house"). Every offender is listed with its size."""
    offenders = []
    checked = 0
    for package in PRODUCT:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            name = str(path.relative_to(REPO_ROOT))
            offenders += oversized(path.read_text(encoding="utf-8"), name)
            checked += 1
    assert checked > len(PRODUCT)  # it did find the modules
    assert offenders == [], "\n".join(offenders)


def test_the_size_check_names_every_offender_with_its_size() -> None:
    """The check above can fail: a synthetic module one line over each limit is reported
    three times, with each size; a function exactly at its limit is not."""

    def block(indent: str, n: int, var: str) -> list[str]:
        return [f"{indent}{var}{i} = {i}" for i in range(n)]

    at_limit = ["def fine():", *block("    ", MAX_FUNCTION - 1, "a")]
    method = ["    def long(self):", *block("        ", MAX_FUNCTION, "b")]
    big = ["class Big:", *method, *block("    ", MAX_CLASS - len(method), "c")]
    lines = at_limit + big
    lines += block("", MAX_MODULE + 1 - len(lines), "d")
    class_line = len(at_limit) + 1
    assert oversized("\n".join(lines) + "\n", "m.py") == [
        f"m.py: module, {MAX_MODULE + 1} lines (limit {MAX_MODULE})",
        f"m.py:{class_line}: class Big, {MAX_CLASS + 1} lines (limit {MAX_CLASS})",
        f"m.py:{class_line + 1}: function long, {MAX_FUNCTION + 1} lines (limit {MAX_FUNCTION})",
    ]


def test_every_product_thread_leaves_stop_signals_to_the_main_thread() -> None:
    """The tap, the target and coda-backup start threads through `tap_coda.workers` only,
    which blocks SIGINT and SIGTERM in them (a worker taking one left a tap hanging; the
    fake Coda API's server threads are its own)."""
    raw = ("threading.Thread(", "ThreadPoolExecutor(", "threading.Timer(")
    direct = [
        str(path.relative_to(REPO_ROOT))
        for package in PRODUCT
        if package != "fakecoda"
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if path.name != "workers.py" and any(s in path.read_text(encoding="utf-8") for s in raw)
    ]
    assert direct == []
