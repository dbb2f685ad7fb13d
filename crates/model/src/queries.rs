//! The 26 report queries: the blog's template expanded over `A`..`Z`.
//!
//! The template is `queries/report.sql`, embedded at build time so binaries
//! work from any directory; `--queries FILE` replaces it. Its one placeholder
//! `{}` stands for the `LIKE` prefix, as in the blog's Python `str.format`.

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
    if let Some(at) = second_statement(template) {
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

/// Where a second statement starts in `sql`, if it has one: a `;` outside
/// quotes and comments followed by anything but blanks, comments and more
/// `;`. A single trailing `;` is one statement.
fn second_statement(sql: &str) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut ended = false;
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &bytes[i..];
        // Comments: `-- ` and `#` to the end of the line, `/* ... */`.
        if rest.starts_with(b"-- ") || rest.starts_with(b"--\t") || c == b'#' {
            i += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with(b"/*") {
            i += rest[2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(rest.len(), |p| p + 4);
            continue;
        }
        if c.is_ascii_whitespace() || c == b';' {
            ended |= c == b';';
            i += 1;
            continue;
        }
        if ended {
            return Some(i);
        }
        if matches!(c, b'\'' | b'"' | b'`') {
            // A quoted string or name: a doubled quote or a backslash escape
            // stays inside it.
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'\\' && c != b'`' {
                    i += 2;
                } else if bytes[i] == c {
                    if bytes.get(i + 1) == Some(&c) {
                        i += 2;
                    } else {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        }
        i += 1;
    }
    None
}

/// The template from `path`, or the embedded report query.
pub fn load(path: Option<&Path>) -> Result<Vec<Query>, Error> {
    match path {
        None => generate(REPORT_TEMPLATE),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::QueryFile {
                path: path.to_owned(),
                source,
            })?;
            generate(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_six_queries_a_to_z_from_the_blog_template() {
        let queries = load(None).expect("queries");
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
    fn a_template_without_placeholder_is_refused() {
        assert!(generate("SELECT 1").is_err());
        let err = load(Some(Path::new("/nonexistent/template.sql"))).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/template.sql"));
    }
}
