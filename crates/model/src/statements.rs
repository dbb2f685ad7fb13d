//! Splitting SQL text into statements: at each `;` outside quotes and
//! comments. One lexer for the template check (a template is one
//! statement) and for a dashboard file (several), mirrored byte for byte by
//! `scripts/python/dbio/statements.py`.
//!
//! Comments are `-- ` and `#` to the end of the line and `/* ... */`. A
//! `/*!` or `/*M!` comment is executable in MySQL and MariaDB: it is code
//! here, not a comment. Quoted strings and names (`'`, `"`, `` ` ``) keep a
//! doubled quote inside them, and a backslash escape in `'` and `"`.
//! `DELIMITER` is a client command and is not understood: a compound
//! statement (a procedure body) splits at its inner `;`.

/// The text between two `;` (or an end of the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// Where the piece starts in the text (after the `;` before it).
    pub start: usize,
    /// The piece, without the `;` that ends it.
    pub text: &'a str,
    /// Where its first code starts in the text (not a blank, not a
    /// comment); `None` for a piece of blanks and comments only.
    pub code: Option<usize>,
}

/// Every piece of `sql`, in order: one more than the `;`s that end
/// statements.
pub fn pieces(sql: &str) -> Vec<Piece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut code) = (0, None);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &bytes[i..];
        if rest.starts_with(b"-- ") || rest.starts_with(b"--\t") || c == b'#' {
            i += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with(b"/*") && !rest.starts_with(b"/*!") && !rest.starts_with(b"/*M!") {
            i += rest[2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(rest.len(), |p| p + 4);
            continue;
        }
        if c == b';' {
            out.push(Piece {
                start,
                text: &sql[start..i],
                code,
            });
            (start, code) = (i + 1, None);
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        code.get_or_insert(i);
        if matches!(c, b'\'' | b'"' | b'`') {
            i = past_quoted(bytes, i);
            continue;
        }
        i += 1;
    }
    out.push(Piece {
        start,
        text: &sql[start.min(sql.len())..],
        code,
    });
    out
}

/// The index just past the quoted string or name that opens at `open`.
fn past_quoted(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && quote != b'`' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Where a second statement starts in `sql`, if it has one: the first code
/// of a piece after the first piece with code. A trailing `;` (or several)
/// leaves one statement.
pub fn second_statement(sql: &str) -> Option<usize> {
    pieces(sql).iter().filter_map(|p| p.code).nth(1)
}

/// The statement's first word, upper-cased (letters only): what it is.
/// `None` when it starts with anything else (`(`, an executable comment).
pub fn first_word(piece: &Piece<'_>, sql: &str) -> Option<String> {
    let code = &sql[piece.code?..];
    let word: String = code
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!word.is_empty()).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(sql: &str) -> Vec<&str> {
        pieces(sql)
            .iter()
            .filter_map(|p| p.code.map(|c| sql[c..p.start + p.text.len()].trim_end()))
            .collect()
    }

    #[test]
    fn splits_at_semicolons_outside_quotes_and_comments() {
        let sql = "SELECT ';' AS a, \"x;y\", `a;b` /* ; */ FROM t # ; x\n; -- c ;\n SELECT 'it''s; {}', 'a\\'; b'";
        assert_eq!(
            codes(sql),
            [
                "SELECT ';' AS a, \"x;y\", `a;b` /* ; */ FROM t # ; x",
                "SELECT 'it''s; {}', 'a\\'; b'"
            ]
        );
        assert_eq!(pieces(sql).len(), 2);
    }

    #[test]
    fn a_trailing_semicolon_leaves_an_empty_last_piece() {
        let all = pieces("SELECT 1;\n-- end\n");
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].code, None);
        assert_eq!(pieces("SELECT 1").len(), 1);
        assert_eq!(pieces("").len(), 1);
    }

    #[test]
    fn an_executable_comment_is_code() {
        let sql = "/*!50000 SET SESSION TRANSACTION READ WRITE */; /* plain */";
        let all = pieces(sql);
        assert_eq!(all[0].code, Some(0));
        assert_eq!(first_word(&all[0], sql), None);
        assert_eq!(all[1].code, None);
        assert_eq!(pieces("/*M! SELECT 1 */")[0].code, Some(0));
    }

    #[test]
    fn the_first_word_names_the_statement() {
        let sql = "  -- why\n  set @a = 1; (SELECT 1); with x as (select 1) select * from x";
        let all = pieces(sql);
        let words: Vec<Option<String>> = all.iter().map(|p| first_word(p, sql)).collect();
        assert_eq!(words, [Some("SET".into()), None, Some("WITH".into())]);
    }

    #[test]
    fn a_second_statement_is_found_where_it_starts() {
        assert_eq!(second_statement("SELECT 1;;  -- x\n"), None);
        assert_eq!(second_statement("SELECT 1; SELECT 2"), Some(10));
        assert_eq!(second_statement("SELECT ';{}'; /* c */ SELECT 3"), Some(22));
        assert_eq!(second_statement("; SELECT 1"), None);
    }
}
