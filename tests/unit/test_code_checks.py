"""Static checks: parse errors, unknown imports and attributes, forbidden calls."""

from __future__ import annotations

import pytest

from scopebot.code.checks import check_code, name_status, resolve_dotted_name


def test_real_and_hallucinated_functions() -> None:
    assert resolve_dotted_name("skimage.filters.threshold_otsu")
    assert not resolve_dotted_name("skimage.filters.threshold_magic")
    assert resolve_dotted_name("numpy.percentile")
    assert not resolve_dotted_name("numpy.percentile_magic")
    assert not resolve_dotted_name("not a name")


def test_packages_outside_the_allowlist_are_not_imported() -> None:
    assert name_status("pytest.some_function") == "unverifiable"
    assert name_status("surely_not_a_package_xyz.f") == "missing"


def test_clean_code_passes() -> None:
    report = check_code("import numpy as np\nfrom skimage import filters\n"
                        "img = np.zeros((4, 4))\nt = filters.threshold_otsu(img + np.arange(4))\nprint(t)\n")
    assert report.ok, report.to_text()
    assert "skimage.filters.threshold_otsu" in report.verified_calls
    assert report.to_text() == "No problems found."


def test_syntax_error_is_reported_with_line() -> None:
    report = check_code("x = 1\ndef broken(:\n    pass\n")
    assert not report.ok
    assert report.by_kind("syntax") and report.issues[0].line == 2


@pytest.mark.parametrize(("code", "kind", "name"), [
    ("import numpy as np\nnp.foo_bar(1)", "unknown_attribute", "numpy.foo_bar"),
    ("import skimage.filters as f\nf.threshold_magic(1)", "unknown_attribute", "skimage.filters.threshold_magic"),
    ("from skimage.filters import threshold_magic", "unknown_attribute", "skimage.filters.threshold_magic"),
    ("import totally_missing_pkg_abc", "unknown_import", "totally_missing_pkg_abc"),
    ("import subprocess", "forbidden", "subprocess"),
    ("import os\nos.system('ls')", "forbidden", "os.system"),
    ("import os\nos.execv('/bin/sh', [])", "forbidden", "os.execv"),
    ("from os import system\nsystem('ls')", "forbidden", "os.system"),
    ("import shutil\nshutil.rmtree('x')", "forbidden", "shutil.rmtree"),
    ("eval('1+1')", "forbidden", "eval"),
    ("__import__('os')", "forbidden", "__import__"),
    ("import importlib\nimportlib.import_module('os')", "forbidden", "importlib.import_module"),
    ("open('/etc/passwd')", "absolute_path", "/etc/passwd"),
])
def test_problems_are_flagged(code: str, kind: str, name: str) -> None:
    report = check_code(code)
    assert not report.ok
    assert any(i.kind == kind and i.name == name for i in report.issues), report.issues


def test_methods_on_local_variables_are_not_flagged() -> None:
    report = check_code("import numpy as np\na = np.zeros(3)\nprint(a.mean(), a.not_checkable())\n")
    assert report.ok
