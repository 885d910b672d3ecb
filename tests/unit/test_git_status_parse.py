"""parse_status_v2: HEAD and every path named by `git status --porcelain=v2 -z --branch`."""

from __future__ import annotations

from shared.agents.gitread import parse_status_v2

SHA = "4bb183b06715b9b66c6e34922fb88309c4d1df6b"
BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_head_and_each_kind_of_entry() -> None:
    out = "\0".join(
        [
            f"# branch.oid {SHA}",
            "# branch.head awf/S-1",
            f"1 .M N... 100644 100644 100644 {BLOB} {BLOB} calculator.py",
            f"1 D. N... 100644 000000 000000 {BLOB} {'0' * 40} old name.py",
            f"2 R. N... 100644 100644 100644 {BLOB} {BLOB} R100 new.py",
            "moved.py",
            f"u UU N... 100644 100644 100644 100644 {BLOB} {BLOB} {BLOB} both.py",
            "? docs/a b.md",
            "? tests/test_new.py",
            "",
        ]
    )
    head, paths = parse_status_v2(out)
    assert head == SHA
    assert paths == {
        "calculator.py",
        "old name.py",
        "new.py",
        "moved.py",
        "both.py",
        "docs/a b.md",
        "tests/test_new.py",
    }


def test_a_clean_tree_and_an_unborn_branch() -> None:
    assert parse_status_v2(f"# branch.oid {SHA}\0# branch.head awf/S-1\0") == (SHA, set())
    assert parse_status_v2("# branch.oid (initial)\0# branch.head main\0? a.py\0") == (
        None,
        {"a.py"},
    )
