//! Test support only: real servers for tests, polling with deadlines, and
//! the fault checks every approach binary must pass. No mocks: every test
//! talks to a `mariadbd` that this crate starts. (The cross-approach tests
//! and the bench are the `suite` package's.)
//!
//! - [`shared`]: one managed server per workspace (`target/dbio-test`, or
//!   `$DBIO_TEST_HOME`) with the dataset at scale 0.01, started and loaded on
//!   first use and reused by every test process (a file lock orders them);
//! - [`Scratch`]: a server of a test's own, for tests that stop or break it;
//! - [`faults`]: runs an approach binary against each fault and checks that
//!   it fails fast with one clear line; [`signals`]: the signal checks, for
//!   the binaries and the Python scripts alike; [`program`]: running a
//!   program under test with deadlines.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use common::{ConnConfig, DbUrl, RunConfig};
use dbio::dataset::{self, Spec};
use dbio::{Server, ServerSettings, no_progress};
use mysql::prelude::Queryable;

pub mod evil;
pub mod faults;
pub mod hostile;
pub mod program;
pub mod signals;

/// The test dataset: small enough to load in a second, large enough that
/// the 26 queries differ in row count.
pub const TEST_SCALE: f64 = 0.01;
pub const TEST_SEED: u64 = 42;

/// Where the tests keep their servers: `$DBIO_TEST_DIR`, or the
/// workspace's `target/`. Started by root, a server runs as an unprivileged
/// OS user who must be able to enter it; `scripts/test.sh` picks another
/// directory when the checkout is out of that user's reach (e.g. in /root).
pub fn test_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DBIO_TEST_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    workspace_root().join("target")
}

/// The workspace's root directory (for the scripts and the Python side).
pub fn workspace_root() -> PathBuf {
    // crates/testkit -> workspace root
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map_or(manifest.clone(), PathBuf::from)
}

/// The release binaries `scripts/test.sh` builds before the tests (the
/// `release` beside the profile the tests run in, wherever the target
/// directory is): the end-to-end tests run those, and no test starts a
/// release build.
pub fn release_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    // <target>/<profile>/deps/<test> -> <target>/release
    let dir = exe
        .ancestors()
        .nth(3)
        .map(|target| target.join("release"))
        .expect("a target directory");
    assert!(
        dir.join("bench").is_file(),
        "{} has no release build of bench: run scripts/test.sh, which builds the release binaries first",
        dir.display()
    );
    dir
}

/// Keeps every variable of dbio's (`DBIO_*`, `DATABASE_URL*`) and
/// `RUST_BACKTRACE` of this environment out of `cmd`, except those `cmd`
/// sets itself: a developer's exported `DBIO_WORKLOAD=point` (which the
/// README documents) must not change what a test runs.
/// Then, in a test binary that asked for it ([`use_blocking_driver`]),
/// sets the thread-based approaches' driver.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    scrub_from(cmd, std::env::vars_os().map(|(name, _)| name));
    if let Some(driver) = BLOCKING_DRIVER.get()
        && !cmd.get_envs().any(|(k, _)| k == "DBIO_BLOCKING_DRIVER")
    {
        cmd.env("DBIO_BLOCKING_DRIVER", driver);
    }
    cmd
}

static BLOCKING_DRIVER: OnceLock<&'static str> = OnceLock::new();

/// From now on, every command [`scrub`] prepares runs the thread-based
/// approaches on `driver` (`DBIO_BLOCKING_DRIVER`): for a test binary that
/// runs the fault tests on dbio's own `wire` client.
pub fn use_blocking_driver(driver: &'static str) {
    let _ = BLOCKING_DRIVER.set(driver);
}

/// [`scrub`] against the variable names `present`.
fn scrub_from(
    cmd: &mut Command,
    present: impl Iterator<Item = std::ffi::OsString>,
) -> &mut Command {
    let ours = |name: &str| {
        name.starts_with("DBIO_") || name.starts_with("DATABASE_URL") || name == "RUST_BACKTRACE"
    };
    let set: Vec<std::ffi::OsString> = cmd.get_envs().map(|(k, _)| k.to_owned()).collect();
    for name in present {
        if name.to_str().is_some_and(ours) && !set.contains(&name) {
            cmd.env_remove(&name);
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dbio_variable_is_kept_from_a_child_unless_it_sets_it() {
        let mut cmd = Command::new("true");
        cmd.env("DBIO_CONNECTIONS", "3");
        let present = [
            "DBIO_WORKLOAD",
            "DBIO_SLEEP_MS",
            "DATABASE_URL",
            "DBIO_CONNECTIONS",
            "HOME",
            "PATH",
        ]
        .map(std::ffi::OsString::from);
        scrub_from(&mut cmd, present.into_iter());
        let envs: Vec<(String, Option<String>)> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        for removed in ["DBIO_WORKLOAD", "DBIO_SLEEP_MS", "DATABASE_URL"] {
            assert!(
                envs.contains(&(removed.to_owned(), None)),
                "{removed}: {envs:?}"
            );
        }
        assert!(envs.contains(&("DBIO_CONNECTIONS".to_owned(), Some("3".to_owned()))));
        assert!(!envs.iter().any(|(k, _)| k == "HOME" || k == "PATH"));
    }
}

/// The shared test server.
#[derive(Debug)]
pub struct Shared {
    pub server: Server,
    /// The `employees` database with the test dataset.
    pub url: DbUrl,
}

/// The shared server, started and loaded on first use.
pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let home = std::env::var_os("DBIO_TEST_HOME")
            .map_or_else(|| test_dir().join("dbio-test"), PathBuf::from);
        let server = Server::open(home).expect("a home the tests may use");
        server
            .start(&ServerSettings::default(), &no_progress())
            .unwrap_or_else(|e| {
                panic!("cannot start the test server: {}", common::error::chain(&e))
            });
        let url = server.url().expect("test server URL");
        let spec = Spec::new(TEST_SCALE, TEST_SEED).expect("test spec");
        // Test processes that start together wait for one load (its lock).
        dataset::load(&url, spec, false, &no_progress()).unwrap_or_else(|e| {
            panic!("cannot load the test dataset: {}", common::error::chain(&e))
        });
        Shared { server, url }
    })
}

/// A primary with two read replicas (`dbio up --replicas 2`), each with the
/// test dataset, for the tests of runs on several servers.
#[derive(Debug)]
pub struct ReplicaSet {
    pub primary: Server,
    /// The primary's URL, then each replica's, each with its own password.
    pub urls: Vec<DbUrl>,
}

/// The replica set, started on first use beside the shared server
/// (`dbio-test-replicas`; `scripts/test.sh` stops it with the rest).
pub fn replica_set() -> &'static ReplicaSet {
    static SET: OnceLock<ReplicaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let fail = |what: &str, e: dbio::DbioError| -> ! {
            panic!("{what}: {}", common::error::chain(&e))
        };
        let primary =
            Server::open(test_dir().join("dbio-test-replicas")).expect("a home the tests may use");
        let settings = ServerSettings {
            buffer_pool_mib: Some(64),
            role: Some(dbio::server::Role::Primary),
            ..ServerSettings::default()
        };
        primary
            .start(&settings, &no_progress())
            .unwrap_or_else(|e| fail("cannot start the replica set's primary", e));
        primary
            .set_replicas(2, &no_progress())
            .unwrap_or_else(|e| fail("cannot start the replicas", e));
        let url = primary.url().expect("primary URL");
        let spec = Spec::new(TEST_SCALE, TEST_SEED).expect("test spec");
        dataset::load(&url, spec, false, &no_progress())
            .unwrap_or_else(|e| fail("cannot load the replica set's dataset", e));
        primary
            .wait_for_replicas(&no_progress())
            .unwrap_or_else(|e| fail("the replicas did not catch up", e));
        let urls = common::managed::urls(primary.home()).expect("the replica set's URLs");
        assert_eq!(urls.len(), 3, "a primary and two replicas");
        ReplicaSet { primary, urls }
    })
}

/// The password of the users [`create_limited_user`] makes.
pub const LIMITED_PASSWORD: &str = "limit-pw";

/// (Re)creates `user`@127.0.0.1 allowed `limit` connections at once
/// (`MAX_USER_CONNECTIONS`: the server refuses one more with 1226), with
/// read access to the dataset, over `conn`.
pub fn create_limited_user(conn: &mut mysql::Conn, user: &str, limit: usize) {
    for sql in [
        format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"),
        format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{LIMITED_PASSWORD}' WITH MAX_USER_CONNECTIONS {limit}"
        ),
        format!("GRANT SELECT ON employees.* TO '{user}'@'127.0.0.1'"),
    ] {
        conn.query_drop(sql).expect("the limited user");
    }
}

/// [`create_limited_user`] on the [`shared`] server: its URL for `user`.
pub fn limited_on_shared(user: &str, limit: usize) -> DbUrl {
    create_limited_user(&mut admin(&shared().url), user, limit);
    shared().url.with_credentials(user, LIMITED_PASSWORD)
}

/// A user that every server of the [`replica_set`] allows at most `limit`
/// connections: created on the primary, it reaches the replicas through
/// the log. Returns the set's URLs with its credentials.
pub fn limited_everywhere(name: &str, limit: usize) -> Vec<DbUrl> {
    let set = replica_set();
    let user = format!("dbio_{name}{limit}");
    create_limited_user(&mut admin(&set.urls[0]), &user, limit);
    set.primary
        .wait_for_replicas(&no_progress())
        .expect("the account reaches the replicas");
    set.urls
        .iter()
        .map(|u| u.with_credentials(&user, LIMITED_PASSWORD))
        .collect()
}

/// The control that a per-user limit bites on `url`'s server: `limit`
/// logins as its user pass, and one more is refused (1226).
pub fn assert_limit_bites(url: &DbUrl, limit: usize) {
    let opts = mysql::Opts::from_url(&url.expose()).expect("opts");
    let held: Vec<mysql::Conn> = (0..limit)
        .map(|_| mysql::Conn::new(opts.clone()).expect("a login within the limit"))
        .collect();
    match mysql::Conn::new(opts) {
        Ok(_) => panic!(
            "{url}: login {} was let in: the limit does not bite",
            limit + 1
        ),
        Err(e) => assert!(e.to_string().contains("1226"), "{url}: {e}"),
    }
    drop(held);
}

/// A primary and one replica of the test's own (scale 0.01), for tests
/// that stop a server mid-run: the scratch primary (stopped with its
/// replica when dropped), the replica, and both URLs.
pub fn scratch_pair(name: &str) -> (Scratch, Server, Vec<DbUrl>) {
    let settings = ServerSettings {
        buffer_pool_mib: Some(64),
        role: Some(dbio::server::Role::Primary),
        ..ServerSettings::default()
    };
    let scratch = Scratch::start(name, &settings);
    let primary = &scratch.server;
    let fail =
        |what: &str, e: dbio::DbioError| -> ! { panic!("{what}: {}", common::error::chain(&e)) };
    primary
        .set_replicas(1, &no_progress())
        .unwrap_or_else(|e| fail("cannot start the replica", e));
    let spec = Spec::new(TEST_SCALE, TEST_SEED).expect("test spec");
    dataset::load(&primary.url().expect("url"), spec, false, &no_progress())
        .unwrap_or_else(|e| fail("cannot load the dataset", e));
    primary
        .wait_for_replicas(&no_progress())
        .unwrap_or_else(|e| fail("the replica did not catch up", e));
    let replica = primary.replicas().expect("replicas").remove(0);
    let urls = common::managed::urls(primary.home()).expect("urls");
    (scratch, replica, urls)
}

/// The test venv's Python (`scripts/test.sh` installs the drivers there).
pub fn python() -> PathBuf {
    let python = workspace_root().join("target/python-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh (or scripts/bench.sh --python) once to install the Python drivers",
        python.display()
    );
    python
}

/// The blog's five approaches in Python, by script name.
pub const PYTHON_SCRIPTS: [&str; 5] = [
    "test_single",
    "test_mt",
    "test_mt_bounded",
    "test_cft",
    "test_asyncio",
];

/// `scripts/python/<name>.py` on [`python`], with none of dbio's
/// variables from this environment ([`scrub`]).
pub fn python_script(name: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(workspace_root().join(format!("scripts/python/{name}.py")));
    scrub(&mut cmd);
    cmd
}

/// Every approach of the registry as a command, Rust (the release
/// binaries) and Python (the scripts, on [`python`]), each with its name
/// and none of dbio's variables from this environment: settings go in the
/// environment, which both languages read.
pub fn every_approach_command() -> Vec<(&'static str, Command)> {
    common::registry::APPROACHES
        .iter()
        .map(|a| {
            let mut cmd = match a.script() {
                Some(script) => {
                    let mut cmd = Command::new(python());
                    cmd.arg(workspace_root().join("scripts/python").join(script));
                    cmd
                }
                None => Command::new(release_dir().join(a.name)),
            };
            scrub(&mut cmd);
            (a.name, cmd)
        })
        .collect()
}

/// A checked run configuration on every server of `urls`, `budget`
/// connections each.
pub fn run_config_on(urls: &[DbUrl], budget: usize) -> RunConfig {
    let mut cfg = run_config(&urls[0], budget);
    cfg.conn.servers = urls.to_vec();
    cfg
}

/// A checked run configuration for `url` with `budget` connections.
pub fn run_config(url: &DbUrl, budget: usize) -> RunConfig {
    RunConfig {
        conn: ConnConfig::one(url.clone(), budget, Duration::from_secs(10)),
        work: common::workload::Work::report(
            common::queries::load(None)
                .expect("built-in queries")
                .queries,
        ),
    }
}

/// The query list of `workload` on the test dataset: `count` point lookups
/// (keys from the loaded range) or sleeps of `ms`, or the report.
pub fn workload_queries(
    workload: common::workload::Workload,
    count: u32,
    ms: u32,
) -> common::workload::Work {
    use common::workload::{self, Work, Workload};
    match workload {
        Workload::Report => Work::report(
            common::queries::load(None)
                .expect("built-in queries")
                .queries,
        ),
        Workload::Sleep => workload::sleep(count, ms),
        Workload::Point => {
            let (lo, hi): (u64, u64) = admin(&shared().url)
                .query_first(workload::KEY_RANGE)
                .expect("key range")
                .expect("a row");
            workload::point(count, lo, hi)
        }
    }
}

/// An open loop of sleeps of `ms`: `requests` requests of `fanout` at
/// `rate` a second, Poisson arrivals from the default seed.
pub fn open_sleeps(rate: f64, requests: u32, fanout: u32, ms: u32) -> common::workload::Work {
    use common::workload::{Plan, Workload, WorkloadArgs};
    let args = WorkloadArgs {
        workload: Workload::Sleep,
        count: None,
        sleep_ms: Some(ms),
        queries: None,
        allow_writes: false,
        arrivals: vec![rate],
        requests: Some(requests),
        arrival_process: Some(common::arrivals::Process::Poisson),
        arrival_seed: None,
        fanout: Some(fanout),
        drain_timeout: None,
    };
    match args.validate().expect("open loop") {
        Plan::Ready(work) => work,
        other => panic!("sleeps need no key range: {other:?}"),
    }
}

/// An administrative connection (the dbio user) to `url`'s server.
pub fn admin(url: &DbUrl) -> mysql::Conn {
    let opts = mysql::Opts::from_url(&url.expose()).expect("valid URL");
    mysql::Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false))
        .expect("admin connection")
}

/// Polls `check` every 20 ms until it returns `Some`, or panics at `deadline`.
pub fn poll<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Queries whose text is like `pattern` running on `url`'s server now
/// (from its process list, this connection's own left out).
pub fn running_like(url: &DbUrl, pattern: &str) -> usize {
    admin(url)
        .exec_first::<usize, _, _>(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE ?",
            (pattern,),
        )
        .expect("process list")
        .unwrap_or(0)
}

/// Polls until `url`'s server runs a query like `pattern`: a run has
/// reached it (tests never sleep for a server).
pub fn poll_running_on(url: &DbUrl, pattern: &str) {
    poll(
        "a query of the run on the server",
        Duration::from_secs(30),
        || (running_like(url, pattern) > 0).then_some(()),
    );
}

/// Polls until no server of `admin_urls` (URLs of an account that sees
/// every connection) holds a connection of `user`: a run's connections
/// close on the server a moment after the run, and under a per-user
/// limit the next run would be refused meanwhile.
pub fn poll_closed(admin_urls: &[DbUrl], user: &str) {
    let mut conns: Vec<mysql::Conn> = admin_urls.iter().map(admin).collect();
    poll(
        "the previous run's connections to close",
        Duration::from_secs(20),
        || {
            conns
                .iter_mut()
                .all(|c| connections_of(c, user) == 0)
                .then_some(())
        },
    );
}

/// Connections the server holds for `user` right now (from its process list).
pub fn connections_of(conn: &mut mysql::Conn, user: &str) -> usize {
    conn.exec_first::<usize, _, _>(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?",
        (user,),
    )
    .expect("process list")
    .unwrap_or(0)
}

/// Tests that check a deadline of about a second (the exit on SIGINT and
/// SIGTERM) run alone within their test process: they hold this
/// exclusively, and every other fault test holds it shared ([`alongside`]).
/// Those tests cancel `SLEEP()` queries, and MariaDB can stall a `KILL` of
/// one for 2 s when another thread holds the server-wide sleep mutex at
/// that moment (see `common::interrupt`): the other fault tests' `SLEEP()`
/// queries, starting or ending beside it, must not be that thread. A
/// scratch server's bootstrap on a 2-core machine is kept out of the
/// deadline too.
static DEADLINES: RwLock<()> = RwLock::new(());

/// See [`DEADLINES`]: for a test that checks a ~1 s deadline.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    DEADLINES.write().unwrap_or_else(PoisonError::into_inner)
}

/// See [`DEADLINES`]: for every other test of a process that has some.
pub fn alongside() -> RwLockReadGuard<'static, ()> {
    DEADLINES.read().unwrap_or_else(PoisonError::into_inner)
}

/// A server of a test's own in `<test_dir>/dbio-scratch/<name>-<pid>`, stopped
/// on drop and removed unless the test failed. No dataset is loaded.
#[derive(Debug)]
pub struct Scratch {
    pub server: Server,
}

impl Scratch {
    pub fn start(name: &str, settings: &ServerSettings) -> Scratch {
        let home = test_dir()
            .join("dbio-scratch")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let server = Server::open(home).expect("a home the tests may use");
        server.start(settings, &no_progress()).unwrap_or_else(|e| {
            panic!("cannot start scratch server: {}", common::error::chain(&e))
        });
        Scratch { server }
    }

    /// The URL of a database on this server (created if missing).
    pub fn url(&self, database: &str) -> DbUrl {
        let url = self.server.url().expect("scratch URL");
        let mut conn = admin(&url.with_database(""));
        conn.query_drop(format!("CREATE DATABASE IF NOT EXISTS `{database}`"))
            .expect("create database");
        url.with_database(database)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.server.stop_all(&no_progress());
        if std::thread::panicking() {
            // Kept for the post-mortem: the error log says what the server saw.
            eprintln!("kept {} for inspection", self.server.home().display());
        } else {
            let _ = std::fs::remove_dir_all(self.server.home());
        }
    }
}

/// Reaps `pid` if it has ended: its exit code (`None` when a signal ended
/// it) and its peak resident memory in KiB, from `wait4`.
pub fn wait4_nohang(pid: libc::pid_t) -> Option<(Option<i32>, i64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; the zeroed value is
    // a valid one.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: status and usage are valid for writes for the call.
    #[allow(unsafe_code)]
    let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
    if reaped != pid {
        return None;
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Some((code, usage.ru_maxrss))
}
