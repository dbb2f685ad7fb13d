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

/// One query of the list, labelled by its prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `A`..`Z`.
    pub label: String,
    pub sql: String,
}

/// Expands `template` over `A`..`Z`, in order.
pub fn generate(template: &str) -> Result<Vec<Query>, Error> {
    let template = template.trim_end();
    if !template.contains(PLACEHOLDER) {
        return Err(Error::Config(format!(
            "the query template has no `{PLACEHOLDER}` placeholder for the LIKE prefix"
        )));
    }
    Ok(('A'..='Z')
        .map(|letter| {
            let label = letter.to_string();
            Query {
                sql: template.replace(PLACEHOLDER, &label),
                label,
            }
        })
        .collect())
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
    fn a_template_without_placeholder_is_refused() {
        assert!(generate("SELECT 1").is_err());
        let err = load(Some(Path::new("/nonexistent/template.sql"))).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/template.sql"));
    }
}
