//! Loads generated tables with `LOAD DATA LOCAL INFILE`, streaming them from
//! memory (no temporary files), two connections at once: `salaries` (90% of
//! the bytes) on one, the other tables on the other.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use mysql::prelude::Queryable;

use model::DbUrl;

use super::generate::{GENERATOR_VERSION, Generator, Spec, TableData};
use super::schema::{self, Table};
use crate::Progress;
use crate::error::{DbioError, Result, SqlContext};

/// What `load` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// The same dataset was already complete; nothing was changed.
    AlreadyLoaded,
    Loaded,
}

/// The dataset's identity as recorded in `_dbio_meta`.
pub fn identity(spec: Spec) -> Vec<(&'static str, String)> {
    vec![
        ("source", "generated".to_owned()),
        ("scale", spec.scale.to_string()),
        ("seed", spec.seed.to_string()),
        ("generator", GENERATOR_VERSION.to_string()),
    ]
}

/// A connection to the server at `url` with its database selected; the
/// database must exist (nothing is created: `dbio verify` only reads).
pub fn connect(url: &DbUrl, infile: Option<mysql::LocalInfileHandler>) -> Result<mysql::Conn> {
    let db = url
        .database()
        .unwrap_or(model::managed::DATABASE)
        .to_owned();
    let opts = mysql::Opts::from_url(&url.with_database(&db).expose())
        .map_err(|e| DbioError::Refused(format!("DATABASE_URL {url} is not usable: {e}")))?;
    let opts = mysql::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(crate::connect::CONNECT_DEADLINE))
        .local_infile_handler(infile);
    crate::connect::open(opts.into(), &format!("cannot connect to {url}"))
}

/// A connection to the server at `url` with its database created and
/// selected, set up for bulk loading.
pub fn connect_for_load(
    url: &DbUrl,
    infile: Option<mysql::LocalInfileHandler>,
) -> Result<mysql::Conn> {
    let db = url
        .database()
        .unwrap_or(model::managed::DATABASE)
        .to_owned();
    let server = url.with_database("");
    let opts = mysql::Opts::from_url(&server.expose())
        .map_err(|e| DbioError::Refused(format!("DATABASE_URL {url} is not usable: {e}")))?;
    let opts = mysql::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(crate::connect::CONNECT_DEADLINE))
        .local_infile_handler(infile);
    let mut conn = crate::connect::open(opts.into(), &format!("cannot connect to {url}"))?;
    conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
        .sql(format!("cannot create database {db}"))?;
    conn.select_db(&db)
        .sql(format!("cannot use database {db}"))?;
    conn.query_drop("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        .sql("cannot set session options")?;
    Ok(conn)
}

/// How long a load waits for another load into the same database.
const LOAD_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Takes the server-side lock on loading into `conn`'s database (held until
/// `conn` closes), waiting while another dbio load holds it: two loads at
/// once would drop each other's tables. Works for any server, managed or not.
pub fn lock_loads(conn: &mut mysql::Conn, progress: &Progress) -> Result<()> {
    let db: Option<String> = conn
        .query_first("SELECT DATABASE()")
        .sql("cannot read the current database")?;
    let name = format!("dbio-load:{}", db.unwrap_or_default());
    let started = Instant::now();
    let mut said = false;
    loop {
        let got: Option<Option<u8>> = conn
            .exec_first("SELECT GET_LOCK(?, 1)", (&name,))
            .sql("cannot take the load lock")?;
        if got.flatten() == Some(1) {
            return Ok(());
        }
        if started.elapsed() > LOAD_LOCK_WAIT {
            return Err(DbioError::Timeout(format!(
                "another dbio load has held the lock `{name}` for {} min; try again when it is done",
                LOAD_LOCK_WAIT.as_secs() / 60
            )));
        }
        if !said {
            progress("another dbio load into this database is running; waiting for it to finish");
            said = true;
        }
    }
}

/// Whether the database of `url` already holds the complete dataset of
/// `identity`, read without writing anything; any failure (no such
/// database, no right to read it) means "not known to be", and the load
/// goes on to say what it lacks.
fn already_complete(url: &DbUrl, identity: &[(&'static str, String)]) -> bool {
    connect(url, None)
        .and_then(|mut conn| read_meta(&mut conn))
        .is_ok_and(|meta| is_complete(&meta, identity))
}

/// Reads `_dbio_meta`, empty when the table does not exist.
pub fn read_meta(conn: &mut mysql::Conn) -> Result<HashMap<String, String>> {
    let exists: Option<String> = conn
        .query_first("SHOW TABLES LIKE '\\_dbio\\_meta'")
        .sql("cannot list tables")?;
    if exists.is_none() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = conn
        .query("SELECT k, v FROM _dbio_meta")
        .sql("cannot read _dbio_meta")?;
    Ok(rows.into_iter().collect())
}

/// Whether `meta` records a complete load of exactly `wanted`.
pub fn is_complete(meta: &HashMap<String, String>, wanted: &[(&str, String)]) -> bool {
    meta.get("status").map(String::as_str) == Some("complete")
        && wanted.iter().all(|(k, v)| meta.get(*k) == Some(v))
}

/// Drops and recreates the schema, marking the load as in progress first.
pub fn begin(conn: &mut mysql::Conn, identity: &[(&str, String)]) -> Result<()> {
    for sql in schema::CREATE_META {
        conn.query_drop(sql)
            .sql("cannot create dbio's metadata tables")?;
    }
    conn.query_drop("DELETE FROM _dbio_meta")
        .sql("cannot reset _dbio_meta")?;
    conn.query_drop("DELETE FROM _dbio_checksums")
        .sql("cannot reset _dbio_checksums")?;
    conn.exec_drop("INSERT INTO _dbio_meta VALUES ('status', 'loading')", ())
        .sql("cannot write _dbio_meta")?;
    for (k, v) in identity {
        conn.exec_drop("INSERT INTO _dbio_meta VALUES (?, ?)", (k, v))
            .sql("cannot write _dbio_meta")?;
    }
    for sql in schema::DROP.iter().chain(schema::CREATE) {
        conn.query_drop(sql)
            .sql("cannot create the employees schema")?;
    }
    Ok(())
}

/// Analyses the tables, records the checksums, then marks the load complete.
/// One table's row count and checksum at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub table: String,
    pub rows: u64,
    pub crc_sum: u64,
    /// test_db's published count, for data loaded from a test_db checkout.
    pub expected_rows: Option<u64>,
}

pub fn finish(conn: &mut mysql::Conn, checksums: &[Checksum]) -> Result<()> {
    let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    conn.query_drop(format!("ANALYZE TABLE {}", tables.join(", ")))
        .sql("cannot analyze the tables")?;
    let mut tx = conn
        .start_transaction(mysql::TxOpts::default())
        .sql("cannot start a transaction")?;
    for c in checksums {
        tx.exec_drop(
            "INSERT INTO _dbio_checksums VALUES (?, ?, ?, ?)",
            (&c.table, c.rows, c.crc_sum, c.expected_rows),
        )
        .sql("cannot write _dbio_checksums")?;
    }
    tx.query_drop("UPDATE _dbio_meta SET v = 'complete' WHERE k = 'status'")
        .sql("cannot write _dbio_meta")?;
    tx.exec_drop(
        "INSERT INTO _dbio_meta VALUES ('loaded_at', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ'))",
        (),
    )
    .sql("cannot write _dbio_meta")?;
    tx.commit().sql("cannot commit the load")
}

/// Generates the dataset for `spec` and loads it into the database of `url`,
/// unless the same dataset is already complete there (or `force`).
pub fn load(url: &DbUrl, spec: Spec, force: bool, progress: &Progress) -> Result<LoadOutcome> {
    let identity = identity(spec);
    // First a look, with no right but to read: an account that may not
    // create databases (a replica's endpoint, a read-only user) finds the
    // dataset complete and changes nothing.
    if !force && already_complete(url, &identity) {
        return Ok(LoadOutcome::AlreadyLoaded);
    }
    // Held for the whole load: the connection that took the lock lives on.
    let mut conn = connect_for_load(url, None)?;
    lock_loads(&mut conn, progress)?;
    if !force && is_complete(&read_meta(&mut conn)?, &identity) {
        return Ok(LoadOutcome::AlreadyLoaded);
    }
    let started = Instant::now();
    progress(&format!(
        "generating and loading the employees dataset ({spec})"
    ));
    begin(&mut conn, &identity)?;

    let generator = Generator::new(spec);
    let lanes: [&[Table]; 2] = [
        &[Table::Salaries],
        &[
            Table::Departments,
            Table::Employees,
            Table::DeptEmp,
            Table::DeptManager,
            Table::Titles,
        ],
    ];
    let results: Vec<Result<Vec<Checksum>>> = std::thread::scope(|s| {
        let handles: Vec<_> = lanes
            .iter()
            .map(|tables| {
                let generator = &generator;
                s.spawn(move || {
                    let mut done = Vec::new();
                    for table in tables.iter() {
                        let t0 = Instant::now();
                        let data = Arc::new(generator.table(*table));
                        let generated = t0.elapsed();
                        load_table(url, &data, progress)?;
                        progress(&format!(
                            "  {:<12} {:>10} rows  generated {:>5.2} s, loaded {:>6.2} s",
                            data.table.name(),
                            data.rows,
                            generated.as_secs_f64(),
                            (t0.elapsed() - generated).as_secs_f64()
                        ));
                        done.push(Checksum {
                            table: data.table.name().to_owned(),
                            rows: data.rows,
                            crc_sum: data.crc_sum,
                            expected_rows: None,
                        });
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(DbioError::Internal("a loader thread panicked".into())))
            })
            .collect()
    });
    let mut checksums = Vec::new();
    for r in results {
        checksums.extend(r?);
    }
    finish(&mut conn, &checksums)?;
    progress(&format!(
        "dataset loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(LoadOutcome::Loaded)
}

/// Streams one table to the server, reporting progress every 10%.
fn load_table(url: &DbUrl, data: &Arc<TableData>, progress: &Progress) -> Result<()> {
    let source = Arc::clone(data);
    let report = Arc::clone(progress);
    // Runs inside the LOAD DATA call below, when the server asks for the file.
    let handler = mysql::LocalInfileHandler::new(move |_name, out| {
        let bytes = &source.tsv;
        let big = bytes.len() > 16 << 20;
        let step = if big {
            bytes.len().div_ceil(10)
        } else {
            bytes.len().max(1)
        };
        for (i, chunk) in bytes.chunks(step).enumerate() {
            out.write_all(chunk)?;
            if big {
                report(&format!(
                    "  {:<12} {:>3}% sent",
                    source.table.name(),
                    (i + 1) * 10
                ));
            }
        }
        out.flush()
    });
    let mut conn = connect_for_load(url, Some(handler))?;
    let sql = format!(
        "LOAD DATA LOCAL INFILE 'dbio:{name}' INTO TABLE `{name}` CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' ({cols})",
        name = data.table,
        cols = data.table.columns().join(", ")
    );
    conn.query_drop(sql).map_err(|e| match &e {
        mysql::Error::MySqlError(m) if m.code == 3948 || m.code == 1148 => DbioError::Refused(format!(
            "the server at {url} does not allow LOAD DATA LOCAL INFILE; enable it with `SET GLOBAL local_infile = 1` (or start the server with --local-infile=1)"
        )),
        _ => DbioError::Sql {
            what: format!("cannot load table {}", data.table),
            source: mysql_terms::db_error(e),
        },
    })
}
