//! The report's queries: the blog's template expanded over `A`..`Z`, or a
//! dashboard of the user's own statements.
//!
//! The template is `queries/report.sql`, embedded at build time so binaries
//! work from any directory. Its one placeholder `{}` stands for the `LIKE`
//! prefix, as in the blog's Python `str.format`. `--queries FILE` replaces
//! it with either kind: a file with `{}` is a template (one statement), a
//! file without is a dashboard (its statements, separated by `;`, are the
//! queries of one page load).

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// The blog's report query, byte for byte (see `queries/report.sql`).
pub const REPORT_TEMPLATE: &str = include_str!("../../../queries/report.sql");

/// The placeholder the template's `LIKE` prefix is written as.
pub const PLACEHOLDER: &str = "{}";

/// One query of a workload's list, and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The report's `LIKE` prefix, `A`..`Z`; `p00001`.. for point lookups,
    /// `s001`.. for sleeps ([`crate::workload`]).
    pub label: String,
    pub sql: String,
    /// Its place in the work's list ([`crate::workload::Work`] numbers
    /// them): how a result finds its query after the run.
    pub index: usize,
}

impl Query {
    /// Checks that the query fits in one packet of a server whose
    /// `max_allowed_packet` is `max` (the command byte included).
    pub fn fits(&self, max: u64) -> Result<(), Error> {
        let bytes = self.sql.len() as u64 + 1;
        if bytes > max {
            return Err(Error::QueryTooLarge {
                label: self.label.clone(),
                bytes,
                max,
            });
        }
        Ok(())
    }
}

/// Expands `template` over `A`..`Z`, in order.
pub fn generate(template: &str) -> Result<Vec<Query>, Error> {
    let template = template.trim_end();
    if !template.contains(PLACEHOLDER) {
        return Err(Error::Config(format!(
            "the query template has no `{PLACEHOLDER}` placeholder for the LIKE prefix"
        )));
    }
    if let Some(at) = crate::statements::second_statement(template) {
        return Err(Error::Config(format!(
            "the query template holds more than one statement (a second one starts at byte {at}); \
             a template is one query, and the drivers would read its results differently"
        )));
    }
    Ok(('A'..='Z')
        .enumerate()
        .map(|(index, letter)| {
            let label = letter.to_string();
            Query {
                sql: template.replace(PLACEHOLDER, &label),
                label,
                index,
            }
        })
        .collect())
}

/// The largest dashboard file: a page's statements, not a data load.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The largest template file: one statement, and no server accepts one
/// over 1 GiB (`max_allowed_packet`'s ceiling); the server's own limit is
/// checked before sending.
const MAX_TEMPLATE_BYTES: u64 = 1 << 30;

/// Statements that change the session or its transactions. A dashboard's
/// statements run on whichever connection is free, in any order, so such a
/// statement would not carry to the next; and one could turn the read-only
/// session off (`SET SESSION TRANSACTION READ WRITE`, `START TRANSACTION
/// READ WRITE`, a procedure or prepared statement that does).
const SESSION_STATEMENTS: &[&str] = &[
    "SET",
    "START",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "XA",
    "LOCK",
    "UNLOCK",
    "USE",
    "CALL",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "DELIMITER",
];

/// What a `--queries` file holds: the blog's kind of template, or a
/// dashboard of the user's own statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub queries: Vec<Query>,
    /// The file held statements of their own (no `{}`): they run on
    /// read-only sessions unless writes are allowed.
    pub dashboard: bool,
}

/// A dashboard: every statement of `text`, in order, labelled `q1`.. (wide
/// enough to sort). Refuses an empty statement (two `;` with nothing
/// between), a file without any, and statements that change the session.
pub fn dashboard(text: &str) -> Result<Vec<Query>, Error> {
    let pieces = crate::statements::pieces(text);
    let last = pieces.len() - 1;
    let mut statements = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let Some(code) = piece.code else {
            if i == last {
                break;
            }
            return Err(Error::Config(format!(
                "statement {} of the dashboard is empty (a `;` at byte {} ends nothing): remove it",
                statements.len() + 1,
                piece.start + piece.text.len()
            )));
        };
        match crate::statements::first_word(piece, text) {
            Some(word) if SESSION_STATEMENTS.contains(&word.as_str()) => {
                return Err(Error::Config(format!(
                    "statement {} of the dashboard is a {word} statement: each statement runs on whichever connection is free, so session and transaction statements are refused",
                    statements.len() + 1
                )));
            }
            None if text[code..].starts_with("/*") => {
                return Err(Error::Config(format!(
                    "statement {} of the dashboard starts with an executable comment (`/*!`): write the statement itself",
                    statements.len() + 1
                )));
            }
            _ => {}
        }
        statements.push(text[code..piece.start + piece.text.len()].trim_end());
    }
    if statements.is_empty() {
        return Err(Error::Config(
            "the query file holds no statement: a template with `{}`, or a dashboard of statements separated by `;`".into(),
        ));
    }
    let count = statements.len();
    Ok(statements
        .into_iter()
        .enumerate()
        .map(|(index, sql)| Query {
            label: label('q', index, count),
            sql: sql.to_owned(),
            index,
        })
        .collect())
}

/// Labels `<prefix>1`.. for `count` queries, zero-padded to one width so
/// that they sort.
pub fn label(prefix: char, i: usize, count: usize) -> String {
    let width = count.to_string().len();
    format!("{prefix}{:0width$}", i + 1)
}

/// The queries of `text`: a template when it holds the `{}` placeholder,
/// else a dashboard.
pub fn parse(text: &str) -> Result<Loaded, Error> {
    if text.contains(PLACEHOLDER) {
        return Ok(Loaded {
            queries: generate(text)?,
            dashboard: false,
        });
    }
    Ok(Loaded {
        queries: dashboard(text)?,
        dashboard: true,
    })
}

/// The queries of the file at `path` (at most [`MAX_FILE_BYTES`]), or the
/// blog's 26.
pub fn load(path: Option<&Path>) -> Result<Loaded, Error> {
    let Some(path) = path else {
        return Ok(Loaded {
            queries: generate(REPORT_TEMPLATE)?,
            dashboard: false,
        });
    };
    let failed = |source| Error::QueryFile {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_TEMPLATE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(failed)?;
    let too_large = |limit: u64, what: &str| {
        Error::Config(format!(
            "{} is larger than {limit} bytes: {what}",
            path.display()
        ))
    };
    if bytes.len() as u64 > MAX_TEMPLATE_BYTES {
        return Err(too_large(
            MAX_TEMPLATE_BYTES,
            "no server accepts a statement that large",
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| failed(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    // A dashboard (no placeholder) is measured before it is split.
    if !text.contains(PLACEHOLDER) && text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(
            MAX_FILE_BYTES,
            "a dashboard holds a page's statements",
        ));
    }
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_six_queries_a_to_z_from_the_blog_template() {
        let queries = load(None).expect("queries").queries;
        assert_eq!(queries.len(), 26);
        let labels: String = queries.iter().map(|q| q.label.as_str()).collect();
        assert_eq!(labels, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        for q in &queries {
            assert_eq!(q.sql, REPORT_TEMPLATE.trim_end().replace("{}", &q.label));
            assert!(
                q.sql
                    .contains(&format!("WHERE reports.first_name LIKE '{}%'", q.label))
            );
        }
    }

    #[test]
    fn template_is_the_blogs_text() {
        // The blog's query, as published (seed/...), line for line.
        let blog = "SELECT CONCAT(reports.first_name, ' ', reports.last_name) AS employee_name, average_salary, CONCAT(managers.first_name, ' ', managers.last_name) AS manager_name, departments.dept_name FROM employees reports
    INNER JOIN dept_emp ON dept_emp.emp_no = reports.emp_no
    INNER JOIN dept_manager ON dept_manager.dept_no = dept_emp.dept_no
    INNER JOIN employees managers ON managers.emp_no = dept_manager.emp_no
    INNER JOIN departments ON departments.dept_no = dept_emp.dept_no
    INNER JOIN (
        SELECT FLOOR(AVG(salaries.salary)) as average_salary, salaries.emp_no FROM salaries
        GROUP BY salaries.emp_no
    ) AS average_salaries ON average_salaries.emp_no = reports.emp_no
    WHERE reports.first_name LIKE '{}%'
    ORDER BY reports.first_name
    LIMIT 5000";
        assert_eq!(REPORT_TEMPLATE.trim_end(), blog);
    }

    #[test]
    fn a_template_is_exactly_one_statement() {
        for one in [
            "SELECT '{}'",
            "SELECT '{}';",
            "SELECT '{}'; -- done\n",
            "SELECT ';' AS a, '{}' /* ; */ , \"x;y\", `a;b` FROM t # ; trailing\n",
            "SELECT 'it''s; {}', 'a\\'; b'",
            "SELECT '{}';;  ",
        ] {
            assert!(generate(one).is_ok(), "{one}");
        }
        for two in [
            "SELECT '{}'; SELECT 2",
            "SELECT '{}';DROP TABLE x",
            "SELECT ';{}'; /* c */ SELECT 3",
        ] {
            let err = generate(two).expect_err(two).to_string();
            assert!(err.contains("more than one statement"), "{two}: {err}");
        }
    }

    #[test]
    fn a_query_larger_than_the_servers_packet_is_refused_before_sending() {
        let q = Query {
            label: "A".into(),
            sql: "SELECT 1".into(),
            index: 0,
        };
        assert!(q.fits(9).is_ok());
        let err = q.fits(8).expect_err("9 bytes with the command byte");
        assert!(err.to_string().contains("max_allowed_packet"), "{err}");
    }

    #[test]
    fn a_file_without_placeholder_is_a_dashboard_of_its_statements() {
        let loaded =
            parse("-- sales page\nSELECT 1;\nSELECT ';' AS a\n  FROM dual ;\n\nSELECT 3; -- end\n")
                .expect("dashboard");
        assert!(loaded.dashboard);
        let got: Vec<(&str, &str, usize)> = loaded
            .queries
            .iter()
            .map(|q| (q.label.as_str(), q.sql.as_str(), q.index))
            .collect();
        assert_eq!(
            got,
            [
                ("q1", "SELECT 1", 0),
                ("q2", "SELECT ';' AS a\n  FROM dual", 1),
                ("q3", "SELECT 3", 2)
            ]
        );
        let many = parse(&"SELECT 1;".repeat(12)).expect("twelve");
        assert_eq!(many.queries[0].label, "q01");
        assert_eq!(many.queries[11].label, "q12");
        assert!(!parse("SELECT '{}'").expect("template").dashboard);
    }

    #[test]
    fn a_dashboard_refuses_empty_and_session_statements() {
        for (text, needle) in [
            (
                "SELECT 1;;SELECT 2",
                "statement 2 of the dashboard is empty",
            ),
            ("; SELECT 1", "statement 1 of the dashboard is empty"),
            (
                "SELECT 1; -- only\n; SELECT 2",
                "statement 2 of the dashboard is empty",
            ),
            ("", "holds no statement"),
            ("-- nothing\n", "holds no statement"),
            (
                "SELECT 1; set session transaction read write",
                "statement 2 of the dashboard is a SET",
            ),
            (
                "START TRANSACTION READ WRITE; SELECT 1",
                "is a START statement",
            ),
            ("CALL p()", "is a CALL statement"),
            ("/*!50000 SET tx_read_only = 0 */", "executable comment"),
        ] {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert!(parse("SELECT 1;").is_ok());
        assert!(parse("(SELECT 1) UNION (SELECT 2); WITH a AS (SELECT 1) SELECT * FROM a").is_ok());
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = std::env::temp_dir().join(format!("dbio-queries-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("big.sql");
        let big = "SELECT 1;\n".repeat((MAX_FILE_BYTES as usize / 10) + 1);
        std::fs::write(&path, big).expect("write");
        let err = load(Some(&path)).expect_err("too large").to_string();
        assert!(err.contains("larger than 1048576 bytes"), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean");
    }

    #[test]
    fn a_template_without_placeholder_is_refused() {
        assert!(generate("SELECT 1").is_err());
        let err = load(Some(Path::new("/nonexistent/template.sql"))).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/template.sql"));
    }
}
