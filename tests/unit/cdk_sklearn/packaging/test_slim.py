"""slim: modules ship as sourceless .pyc that CPython imports, with file:line in tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.packaging.bytecode import Interpreter, compile_bytecode
from cdk_sklearn.packaging.prune import prune
from cdk_sklearn.packaging.slim import SourcelessError, make_sourceless

HOST = Interpreter(sys.executable, (sys.version_info.major, sys.version_info.minor))
RUNTIME_PATH = "/opt/python"

# A small installed distribution: a package, a subpackage, a top-level module, data and a .so stand-in.
FILES = {
    "demo/__init__.py": "from demo.core import fit\n",
    "demo/core.py": '"""Core."""\n\n\ndef fit(x):\n    """Fit."""\n    return 1 / x\n',
    "demo/sub/__init__.py": "",
    "demo/sub/reader.py": (
        "from pathlib import Path\n\n\ndef read():\n"
        "    return (Path(__file__).parent / 'data.csv').read_text()\n"
    ),
    "demo/sub/data.csv": "a,b\n1,2\n",
    "demo/py.typed": "",
    "demo/_ext.cpython-313-x86_64-linux-gnu.so": "\x7fELF not really",
    "demo/_ext.pyx.tp": "template",
    "demo/meson.build": "project()",
    "toplevel.py": "VALUE = 42\n",
    "demo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    "demo-1.0.dist-info/top_level.txt": "demo\ntoplevel\n",
}


def _install(root: Path) -> Path:
    site = root / "python"
    for relative, text in FILES.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    rows = [f"{relative},sha256=x,{len(text)}" for relative, text in FILES.items()]
    (site / "demo-1.0.dist-info" / "RECORD").write_text(
        "\n".join([*rows, "demo-1.0.dist-info/RECORD,,"]) + "\n"
    )
    return site


@pytest.fixture
def slim_site(tmp_path):
    site = _install(tmp_path)
    prune(site, HOST.cache_tag)
    compile_bytecode(site, HOST, RUNTIME_PATH)
    return site


def _run(site: Path, code: str) -> subprocess.CompletedProcess[str]:
    # -I -S -B: only the layer on sys.path, no bytecode written (as on Lambda's read-only /opt).
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n{code}"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_replaces_each_source_with_its_bytecode(slim_site):
    report = make_sourceless(slim_site, HOST.cache_tag)
    assert sorted(p.relative_to(slim_site).as_posix() for p in slim_site.rglob("*.py")) == []
    assert not list(slim_site.rglob("__pycache__"))
    compiled = sorted(p.relative_to(slim_site).as_posix() for p in slim_site.rglob("*.pyc"))
    assert compiled == [
        "demo/__init__.pyc",
        "demo/core.pyc",
        "demo/sub/__init__.pyc",
        "demo/sub/reader.pyc",
        "toplevel.pyc",
    ]
    assert report.modules == 5
    assert report.source_bytes == sum(len(t) for r, t in FILES.items() if r.endswith(".py"))


def test_keeps_data_markers_metadata_and_shared_objects(slim_site):
    make_sourceless(slim_site, HOST.cache_tag)
    for relative in (
        "demo/sub/data.csv",
        "demo/py.typed",
        "demo/_ext.cpython-313-x86_64-linux-gnu.so",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/top_level.txt",
    ):
        assert (slim_site / relative).is_file(), relative


def test_removes_build_templates(slim_site):
    report = make_sourceless(slim_site, HOST.cache_tag)
    assert not (slim_site / "demo" / "_ext.pyx.tp").exists()
    assert not (slim_site / "demo" / "meson.build").exists()
    assert report.template_bytes == len("template") + len("project()")


def test_record_names_the_bytecode_that_ships(slim_site):
    make_sourceless(slim_site, HOST.cache_tag)
    record = (slim_site / "demo-1.0.dist-info" / "RECORD").read_text().splitlines()
    assert "demo/core.pyc,," in record
    assert not [row for row in record if row.split(",")[0].endswith(".py")]
    assert not [row for row in record if not (slim_site / row.split(",")[0]).exists()]


def test_sourceless_modules_import_and_find_their_data(slim_site):
    make_sourceless(slim_site, HOST.cache_tag)
    completed = _run(
        slim_site,
        "import demo, toplevel\nfrom demo.sub.reader import read\n"
        "from importlib.metadata import version\n"
        "print(demo.fit(4), toplevel.VALUE, read().split()[1], version('demo'), demo.core.fit.__doc__)\n"
        "print(demo.core.__file__)",
    )
    assert completed.returncode == 0, completed.stderr
    first, second = completed.stdout.splitlines()
    assert first == "0.25 42 1,2 1.0 Fit."
    assert second == str(slim_site / "demo" / "core.pyc")


def test_traceback_names_file_and_line(slim_site):
    make_sourceless(slim_site, HOST.cache_tag)
    completed = _run(slim_site, "import demo\ndemo.fit(0)")
    assert completed.returncode == 1
    # The runtime path recorded at compile time, and the line of "return 1 / x" in core.py.
    assert f'File "{RUNTIME_PATH}/demo/core.py", line 6, in fit' in completed.stderr
    assert "ZeroDivisionError: division by zero" in completed.stderr


def test_fails_when_a_module_was_not_compiled(tmp_path):
    site = _install(tmp_path)
    with pytest.raises(
        SourcelessError, match=r"5 module\(s\) have no cpython-313 bytecode .*demo/__init__.py"
    ):
        make_sourceless(site, "cpython-313")
    assert (site / "demo" / "core.py").is_file()  # nothing changed
