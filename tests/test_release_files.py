"""The release files agree with the one declared version (pyproject.toml) and say what they must.

CITATION.cff's ``version`` == pyproject's ``version`` == ``kssl_theory.__version__`` (read from the
installed metadata); CHANGELOG.md has a Keep a Changelog section for that version; LICENSE is the
BSD-3-Clause text that pyproject declares and the wheel ships.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import kssl_theory as kt

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _citation() -> dict:
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # PyYAML is not a declared dependency: read the top-level scalars only
        return {m[1]: m[2].strip().strip("\"'") for m in re.finditer(r"^([A-Za-z-]+):[ \t]*(.*)$", text, re.M)}
    return yaml.safe_load(text)


def test_citation_version_matches_pyproject_and_package():
    version = _pyproject()["project"]["version"]
    assert str(_citation()["version"]) == version == kt.__version__


def test_citation_has_the_required_keys_and_the_declared_licence():
    citation = _citation()
    for key in ("cff-version", "message", "title", "authors"):
        assert key in citation, key
    assert str(citation["cff-version"]) == "1.2.0"
    assert citation["title"] == _pyproject()["project"]["name"]
    assert citation["license"] == _pyproject()["project"]["license"] == "BSD-3-Clause"


def test_citation_references_both_papers():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    for arxiv in ("2209.14884", "2209.06235"):  # [KR], [IR]
        assert f"arXiv:{arxiv}" in text, arxiv


def test_changelog_has_a_section_for_the_version():
    version = _pyproject()["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## \[Unreleased\]$", changelog, re.M)
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M), version


def test_licence_is_bsd_3_clause_and_shipped():
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, the kssl-theory developers" in text
    for clause in (
        "Redistributions of source code must retain the above copyright notice",
        "Redistributions in binary form must reproduce the above copyright notice",
        "Neither the name of the copyright holder nor the names of its contributors may be used to endorse",
        'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"',
    ):
        assert clause in text, clause
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
