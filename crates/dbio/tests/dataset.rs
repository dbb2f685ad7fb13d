//! Loading and verifying against the shared test server, each test in a
//! database of its own.

use dbio::dataset::loader::{begin, connect_for_load, identity};
use dbio::dataset::schema::Table;
use dbio::dataset::test_db::load_from_test_db;
use dbio::dataset::{self, Generator, LoadOutcome, Spec};
use dbio::no_progress;
use mysql::prelude::Queryable;
use testkit::{admin, shared};

fn fresh_db(name: &str) -> model::DbUrl {
    let url = shared().url.with_database(name);
    admin(&shared().url)
        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
        .expect("drop database");
    url
}

fn tiny() -> Spec {
    Spec::new(0.001, 42).expect("spec")
}

fn all_ok(url: &model::DbUrl) -> bool {
    let (_, checks) = dataset::verify(url).expect("verify");
    checks.iter().all(dataset::TableCheck::ok)
}

#[test]
fn schema_matches_test_db() {
    let url = &shared().url;
    let mut conn = admin(url);
    let columns: Vec<(String, String, String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = 'employees' AND TABLE_NAME IN ('employees','departments','dept_manager','dept_emp','titles','salaries') \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .expect("columns");
    // MySQL 8 prints INT as `int`, MariaDB as `int(11)`.
    let got: Vec<String> = columns
        .iter()
        .map(|(t, c, ty, null, key)| {
            format!("{t}.{c} {} {null} {key}", ty.replace("int(11)", "int"))
        })
        .collect();
    // From test_db's employees.sql.
    let want = [
        "departments.dept_no char(4) NO PRI",
        "departments.dept_name varchar(40) NO UNI",
        "dept_emp.emp_no int NO PRI",
        "dept_emp.dept_no char(4) NO PRI",
        "dept_emp.from_date date NO ",
        "dept_emp.to_date date NO ",
        "dept_manager.emp_no int NO PRI",
        "dept_manager.dept_no char(4) NO PRI",
        "dept_manager.from_date date NO ",
        "dept_manager.to_date date NO ",
        "employees.emp_no int NO PRI",
        "employees.birth_date date NO ",
        "employees.first_name varchar(14) NO ",
        "employees.last_name varchar(16) NO ",
        "employees.gender enum('M','F','NB','T') NO ",
        "employees.hire_date date NO ",
        "salaries.emp_no int NO PRI",
        "salaries.salary int NO ",
        "salaries.from_date date NO PRI",
        "salaries.to_date date NO ",
        "titles.emp_no int NO PRI",
        "titles.title varchar(50) NO PRI",
        "titles.from_date date NO PRI",
        "titles.to_date date YES ",
    ];
    assert_eq!(got, want);
    type KeyRow = (String, String, String, Option<String>, Option<String>);
    let keys: Vec<KeyRow> = conn
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'employees' AND TABLE_NAME NOT LIKE '\\_dbio%' \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME = 'PRIMARY' DESC, REFERENCED_TABLE_NAME, ORDINAL_POSITION",
        )
        .expect("keys");
    let got: Vec<String> = keys
        .iter()
        .filter(|k| k.1 == "PRIMARY" || k.3.is_some())
        .map(|(t, name, c, rt, rc)| match rt {
            None => format!("{t} {name} {c}"),
            Some(rt) => format!("{t}.{c} -> {rt}.{}", rc.as_deref().unwrap_or("")),
        })
        .collect();
    let want = [
        "departments PRIMARY dept_no",
        "dept_emp PRIMARY emp_no",
        "dept_emp PRIMARY dept_no",
        "dept_emp.dept_no -> departments.dept_no",
        "dept_emp.emp_no -> employees.emp_no",
        "dept_manager PRIMARY emp_no",
        "dept_manager PRIMARY dept_no",
        "dept_manager.dept_no -> departments.dept_no",
        "dept_manager.emp_no -> employees.emp_no",
        "employees PRIMARY emp_no",
        "salaries PRIMARY emp_no",
        "salaries PRIMARY from_date",
        "salaries.emp_no -> employees.emp_no",
        "titles PRIMARY emp_no",
        "titles PRIMARY title",
        "titles PRIMARY from_date",
        "titles.emp_no -> employees.emp_no",
    ];
    assert_eq!(got, want);
    let views: Vec<String> = conn
        .query("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'employees' ORDER BY TABLE_NAME")
        .expect("views");
    assert_eq!(views, ["current_dept_emp", "dept_emp_latest_date"]);
}

#[test]
fn load_is_idempotent_and_force_reloads() {
    let url = fresh_db("dbio_t_idempotent");
    assert_eq!(
        dataset::load(&url, tiny(), false, &no_progress()).expect("load"),
        LoadOutcome::Loaded
    );
    // A row that a reload would remove: it survives a no-op load only.
    let mut conn = admin(&url);
    conn.query_drop("INSERT INTO departments VALUES ('d999', 'Marker')")
        .expect("insert");
    assert_eq!(
        dataset::load(&url, tiny(), false, &no_progress()).expect("load"),
        LoadOutcome::AlreadyLoaded
    );
    let markers: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM departments WHERE dept_no = 'd999'")
        .expect("q");
    assert_eq!(markers, Some(1));
    // Another seed is another dataset.
    let other = Spec::new(0.001, 43).expect("spec");
    assert_eq!(
        dataset::load(&url, other, false, &no_progress()).expect("load"),
        LoadOutcome::Loaded
    );
    assert_eq!(
        dataset::load(&url, other, true, &no_progress()).expect("load"),
        LoadOutcome::Loaded
    );
    let markers: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM departments WHERE dept_no = 'd999'")
        .expect("q");
    assert_eq!(markers, Some(0));
    assert!(all_ok(&url));
}

/// D8 of the third hostile pass: an account that may read the dataset but
/// not create databases (a replica's endpoint, a read-only user) finds a
/// complete dataset loaded and changes nothing; it fails, naming the right
/// it lacks, only when there is something to write.
#[test]
fn a_complete_dataset_loads_with_read_rights_only() {
    let url = fresh_db("dbio_t_readonly");
    assert_eq!(
        dataset::load(&url, tiny(), false, &no_progress()).expect("load"),
        LoadOutcome::Loaded
    );
    let user = format!("dbio_ro_{}", std::process::id());
    let mut admin = admin(&shared().url);
    admin
        .query_drop(format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"))
        .expect("drop user");
    admin
        .query_drop(format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'ro-pw'"
        ))
        .expect("create user");
    admin
        .query_drop(format!(
            "GRANT SELECT ON dbio_t_readonly.* TO '{user}'@'127.0.0.1'"
        ))
        .expect("grant");
    let reader = url.with_credentials(&user, "ro-pw");
    assert_eq!(
        dataset::load(&reader, tiny(), false, &no_progress()).expect("a read-only load"),
        LoadOutcome::AlreadyLoaded
    );
    // Another dataset must be written: refused for the rights it lacks.
    let other = Spec::new(0.001, 43).expect("spec");
    let err = dataset::load(&reader, other, false, &no_progress()).expect_err("cannot write");
    let text = model::error::chain(&err);
    assert!(text.contains("1044"), "{text}");
    admin
        .query_drop(format!("DROP USER '{user}'@'127.0.0.1'"))
        .expect("drop user");
}

#[test]
fn an_interrupted_load_is_never_taken_for_a_complete_one() {
    let url = fresh_db("dbio_t_interrupted");
    dataset::load(&url, tiny(), false, &no_progress()).expect("load");
    // A load that starts and dies before it finishes.
    let mut conn = connect_for_load(&url, None).expect("connect");
    begin(&mut conn, &identity(tiny())).expect("begin");
    drop(conn);
    let err = dataset::verify(&url).expect_err("verify must refuse an unfinished load");
    assert!(err.to_string().contains("did not finish"), "{err}");
    assert_eq!(
        dataset::load(&url, tiny(), false, &no_progress()).expect("load"),
        LoadOutcome::Loaded
    );
    assert!(all_ok(&url));
}

/// Two `dbio up` at once: the second load waits for the first (a
/// server-side lock) and then finds the dataset loaded, where it used to
/// drop the tables the first was filling.
#[test]
fn loads_at_the_same_time_take_turns() {
    let url = fresh_db("dbio_two_loads");
    // The test holds the lock until both loads are waiting for it, so that
    // they really start together.
    let mut holder = admin(&shared().url);
    let held: Option<u8> = holder
        .query_first("SELECT GET_LOCK('dbio-load:dbio_two_loads', 10)")
        .expect("lock");
    assert_eq!(held, Some(1));
    let outcomes: Vec<LoadOutcome> = std::thread::scope(|s| {
        let loads: Vec<_> = (0..2)
            .map(|_| s.spawn(|| dataset::load(&url, tiny(), false, &no_progress())))
            .collect();
        testkit::poll(
            "both loads to wait for the lock",
            std::time::Duration::from_secs(30),
            || {
                let waiting: Option<u64> = admin(&shared().url)
                    .query_first(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                         WHERE INFO LIKE 'SELECT GET_LOCK(%' AND ID <> CONNECTION_ID()",
                    )
                    .expect("process list");
                (waiting == Some(2)).then_some(())
            },
        );
        drop(holder);
        loads
            .into_iter()
            .map(|h| {
                h.join()
                    .expect("thread")
                    .unwrap_or_else(|e| panic!("load: {}", model::error::chain(&e)))
            })
            .collect()
    });
    let loaded = outcomes
        .iter()
        .filter(|o| **o == LoadOutcome::Loaded)
        .count();
    assert_eq!(loaded, 1, "{outcomes:?}");
    assert!(
        outcomes.contains(&LoadOutcome::AlreadyLoaded),
        "{outcomes:?}"
    );
    assert!(all_ok(&url));
}

/// `dbio verify` only reads: pointed at a database that does not exist, it
/// fails without creating it.
#[test]
fn verify_creates_nothing() {
    let url = fresh_db("dbio_verify_nothing");
    let err = dataset::verify(&url).expect_err("no such database");
    assert!(
        model::error::chain(&err).contains("Unknown database"),
        "{}",
        model::error::chain(&err)
    );
    let exists: Option<String> = admin(&shared().url)
        .query_first("SHOW DATABASES LIKE 'dbio\\_verify\\_nothing'")
        .expect("show databases");
    assert_eq!(exists, None);
}

#[test]
fn verify_catches_a_changed_row() {
    let url = fresh_db("dbio_t_verify");
    dataset::load(&url, tiny(), false, &no_progress()).expect("load");
    assert!(all_ok(&url));
    admin(&url)
        .query_drop("UPDATE salaries SET salary = salary + 1 ORDER BY emp_no, from_date LIMIT 1")
        .expect("update");
    assert_eq!(failing_tables(&url), ["salaries"]);
}

/// A directory shaped like a test_db checkout, from generated rows.
fn fake_test_db(dir: &std::path::Path, spec: Spec, lie_about: Option<Table>) {
    std::fs::create_dir_all(dir).expect("dir");
    let g = Generator::new(spec);
    let mut expected = String::from("INSERT INTO `expected_values` VALUES \n");
    for table in Table::ALL {
        let data = g.table(table);
        let rows: Vec<String> = String::from_utf8(data.tsv.clone())
            .expect("utf8")
            .lines()
            .map(|l| {
                format!(
                    "({})",
                    l.split('\t')
                        .map(|v| format!("'{v}'"))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        let files: Vec<String> = if table == Table::Salaries {
            (1..=3).map(|i| format!("load_salaries{i}.dump")).collect()
        } else {
            vec![format!("load_{table}.dump")]
        };
        let per_file = rows.len().div_ceil(files.len());
        for (file, chunk) in files.iter().zip(rows.chunks(per_file)) {
            let text = format!(
                "-- dump\nINSERT INTO `{table}` VALUES {};\n",
                chunk.join(",\n")
            );
            std::fs::write(dir.join(file), text).expect("write dump");
        }
        let count = data.rows + u64::from(lie_about == Some(table));
        expected.push_str(&format!("('{table}',   {count},'sha', 'md5'),\n"));
    }
    std::fs::write(dir.join("test_employees_md5.sql"), expected).expect("write expected");
}

#[test]
fn test_db_checkout_loads_and_verifies_against_its_expected_counts() {
    let base = std::env::temp_dir().join(format!("dbio-fake-test-db-{}", std::process::id()));
    let url = fresh_db("dbio_t_test_db");
    fake_test_db(&base.join("good"), tiny(), None);
    let outcome = load_from_test_db(&url, &base.join("good"), false, &no_progress()).expect("load");
    assert_eq!(outcome, LoadOutcome::Loaded);
    let (meta, checks) = dataset::verify(&url).expect("verify");
    assert_eq!(meta.get("source").map(String::as_str), Some("test_db"));
    assert!(
        checks
            .iter()
            .all(|c| c.ok() && c.expected_rows == Some(c.found_rows)),
        "{checks:?}"
    );
    // A checkout whose data does not match its own expected counts fails verify.
    fake_test_db(&base.join("bad"), tiny(), Some(Table::Titles));
    load_from_test_db(&url, &base.join("bad"), true, &no_progress()).expect("load");
    assert_eq!(failing_tables(&url), ["titles"]);
    // Not a checkout at all.
    let err = load_from_test_db(&url, &base, true, &no_progress()).expect_err("not a checkout");
    assert!(err.to_string().contains("not a test_db checkout"), "{err}");
    let _ = std::fs::remove_dir_all(&base);
}

/// The tables whose counts or checksums `dbio verify` finds wrong.
fn failing_tables(url: &model::DbUrl) -> Vec<String> {
    let (_, checks) = dataset::verify(url).expect("verify");
    checks
        .iter()
        .filter(|c| !c.ok())
        .map(|c| c.table.clone())
        .collect()
}
