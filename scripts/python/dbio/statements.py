"""The SQL text of a --queries file, as crates/model/src/statements.rs and
queries.rs read it, byte for byte: statements split at `;` outside quotes and
comments, the template check, and a dashboard's statements. Pure: no I/O,
no driver; the cli turns a refusal into the one `error:` line."""

from dbio.errors import Refused


def pieces(sql):
    """The text between `;`s outside quotes and comments, as
    crates/model/src/statements.rs splits it, byte for byte: a list of
    (start, end, code) with `code` the offset of the first byte that is
    neither blank nor comment (None for none). `/*!` and `/*M!` are code."""
    data, i, out = sql.encode(), 0, []
    start, code = 0, None
    while i < len(data):
        c, rest = data[i], data[i:]
        if rest.startswith((b"-- ", b"--\t")) or c == ord("#"):
            end = rest.find(b"\n")
            i += len(rest) if end < 0 else end
            continue
        if rest.startswith(b"/*") and not rest.startswith((b"/*!", b"/*M!")):
            end = rest.find(b"*/", 2)
            i += len(rest) if end < 0 else end + 2
            continue
        if c == ord(";"):
            out.append((start, i, code))
            start, code = i + 1, None
            i += 1
            continue
        if chr(c).isspace() and c < 128:
            i += 1
            continue
        if code is None:
            code = i
        if c in b"'\"`":
            i += 1
            while i < len(data):
                if data[i] == ord("\\") and c != ord("`"):
                    i += 2
                elif data[i] == c:
                    if i + 1 < len(data) and data[i + 1] == c:
                        i += 2
                    else:
                        break
                else:
                    i += 1
        i += 1
    out.append((min(start, len(data)), len(data), code))
    return out


def second_statement(sql):
    """Where a second statement starts in `sql`, if it has one: the first
    code of a piece after the first piece with code."""
    codes = [code for _, _, code in pieces(sql) if code is not None]
    return codes[1] if len(codes) > 1 else None


# Statements that change the session or its transactions: a dashboard's
# statements run on whichever connection is free (crates/model/src/queries.rs).
SESSION_STATEMENTS = {"SET", "START", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA",
                      "LOCK", "UNLOCK", "USE", "CALL", "PREPARE", "EXECUTE", "DEALLOCATE",
                      "DELIMITER"}

def dashboard(text):
    """A dashboard's statements, in order, labelled q1.., as
    crates/model/src/queries.rs reads them; raises Refused, in one line,
    for an empty statement, a file without any, and a statement that
    changes the session."""
    data = text.encode()
    found = pieces(text)
    statements = []
    for i, (start, end, code) in enumerate(found):
        if code is None:
            if i == len(found) - 1:
                break
            raise Refused(f"statement {len(statements) + 1} of the dashboard is empty "
                 f"(a `;` at byte {end} ends nothing): remove it")
        word = bytearray()
        for b in data[code:]:
            if not (65 <= b <= 90 or 97 <= b <= 122):
                break
            word.append(b)
        word = word.decode().upper()
        if word in SESSION_STATEMENTS:
            raise Refused(f"statement {len(statements) + 1} of the dashboard is a {word} statement: each statement "
                 "runs on whichever connection is free, so session and transaction statements are refused")
        if not word and data[code:].startswith(b"/*"):
            raise Refused(f"statement {len(statements) + 1} of the dashboard starts with an executable comment "
                 "(`/*!`): write the statement itself")
        statements.append(data[code:end].decode().rstrip())
    if not statements:
        raise Refused("the query file holds no statement: a template with `{}`, or a dashboard of statements "
             "separated by `;`")
    width = len(str(len(statements)))
    return [(f"q{i + 1:0{width}}", sql) for i, sql in enumerate(statements)]
