#!/usr/bin/env python3
"""scripts/check-doc-refs.py: every citation of the repository's documents resolves.

    scripts/check-doc-refs.py               # check the repository this script is in
    scripts/check-doc-refs.py --self-test   # check the checker on trees made for it

A citation is a Markdown file's path followed by what is cited in it (docs/design.md
"Citing these documents"):

    docs/behaviour.md §4          docs/behaviour.md §2, §4        docs/behaviour.md §1–§6
    docs/design.md "The invariant"          README.md "Limits"
    docs/design.md invariant 6              docs/design.md invariants 3–6

`§N` must be a numbered heading (`## 4. ...`), a quoted text a heading's text (its number
aside), `invariant N` a numbered list item under a heading that names invariants. A path under
docs/ must exist even when nothing follows it. A path resolves from the repository's top, or
else from the citing file's folder. Citations of documents that are not in the repository (the
old working notes, anything beside the checkout) fail too.

Every file git tracks (and new files it does not ignore) is read, code and documents alike.
Prints `file:line: error: ...` for each broken citation and exits 1 if there is one.
"""
import os
import re
import subprocess
import sys
import tempfile

# Names of documents that lived outside the repository. Spelled in pieces so that this file
# does not cite them itself.
STALE = re.compile("|".join([
    r"\.\./" + "shared", "shared/" + "reference", r"\b" + "BEHAVIOR" + r"\b", r"\b" + "DESIGN" + r"\.md\b",
    "NFQUEUE" + "-NOTES", r"\b" + "LAB" + r"\.md\b", r"\b" + "STYLE" + r"\.md\b",
]))

# Files another branch is rewriting while this list exists (issue 12, points 1-2: the SMTP core
# and its tests). Their old citations are reported, not failed; once a file's citations point
# into docs/ (or the file is gone), the check fails until its line here is deleted.
PENDING: set[str] = set()

PATH = r"(?<![\w./-])(?P<path>(?:[\w.-]+/)*[\w.+-]+\.md)"
NUMBER = r"\d+(?:\.\d+)*"
SECTIONS = re.compile(PATH + r"\s+(?P<sections>§" + NUMBER + r"(?:\s*(?:,|–|-|and)\s*§" + NUMBER + r")*)")
HEADING = re.compile(PATH + r"\s+\"(?P<heading>[^\"\n]*)(?P<close>\"?)")
INVARIANTS = re.compile(PATH + r"\s+invariants?\s+(?P<numbers>\d+(?:\s*(?:,|–|-|and)\s*\d+)*)")
BARE = re.compile(PATH)
CITATIONS = [("sections", SECTIONS), ("heading", HEADING), ("invariants", INVARIANTS)]


class Document:
    """The citable parts of one Markdown file."""

    def __init__(self, text):
        self.numbers = set()     # "4", "4.2" of numbered headings
        self.headings = set()    # heading texts, with and without their number
        self.invariants = set()  # numbered list items under an invariant heading
        in_invariants = False
        fence = False
        for line in text.splitlines():
            if line.startswith("```"):
                fence = not fence
                continue
            if fence:
                continue
            m = re.match(r"#+\s+(.*?)\s*#*\s*$", line)
            if m:
                title = m.group(1)
                self.headings.add(title)
                n = re.match(r"(" + NUMBER + r")\.?\s+(.*)", title)
                if n:
                    self.numbers.add(n.group(1))
                    self.headings.add(n.group(2))
                in_invariants = "invariant" in title.lower()
                continue
            item = re.match(r"(\d+)\.\s", line)
            if item and in_invariants:
                self.invariants.add(item.group(1))


def expand(text, pattern):
    """The numbers of "§1–§3, §5" or "3–6": ranges spelled out."""
    found = []
    parts = re.split(r"\s*(?:,|and)\s*", text)
    for part in parts:
        ends = re.findall(pattern, part)
        if len(ends) == 2 and "." not in ends[0] + ends[1]:
            found += [str(i) for i in range(int(ends[0]), int(ends[1]) + 1)]
        else:
            found += ends
    return found


def repository_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z"],
                             check=True, capture_output=True).stdout
        return sorted(set(p.decode() for p in out.split(b"\0") if p))
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            files += [os.path.relpath(os.path.join(top, n), root) for n in names]
        return sorted(files)


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read(4 << 20)
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def check(root, files, pending=frozenset(), own=None):
    """Returns (errors, notes, count of citations checked)."""
    errors, notes = [], []
    documents = {}
    checked = 0

    def document(cited, citing):
        for base in ("", os.path.dirname(citing)):
            rel = os.path.normpath(os.path.join(base, cited))
            if rel not in documents:
                text = read_text(os.path.join(root, rel)) if os.path.isfile(os.path.join(root, rel)) else None
                documents[rel] = Document(text) if text is not None else None
            if documents[rel] is not None:
                return rel, documents[rel]
        return cited, None

    for name in files:
        text = read_text(os.path.join(root, name)) if name != own else None
        if text is None:
            continue
        stale_here = False
        for lineno, line in enumerate(text.splitlines(), 1):
            where = "%s:%d" % (name, lineno)
            if STALE.search(line):
                if name in pending:
                    stale_here = True
                    notes.append("%s: note: cites a document outside the repository (pending: %s)"
                                 % (where, line.strip()))
                else:
                    errors.append("%s: error: cites a document outside the repository: %s; point into docs/ instead"
                                  % (where, STALE.search(line).group(0)))
            spans = []
            for kind, pattern in CITATIONS:
                for m in pattern.finditer(line):
                    spans.append(m.span("path"))
                    if STALE.search(m.group("path")):
                        continue    # reported above
                    checked += 1
                    rel, doc = document(m.group("path"), name)
                    if doc is None:
                        errors.append("%s: error: %s does not exist" % (where, m.group("path")))
                    else:
                        errors += ["%s: error: %s %s" % (where, rel, why) for why in unresolved(kind, m, doc)]
            for m in BARE.finditer(line):
                if m.span("path") in spans or not m.group("path").startswith("docs/"):
                    continue
                checked += 1
                if document(m.group("path"), name)[1] is None:
                    errors.append("%s: error: %s does not exist" % (where, m.group("path")))
        if name in pending and not stale_here:
            errors.append("%s: error: no longer cites documents outside the repository: delete it from PENDING in %s"
                          % (name, own or "the checker"))
    for name in sorted(pending - set(files)):
        errors.append("%s: error: listed in PENDING but not in the repository: delete it there" % name)
    return errors, notes, checked


def unresolved(kind, m, doc):
    """What a citation names that its document lacks."""
    if kind == "sections":
        return ["has no section §%s (its numbered sections: %s)"
                % (n, ", ".join(sorted(doc.numbers, key=_key)) or "none")
                for n in expand(m.group("sections"), "§(" + NUMBER + ")") if n not in doc.numbers]
    if kind == "heading":
        if not m.group("close"):
            return ["is cited by a heading that must be quoted on one line"]
        return [] if m.group("heading") in doc.headings else ["has no heading \"%s\"" % m.group("heading")]
    return ["has no invariant %s" % n for n in expand(m.group("numbers"), r"(\d+)") if n not in doc.invariants]


def _key(number):
    return [int(x) for x in number.split(".")]


def self_test():
    """The checker on small trees: every kind of broken citation fails, good ones pass."""
    doc = "# T\n\n## 1. One\n\n## 2. Two\n\n### 2.1 Sub\n\n## The invariant\n\n1. a\n2. b\n\n## Other\n\n3. not an invariant\n"
    good = [
        'docs/t.md §1', 'docs/t.md §2, §2.1', 'docs/t.md §1–§2', 'see docs/t.md "Other"',
        'docs/t.md "Two"', 'docs/t.md invariant 2', 'docs/t.md invariants 1–2', "docs/t.md",
        'README.md "Top"', 'sub/NOTES.md §1', 'NOTES.md §1 from the folder of the citing file',
    ]
    bad = [
        ('docs/t.md §3', "no section §3"), ('docs/t.md §1–§3', "no section §3"),
        ('docs/t.md §2.2', "no section §2.2"), ('docs/t.md "Three"', 'no heading "Three"'),
        ('docs/t.md "Other', "quoted on one line"), ('docs/t.md invariant 3', "no invariant 3"),
        ('docs/missing.md', "does not exist"), ('docs/missing.md §1', "does not exist"),
        ("see " + "../" + "shared/x", "outside the repository"),
        ("BEHAVIOR" + ".md §1", "outside the repository"),
    ]
    failures = 0

    def run(files, pending=frozenset()):
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, path)) or root, exist_ok=True)
                with open(os.path.join(root, path), "w") as f:
                    f.write(text)
            return check(root, sorted(files), frozenset(pending))

    base = {"docs/t.md": doc, "README.md": "# Top\n", "sub/NOTES.md": "## 1. N\n"}
    for citation in good:
        where = "sub/code.swift" if citation.startswith("NOTES.md") else "code.swift"
        errors, _, checked = run(dict(base, **{where: "// " + citation + "\n"}))
        if errors or checked == 0:
            failures += 1
            print("self-test FAIL: %r should resolve (%d checked): %s" % (citation, checked, errors))
    for citation, expected in bad:
        errors, _, _ = run(dict(base, **{"code.swift": "// " + citation + "\n"}))
        if len(errors) != 1 or expected not in errors[0]:
            failures += 1
            print("self-test FAIL: %r should fail once with %r: %s" % (citation, expected, errors))
    stale = "// " + "BEHAVIOR" + ".md §1\n"
    errors, notes, _ = run(dict(base, **{"p.swift": stale}), pending={"p.swift"})
    if errors or len(notes) != 1:
        failures += 1
        print("self-test FAIL: a pending file's old citation is a note: %s %s" % (errors, notes))
    errors, _, _ = run(dict(base, **{"p.swift": "// docs/t.md §1\n"}), pending={"p.swift", "gone.swift"})
    if len(errors) != 2 or not all("PENDING" in e for e in errors):
        failures += 1
        print("self-test FAIL: a cleaned or missing pending file must be taken off the list: %s" % errors)
    cases = len(good) + len(bad) + 2
    print("%d passed, %d failed" % (cases - failures, failures))
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if argv[1:] not in ([], ["-h"], ["--help"]):
        print("usage: check-doc-refs.py [--self-test]", file=sys.stderr)
        return 2
    if argv[1:]:
        print(__doc__.strip())
        return 0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    own = os.path.relpath(os.path.abspath(__file__), root)
    files = repository_files(root)
    errors, notes, checked = check(root, files, frozenset(PENDING), own)
    for line in errors:
        print(line)
    if notes:
        print("%d old citations in %d files being rewritten elsewhere (PENDING in %s)"
              % (len(notes), len({n.split(":")[0] for n in notes}), own))
    print("doc references: %d citations in %d files; %d broken" % (checked, len(files), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
