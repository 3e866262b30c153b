"""References to the specification ``docs/theory.md`` stay valid (issue 16, item 1).

The code cites the specification by section ("theory.md", a section sign and a number, optionally
a range to a second number and a label such as ``O4``), by anchor (``theory.md#s3-o4``) and by claim
id. These tests scan the repository's text files (``git ls-files``: tracked files plus new files
that git does not ignore, with the suffixes in :data:`SUFFIXES`) and fail, naming ``file:line``, on

- a section number, a subsection label or an anchor that ``docs/theory.md`` does not have;
- a reference to a file outside the repository (:data:`OUTSIDE`);
- a claim registered in :mod:`proofs_check.registry` that ``docs/theory.md`` does not list in the
  "Claims checked" paragraph of its section, or a claim id in ``docs/theory.md`` that is not
  registered, or a link into the verification report whose anchor does not exist.

They also check the anchor scheme documented at the top of ``docs/theory.md``: every numbered
section ``N`` is preceded by the anchor ``sN`` and every subsection of it by an anchor ``sN-...``.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"
REPORT = ROOT / "docs" / "verification-report.md"
SELF = Path(__file__).resolve()

#: Suffixes of the text files scanned (``notebooks/*.py`` and ``docs/*.md`` included).
SUFFIXES = (".py", ".md", ".toml", ".cfg")

#: A section reference: "theory.md" (perhaps closing a Markdown link), a section sign, a number, optionally
#: "–§M" and a label "O4".
SECTION_REF = re.compile(
    r"theory\.md[`)\]]*[ \t]*§[ \t]*(?P<first>\d+)"
    r"(?:[ \t]*[–-][ \t]*§?[ \t]*(?P<last>\d+))?"
    r"(?:[ \t]+(?P<label>O\d+)\b)?",
    re.IGNORECASE,
)
#: A link to an anchor of the specification.
ANCHOR_REF = re.compile(r"theory\.md#(?P<anchor>[A-Za-z0-9_-]+)", re.IGNORECASE)
#: References to files outside the repository (the specification lived outside it before).
OUTSIDE = (
    re.compile(r"\.\./shared"),
    re.compile(r"shared/THEORY"),
    re.compile(r"DESIGN\.md"),
    re.compile(r"THEORY\.md"),  # the outside file's name (upper case); the repository's is docs/theory.md
)

HEADING = re.compile(r"^(?P<level>#{2,6})[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
NUMBERED = re.compile(r"^(?P<number>\d+)\.[ \t]")
ANCHOR = re.compile(r'<a id="(?P<id>[^"]+)"></a>')
REPORT_LINK = re.compile(r"verification-report\.md#(?P<anchor>[A-Za-z0-9_-]+)")
CLAIM_ID = re.compile(r"`(?P<id>(?:KR|IR|BR)-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)`")


def _repository_files() -> list[Path]:
    """The text files to scan: tracked, or new and not ignored by git; this file excluded."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the repository's file list is unknown")
    paths = {ROOT / name for name in listed.split("\0") if name.endswith(SUFFIXES)}
    paths.add(THEORY)
    return sorted(p for p in paths if p.is_file() and p.resolve() != SELF)


def _lines(path: Path):
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        yield f"{path.relative_to(ROOT).as_posix()}:{lineno}", line


class Spec:
    """What ``docs/theory.md`` defines: sections, subsection labels, anchors and its text by section."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sections: set[int] = set()
        self.labels: dict[int, set[str]] = {}
        self.anchors = {m["id"] for m in ANCHOR.finditer(text)}
        self.scheme_errors: list[str] = []
        section = None
        previous = ""
        fenced = False
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            heading = None if fenced else HEADING.match(line)
            if heading:
                anchor = ANCHOR.fullmatch(previous.strip())
                numbered = NUMBERED.match(heading["title"])
                if len(heading["level"]) == 2 and numbered:
                    section = int(numbered["number"])
                    self.sections.add(section)
                    self.labels.setdefault(section, set())
                    if not anchor or anchor["id"] != f"s{section}":
                        self.scheme_errors.append(f"docs/theory.md:{lineno}: §{section} lacks the anchor s{section}")
                elif len(heading["level"]) > 2 and section is not None:
                    self.labels[section].add(heading["title"].split()[0])
                    if not anchor or not anchor["id"].startswith(f"s{section}-"):
                        self.scheme_errors.append(
                            f"docs/theory.md:{lineno}: subsection {heading['title']!r} of §{section} lacks an "
                            f"anchor s{section}-..."
                        )
            if line.strip():
                previous = line

    def claims_paragraph(self, section: int) -> str:
        """The text from the anchor ``s<section>-claims`` to the next section's anchor."""
        start = self.text.find(f'<a id="s{section}-claims"></a>')
        if start < 0:
            return ""
        end = self.text.find('<a id="s', start + 1)
        while end >= 0 and not re.match(r'<a id="s\d+"></a>', self.text[end:]):
            end = self.text.find('<a id="s', end + 1)
        return self.text[start : end if end >= 0 else len(self.text)]


@cache
def _spec() -> Spec:
    assert THEORY.is_file(), "docs/theory.md, the specification, is missing"
    return Spec(THEORY.read_text(encoding="utf-8"))


def _slug(title: str) -> str:
    """GitHub's (and MkDocs' default) heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return kept.replace(" ", "-")


def test_the_specification_follows_its_anchor_scheme():
    spec = _spec()
    assert spec.sections >= set(range(1, 8)), f"docs/theory.md must keep §1–§7; it has {sorted(spec.sections)}"
    assert not spec.scheme_errors, "\n".join(spec.scheme_errors)
    for section in sorted(spec.sections):
        assert f"s{section}-claims" in spec.anchors, f"§{section} has no 'Claims checked' paragraph (s{section}-claims)"


def test_internal_links_of_the_specification_resolve():
    spec = _spec()
    broken = [
        f"docs/theory.md: #{m.group(1)}"
        for m in re.finditer(r"\]\(#([A-Za-z0-9_-]+)\)", spec.text)
        if m.group(1) not in spec.anchors
    ]
    assert not broken, "links to anchors that docs/theory.md does not define:\n" + "\n".join(broken)


def test_section_references_exist():
    """Every "theory.md §N" (also "§N–§M" and "§N O4") in the repository names a section of docs/theory.md."""
    spec = _spec()
    bad = []
    for path in _repository_files():
        for where, line in _lines(path):
            for m in SECTION_REF.finditer(line):
                numbers = [int(m["first"])] + ([int(m["last"])] if m["last"] else [])
                missing = [n for n in numbers if n not in spec.sections]
                if missing:
                    bad.append(f"{where}: {m.group(0)!r} (no section {', '.join(f'§{n}' for n in missing)})")
                elif m["label"] and m["label"] not in spec.labels.get(numbers[0], set()):
                    bad.append(f"{where}: {m.group(0)!r} (§{numbers[0]} has no subsection {m['label']})")
            for m in ANCHOR_REF.finditer(line):
                if m["anchor"] not in spec.anchors:
                    bad.append(f"{where}: {m.group(0)!r} (no such anchor in docs/theory.md)")
    assert not bad, "references to docs/theory.md that do not exist:\n" + "\n".join(bad)


def test_no_reference_points_outside_the_repository():
    bad = [
        f"{where}: {pattern.pattern!r} in {line.strip()[:120]!r}"
        for path in _repository_files()
        for where, line in _lines(path)
        for pattern in OUTSIDE
        if pattern.search(line)
    ]
    assert not bad, "references to files outside the repository (use docs/theory.md, docs/architecture.md):\n" + (
        "\n".join(bad)
    )


def _registered_claims():
    from proofs_check.registry import all_claims

    return all_claims()


def test_every_registered_claim_is_listed_in_its_section():
    spec = _spec()
    missing = []
    for claim in _registered_claims():
        number = int(claim.section.lstrip("§")) if claim.section else None
        link = f"(verification-report.md#{claim.id.lower()})"
        if number is None or link not in spec.claims_paragraph(number):
            missing.append(f"{claim.id} ({claim.section or 'no section'}): not in its section's 'Claims checked' list")
    assert not missing, "claims missing from docs/theory.md:\n" + "\n".join(missing)


def test_every_claim_named_in_the_specification_is_registered():
    spec = _spec()
    ids = {claim.id for claim in _registered_claims()}
    unknown = sorted({m["id"] for m in CLAIM_ID.finditer(spec.text)} - ids)
    # Every link into the report names a claim: the report's anchors are the lower-cased claim ids.
    unknown += sorted({f"verification-report.md#{m['anchor']}" for m in REPORT_LINK.finditer(spec.text)})
    unknown = [u for u in unknown if u.split("#")[-1].lower() not in {i.lower() for i in ids}]
    assert not unknown, "claim ids in docs/theory.md that proofs_check does not register:\n" + "\n".join(unknown)


def test_links_into_the_verification_report_resolve():
    spec = _spec()
    report = REPORT.read_text(encoding="utf-8")
    anchors = {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}[ \t]+(.+?)[ \t]*$", report, re.MULTILINE)}
    broken = sorted({m["anchor"] for m in REPORT_LINK.finditer(spec.text)} - anchors)
    assert not broken, "links from docs/theory.md to anchors the verification report lacks:\n" + "\n".join(broken)
