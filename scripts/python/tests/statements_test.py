"""dbio.statements: the same splits and refusals as
crates/model/src/statements.rs and queries.rs (their unit tests' cases)."""
import pytest

from dbio.errors import Refused
from dbio.statements import dashboard, pieces, second_statement


def codes(sql):
    data = sql.encode()
    return [data[code:end].decode().rstrip() for _, end, code in pieces(sql) if code is not None]


def test_splits_at_semicolons_outside_quotes_and_comments():
    sql = ("SELECT ';' AS a, \"x;y\", `a;b` /* ; */ FROM t # ; x\n; -- c ;\n "
           "SELECT 'it''s; {}', 'a\\'; b'")
    assert codes(sql) == [
        "SELECT ';' AS a, \"x;y\", `a;b` /* ; */ FROM t # ; x",
        "SELECT 'it''s; {}', 'a\\'; b'",
    ]
    assert len(pieces(sql)) == 2


def test_a_trailing_semicolon_leaves_an_empty_last_piece():
    found = pieces("SELECT 1;\n-- end\n")
    assert len(found) == 2 and found[1][2] is None
    assert len(pieces("SELECT 1")) == 1
    assert len(pieces("")) == 1


def test_an_executable_comment_is_code():
    found = pieces("/*!50000 SET SESSION TRANSACTION READ WRITE */; /* plain */")
    assert found[0][2] == 0 and found[1][2] is None


def test_a_second_statement_is_found_where_it_starts():
    assert second_statement("SELECT 1;;  -- x\n") is None
    assert second_statement("SELECT 1; SELECT 2") == 10
    assert second_statement("SELECT ';{}'; /* c */ SELECT 3") == 22
    assert second_statement("; SELECT 1") is None


def test_a_dashboard_is_its_statements_labelled_in_order():
    got = dashboard("-- sales page\nSELECT 1;\nSELECT ';' AS a\n  FROM dual ;\n\nSELECT 3; -- end\n")
    assert got == [("q1", "SELECT 1"), ("q2", "SELECT ';' AS a\n  FROM dual"), ("q3", "SELECT 3")]
    many = dashboard("SELECT 1;" * 12)
    assert (many[0][0], many[11][0]) == ("q01", "q12")


@pytest.mark.parametrize("text, needle", [
    ("SELECT 1;;SELECT 2", "statement 2 of the dashboard is empty"),
    ("; SELECT 1", "statement 1 of the dashboard is empty"),
    ("SELECT 1; -- only\n; SELECT 2", "statement 2 of the dashboard is empty"),
    ("", "holds no statement"),
    ("-- nothing\n", "holds no statement"),
    ("SELECT 1; set session transaction read write", "statement 2 of the dashboard is a SET"),
    ("START TRANSACTION READ WRITE; SELECT 1", "is a START statement"),
    ("CALL p()", "is a CALL statement"),
    ("/*!50000 SET tx_read_only = 0 */", "executable comment"),
])
def test_a_dashboard_refuses_empty_and_session_statements(text, needle):
    with pytest.raises(Refused, match=needle):
        dashboard(text)


def test_statements_that_read_are_kept():
    assert len(dashboard("(SELECT 1) UNION (SELECT 2); WITH a AS (SELECT 1) SELECT * FROM a")) == 2
