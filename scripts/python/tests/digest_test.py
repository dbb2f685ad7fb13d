"""dbio.digest: the row digest's rules (crates/model/src/digest.rs)."""
from dbio.digest import digest


def test_the_digest_ignores_order_and_keeps_duplicates():
    rows = [(1, "a"), (2, None), (3, "")]
    assert digest(rows) == digest(list(reversed(rows)))
    assert digest(rows + rows[:1]) != digest(rows)
    assert digest([(None,)]) != digest([("",)]), "NULL is not the empty text"
    assert digest([("ab", "c")]) != digest([("a", "bc")]), "values keep their bounds"
    assert len(digest(rows)) == 16

