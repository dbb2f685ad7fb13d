//! Loads the real test_db from a checkout of datacharmer/test_db: its
//! `load_*.dump` files (INSERT statements) into the same schema, with the
//! row counts that the repository's `test_employees_md5.sql` expects
//! recorded for `dbio verify`.

use std::path::Path;
use std::time::Instant;

use mysql::prelude::Queryable;

use model::DbUrl;

use super::loader::{
    Checksum, LoadOutcome, begin, connect_for_load, finish, is_complete, lock_loads, read_meta,
};
use super::schema::Table;
use crate::Progress;
use crate::error::{DbioError, IoContext, Result, SqlContext};

/// The dump files, in test_db's own load order.
const DUMPS: [(Table, &str); 8] = [
    (Table::Departments, "load_departments.dump"),
    (Table::Employees, "load_employees.dump"),
    (Table::DeptEmp, "load_dept_emp.dump"),
    (Table::DeptManager, "load_dept_manager.dump"),
    (Table::Titles, "load_titles.dump"),
    (Table::Salaries, "load_salaries1.dump"),
    (Table::Salaries, "load_salaries2.dump"),
    (Table::Salaries, "load_salaries3.dump"),
];

/// The file with test_db's expected counts.
const EXPECTED: &str = "test_employees_md5.sql";

/// test_db's expected row count per table, read from its test script.
pub fn expected_counts(dir: &Path) -> Result<Vec<(String, u64)>> {
    let path = dir.join(EXPECTED);
    let text =
        std::fs::read_to_string(&path).ctx("cannot read test_db's expected counts", &path)?;
    Table::ALL
        .iter()
        .map(|table| {
            let key = format!("('{table}',");
            let count = text.find(&key).and_then(|at| {
                let rest = text[at + key.len()..].trim_start();
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            });
            count.map(|c| (table.to_string(), c)).ok_or_else(|| {
                DbioError::Refused(format!(
                    "{} has no expected count for {table}",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Loads test_db's data from `dir`, unless already loaded (or `force`).
pub fn load_from_test_db(
    url: &DbUrl,
    dir: &Path,
    force: bool,
    progress: &Progress,
) -> Result<LoadOutcome> {
    for (_, file) in DUMPS {
        if !dir.join(file).is_file() {
            return Err(DbioError::Refused(format!(
                "{} is not a test_db checkout: {file} is missing",
                dir.display()
            )));
        }
    }
    let expected = expected_counts(dir)?;
    let identity = vec![("source", "test_db".to_owned())];
    let mut conn = connect_for_load(url, None)?;
    lock_loads(&mut conn, progress)?;
    if !force && is_complete(&read_meta(&mut conn)?, &identity) {
        return Ok(LoadOutcome::AlreadyLoaded);
    }
    let started = Instant::now();
    begin(&mut conn, &identity)?;
    for (table, file) in DUMPS {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).ctx("cannot read", &path)?;
        let mut statement = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if statement.is_empty() && (trimmed.is_empty() || trimmed.starts_with("--")) {
                continue;
            }
            statement.push_str(line);
            statement.push('\n');
            if trimmed.ends_with(';') {
                conn.query_drop(&statement)
                    .sql(format!("cannot load {file} into {table}"))?;
                statement.clear();
            }
        }
        if !statement.trim().is_empty() {
            conn.query_drop(&statement)
                .sql(format!("cannot load {file}"))?;
        }
        progress(&format!("  {table:<12} {file} loaded"));
    }
    let mut checksums = Vec::new();
    for table in Table::ALL {
        let (rows, crc): (u64, u64) = conn
            .query_first(table.checksum_sql())
            .sql(format!("cannot checksum {table}"))?
            .unwrap_or((0, 0));
        let want = expected
            .iter()
            .find(|(t, _)| t == table.name())
            .map(|(_, n)| *n);
        checksums.push(Checksum {
            table: table.name().to_owned(),
            rows,
            crc_sum: crc,
            expected_rows: want,
        });
    }
    finish(&mut conn, &checksums)?;
    progress(&format!(
        "test_db loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(LoadOutcome::Loaded)
}
