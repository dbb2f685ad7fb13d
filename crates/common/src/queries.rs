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
