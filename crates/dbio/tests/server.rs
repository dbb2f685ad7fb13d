//! The managed server's life cycle, on servers of the tests' own.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbio::server::Settled;
use dbio::{Server, ServerSettings, no_progress};
use mysql::prelude::Queryable;
use testkit::{Scratch, admin};

#[test]
fn start_stop_restart_and_recover_from_a_crash() {
    let settings = ServerSettings {
        optimizer_switch: Some("split_materialized=off".into()),
        buffer_pool_mib: Some(64),
        server_cpus: None,
        role: None,
    };
    let scratch = Scratch::start("lifecycle", &settings);
    let server = &scratch.server;
    let status = server.status();
    assert!(status.running);
    assert!(status.version.as_deref().is_some_and(|v| !v.is_empty()));
    assert!(switch_off(&status), "{status:?}");
    assert_eq!(status.buffer_pool_bytes, Some(64 << 20));
    let mode = std::fs::metadata(server.home().join("password"))
        .expect("password")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Starting a running server is a no-op.
    assert!(
        !server
            .start(&ServerSettings::default(), &no_progress())
            .expect("start")
    );
    let url = scratch.url("keep");
    admin(&url)
        .query_drop("CREATE TABLE kept (x INT)")
        .expect("create");
    let port = status.port;
    // Below the kernel's ephemeral range: no outgoing connection's port
    // can take it while the server is down (issue 27, item 8).
    let ephemeral: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("the ephemeral range")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("its start");
    assert!(
        port.is_some_and(|p| p < ephemeral),
        "port {port:?}, the ephemeral range starts at {ephemeral}"
    );

    assert!(server.stop(&no_progress()).expect("stop"));
    assert!(!server.status().running);
    assert!(!server.stop(&no_progress()).expect("second stop is a no-op"));
    assert!(server.url().is_ok(), "the URL survives a stop");

    assert!(
        server
            .start(&ServerSettings::default(), &no_progress())
            .expect("restart")
    );
    let status = server.status();
    assert_eq!(status.port, port, "a restart keeps its free port");
    assert!(
        switch_off(&status),
        "settings persist across restarts: {status:?}"
    );
    let tables: Vec<String> = admin(&url).query("SHOW TABLES").expect("tables");
    assert_eq!(tables, ["kept"]);

    // A crash leaves a pid file and a socket behind; the next start copes.
    // It may come while the killed server still holds its port and files
    // (its command line is gone before they are closed): start waits.
    let pid = status.pid.expect("pid");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    testkit::poll("the server to die", Duration::from_secs(30), || {
        (!Path::new(&format!("/proc/{pid}/cmdline")).exists()
            || std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.is_empty()))
        .then_some(())
    });
    assert!(
        server.home().join("run/mysqld.pid").exists(),
        "the crash left its pid file"
    );
    assert!(
        server
            .start(&ServerSettings::default(), &no_progress())
            .expect("start after a crash")
    );
    assert_eq!(
        server.status().port,
        port,
        "a crash does not move the server"
    );
    let tables: Vec<String> = admin(&url).query("SHOW TABLES").expect("tables");
    assert_eq!(tables, ["kept"]);
}

#[test]
fn optimizer_switch_can_be_changed_on_a_running_server() {
    let scratch = Scratch::start("switch", &ServerSettings::default());
    let default = scratch.server.status().optimizer_switch.expect("switch");
    let changed = ServerSettings {
        optimizer_switch: Some("derived_merge=off".into()),
        buffer_pool_mib: None,
        ..ServerSettings::default()
    };
    assert!(
        !scratch
            .server
            .start(&changed, &no_progress())
            .expect("start")
    );
    let now = scratch.server.status().optimizer_switch.expect("switch");
    assert_ne!(default, now);
    assert!(now.contains("derived_merge=off"), "{now}");
    // `default` returns to the server's own, now and after a restart.
    let reset = ServerSettings {
        optimizer_switch: Some("default".into()),
        buffer_pool_mib: None,
        ..ServerSettings::default()
    };
    assert!(!scratch.server.start(&reset, &no_progress()).expect("start"));
    assert_eq!(
        scratch.server.status().optimizer_switch.as_deref(),
        Some(default.as_str())
    );
    scratch.server.stop(&no_progress()).expect("stop");
    scratch
        .server
        .start(&ServerSettings::default(), &no_progress())
        .expect("restart");
    assert_eq!(
        scratch.server.status().optimizer_switch.as_deref(),
        Some(default.as_str())
    );
}

/// A starting server deletes every `#sql*` file in its tmpdir. With the shared
/// `/tmp` that wiped the temporary tables of another server initialising at
/// the same moment (parallel tests failed with "Unknown table
/// 'mysql.tmp_user_sys'"), so each server has a tmpdir of its own.
#[test]
fn a_starting_server_leaves_the_shared_tmpdir_alone() {
    let guard = std::env::temp_dir().join(format!("#sql-dbio-guard-{}", std::process::id()));
    std::fs::write(&guard, b"another server's temporary table").expect("guard file");
    let scratch = Scratch::start("tmpdir", &ServerSettings::default());
    assert!(scratch.server.status().running);
    let survived = guard.exists();
    let _ = std::fs::remove_file(&guard);
    assert!(survived, "starting a server deleted {}", guard.display());
}

#[test]
fn a_rejected_optimizer_switch_is_not_saved() {
    let scratch = Scratch::start("badswitch", &ServerSettings::default());
    let server = &scratch.server;
    let typo = ServerSettings {
        optimizer_switch: Some("split_materialised=off".into()),
        buffer_pool_mib: None,
        ..ServerSettings::default()
    };
    let err = server.start(&typo, &no_progress()).expect_err("a typo");
    let text = model::error::chain(&err);
    assert!(text.contains("split_materialised"), "{text}");
    assert_eq!(server.settings().expect("settings").optimizer_switch, None);
    // Neither on a stopped server: it starts with its saved settings, then
    // refuses the switch, and the next plain start works.
    server.stop(&no_progress()).expect("stop");
    assert!(server.start(&typo, &no_progress()).is_err());
    assert_eq!(server.settings().expect("settings").optimizer_switch, None);
    server.stop(&no_progress()).expect("stop");
    assert!(
        server
            .start(&ServerSettings::default(), &no_progress())
            .expect("a later start is not blocked")
    );
    // A refused switch never replaces one saved before: on a running
    // server, and on a stopped one (which starts with the saved one).
    let off = ServerSettings {
        optimizer_switch: Some("split_materialized=off".into()),
        ..ServerSettings::default()
    };
    server.start(&off, &no_progress()).expect("a real switch");
    let saved = || server.settings().expect("settings").optimizer_switch;
    assert_eq!(saved().as_deref(), Some("split_materialized=off"));
    let bogus = ServerSettings {
        optimizer_switch: Some("bogus=on".into()),
        ..ServerSettings::default()
    };
    assert!(server.start(&bogus, &no_progress()).is_err());
    assert_eq!(saved().as_deref(), Some("split_materialized=off"));
    server.stop(&no_progress()).expect("stop");
    assert!(server.start(&bogus, &no_progress()).is_err());
    assert_eq!(saved().as_deref(), Some("split_materialized=off"));
    assert!(
        switch_off(&server.status()),
        "the server runs the saved switch"
    );
}

/// The hostile pass's first finding: the initialiser's root accounts at
/// 127.0.0.1, ::1 and the host name had no password, and the server ran as
/// OS root with `secure_file_priv` empty, so any local user could write
/// root-owned files anywhere.
#[test]
fn no_account_without_a_password_and_the_server_is_not_root() {
    let scratch = Scratch::start("secure", &ServerSettings::default());
    let server = &scratch.server;
    let status = server.status();
    let port = status.port.expect("port");
    let mut conn = server.admin_conn().expect("admin");
    assert_eq!(
        dbio::server::open_accounts(&mut conn).expect("accounts"),
        Vec::<String>::new()
    );
    let accounts: Vec<(String, String)> = conn
        .query("SELECT User, Host FROM mysql.user ORDER BY User, Host")
        .expect("accounts");
    assert!(
        accounts
            .iter()
            .all(|(u, h)| u != "root" || h == "localhost"),
        "{accounts:?}"
    );
    let files: String = conn
        .query_first("SELECT @@secure_file_priv")
        .expect("query")
        .expect("a value");
    assert!(
        Path::new(&files).starts_with(server.home()),
        "secure_file_priv {files} is outside the home"
    );
    let outside = std::env::temp_dir().join(format!("dbio-outfile-{}", std::process::id()));
    let denied = conn.query_drop(format!("SELECT 'x' INTO OUTFILE '{}'", outside.display()));
    assert!(denied.is_err() && !outside.exists(), "{denied:?}");

    let uid = process_uid(status.pid.expect("pid"));
    assert_ne!(uid, 0, "the server runs as root");
    assert_root_is_closed(server.home(), port);
}

/// Killed while its first start secured the accounts, `dbio server start`
/// left a server whose root had no password; the next start said "already
/// running" and then "no managed server" forever.
#[test]
fn an_interrupted_first_start_is_closed_and_started_over() {
    let home = scratch_home("interrupted");
    let mut dbio = Command::new(env!("CARGO_BIN_EXE_dbio"))
        .args(["--home", &home.display().to_string(), "server", "start"])
        .env_remove("DBIO_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbio");
    let stderr = BufReader::new(dbio.stderr.take().expect("stderr"));
    let mut said = Vec::new();
    for line in stderr.lines() {
        let line = line.expect("stderr");
        said.push(line.clone());
        if line.contains("securing the accounts") {
            break;
        }
    }
    // dbio dies here, at the worst moment: the new server runs, root has no
    // password yet.
    dbio.kill().expect("kill dbio");
    let _ = dbio.wait();
    assert!(
        said.iter().any(|l| l.contains("securing the accounts")),
        "{said:?}"
    );
    let guard = StopOnDrop(Server::open(&home).expect("home"));
    let server = &guard.0;
    let pid = server.running_pid().expect("the half-started server runs");
    let port = model::managed::ServerState::read(&home)
        .expect("state")
        .map(|s| s.port);
    assert!(
        port.is_none(),
        "no URL is published before the accounts are secured"
    );
    assert_ne!(process_uid(pid), 0);
    // Not on the network, and its socket is out of other users' reach.
    assert!(
        tcp_ports_of(pid).is_empty(),
        "the bootstrap server listens on TCP"
    );
    assert_socket_closed_to_others(&home);

    assert!(
        server
            .start(&ServerSettings::default(), &no_progress())
            .expect("the next start recovers")
    );
    let mut conn = server.admin_conn().expect("admin");
    assert!(
        dbio::server::open_accounts(&mut conn)
            .expect("accounts")
            .is_empty()
    );
    let port = server.status().port.expect("port");
    assert_root_is_closed(&home, port);
}

/// Stops the server when the test ends, and removes its home if it passed.
struct StopOnDrop(Server);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.stop(&no_progress());
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(self.0.home());
        }
    }
}

fn scratch_home(name: &str) -> PathBuf {
    let home = testkit::test_dir()
        .join("dbio-scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    home
}

/// The real uid of a process, from /proc.
fn process_uid(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .expect("uid")
}

/// TCP ports the process listens on (its network namespace's listeners that
/// it holds open), from /proc.
fn tcp_ports_of(pid: u32) -> Vec<u16> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter_map(|l| {
                    l.to_str()
                        .and_then(|s| s.strip_prefix("socket:["))
                        .map(|s| s.trim_end_matches(']').to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    ["tcp", "tcp6"]
        .iter()
        .flat_map(|t| {
            std::fs::read_to_string(format!("/proc/{pid}/net/{t}"))
                .unwrap_or_default()
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let listening = f.get(3) == Some(&"0A");
                    let ours = f.get(9).is_some_and(|i| inodes.contains(*i));
                    let port = f.get(1)?.rsplit(':').next()?;
                    (listening && ours).then(|| u16::from_str_radix(port, 16).ok())?
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Root has no way in without the password: not over TCP, and (checked as
/// another OS user where the test runs as root) not over the socket.
fn assert_root_is_closed(home: &Path, port: u16) {
    let tcp = mysql::OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .tcp_port(port)
        .prefer_socket(false)
        .user(Some("root"));
    let err = mysql::Conn::new(tcp).expect_err("root without a password over TCP");
    assert!(
        matches!(&err, mysql::Error::MySqlError(e) if e.code == 1045),
        "{err:?}"
    );
    assert_socket_closed_to_others(home);
}

/// Another OS user cannot even reach the socket. As root the test runs the
/// client as `nobody`; otherwise it checks the socket directory's mode.
fn assert_socket_closed_to_others(home: &Path) {
    let run = home.join("run");
    let mode = std::fs::metadata(&run)
        .expect("run dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the socket's directory is open to others");
    if !testkit::hostile::can_attack("the socket tried as nobody") {
        return;
    }
    let socket = run.join("mysqld.sock");
    let out = Command::new("mariadb")
        .args([
            "-uroot",
            "-S",
            &socket.display().to_string(),
            "-e",
            "SELECT 1",
        ])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run the mariadb client as nobody");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "nobody connected as root: {text}");
    assert!(
        text.contains("(13)") || text.contains("ermission"),
        "{text}"
    );
}

/// Whether the server reports the lifecycle test's `split_materialized=off`.
fn switch_off(status: &dbio::server::Status) -> bool {
    status
        .optimizer_switch
        .as_deref()
        .is_some_and(|s| s.contains("split_materialized=off"))
}

/// A client killed with SIGKILL cannot cancel its queries: `settle` waits
/// for them, then kills the ones still running, so the next timed run has
/// the server to itself.
#[test]
fn settle_waits_for_leftover_queries_then_kills_them() {
    let scratch = Scratch::start("settle", &ServerSettings::default());
    let server = &scratch.server;
    let url = scratch.url("settle");
    assert_eq!(
        server
            .settle(Duration::from_secs(1), &no_progress())
            .expect("settle"),
        Settled::default()
    );
    let started = |secs: f64| {
        let mine = url.clone();
        let query = std::thread::spawn(move || {
            admin(&mine).query_first::<u8, _>(format!("SELECT SLEEP({secs})"))
        });
        testkit::poll("the query to start", Duration::from_secs(10), || {
            let mut conn = admin(&url);
            let n: Option<u64> = conn
                .query_first(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(%'",
                )
                .expect("process list");
            (n > Some(0)).then_some(())
        });
        query
    };
    // One that ends by itself within the wait: 3 s, so that it still runs
    // when settle connects on a busy machine (0.5 s left too narrow a window).
    let short = started(3.0);
    let outcome = server
        .settle(Duration::from_secs(10), &no_progress())
        .expect("settle");
    assert_eq!((outcome.found, outcome.killed), (1, 0));
    assert_eq!(short.join().expect("thread").expect("query"), Some(0));
    // One that does not.
    let long = started(60.0);
    let t0 = Instant::now();
    let outcome = server
        .settle(Duration::from_millis(500), &no_progress())
        .expect("settle");
    assert_eq!((outcome.found, outcome.killed), (1, 1));
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let killed = long.join().expect("thread").expect_err("killed");
    assert!(
        matches!(&killed, mysql::Error::MySqlError(e) if e.code == 1317),
        "{killed:?}"
    );
    assert_eq!(
        server
            .settle(Duration::from_secs(1), &no_progress())
            .expect("settle"),
        Settled::default()
    );
}

/// `--server-cpus`: a big machine can play a small server. The server's
/// every thread is pinned (read from /proc), across a restart, and a count
/// above the machine's CPUs is refused.
#[test]
fn server_cpus_pins_every_thread_and_survives_a_restart() {
    let one = ServerSettings {
        server_cpus: Some(1),
        ..ServerSettings::default()
    };
    let scratch = Scratch::start("cpus", &one);
    let server = &scratch.server;
    let pinned = |pid: u32| -> Vec<String> {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .expect("tasks")
            .flatten()
            .filter_map(|t| dbio::server::cpus_of_task(pid, &t.file_name().to_string_lossy()))
            .collect()
    };
    let check = |what: &str| {
        let status = server.status();
        let pid = status.pid.expect("running");
        let cpus = status.cpus.expect("cpus");
        assert!(!cpus.contains(['-', ',']), "{what}: {cpus}");
        let threads = pinned(pid);
        assert!(threads.len() > 3, "{what}: {threads:?}");
        assert!(threads.iter().all(|c| *c == cpus), "{what}: {threads:?}");
    };
    check("first start");
    server.stop(&no_progress()).expect("stop");
    server
        .start(&ServerSettings::default(), &no_progress())
        .expect("restart");
    check("after a restart");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let too_many = ServerSettings {
        server_cpus: Some(cores + 1),
        ..ServerSettings::default()
    };
    let err = server
        .start(&too_many, &no_progress())
        .expect_err("too many");
    assert!(
        model::error::chain(&err).contains(&format!("use {cores} CPUs")),
        "{}",
        model::error::chain(&err)
    );
    // 0 is refused on the command line (`all` unpins).
    let out = Command::new(env!("CARGO_BIN_EXE_dbio"))
        .args([
            "--home",
            &server.home().display().to_string(),
            "server",
            "start",
            "--server-cpus",
            "0",
        ])
        .output()
        .expect("dbio");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
    if cores == 1 {
        testkit::hostile::skipped("unpinning: one CPU here, so pinned and unpinned are the same");
    }
    if cores > 1 {
        let all = ServerSettings {
            server_cpus: Some(0),
            ..ServerSettings::default()
        };
        server.start(&all, &no_progress()).expect("unpin");
        let cpus = server.status().cpus.expect("cpus");
        assert!(cpus.contains(['-', ',']), "unpinned: {cpus}");
        // "all" is every CPU of the machine, also for a dbio that runs
        // pinned itself (taskset), on a running server and at a start.
        let online = std::fs::read_to_string("/sys/devices/system/cpu/online").expect("online");
        let home = server.home().display().to_string();
        for stopped in [false, true] {
            if stopped {
                server.stop(&no_progress()).expect("stop");
            }
            let out = Command::new("taskset")
                .args(["-c", "1", env!("CARGO_BIN_EXE_dbio"), "--home", &home])
                .args(["server", "start", "--server-cpus", "all"])
                .output()
                .expect("taskset dbio");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let cpus = server.status().cpus.expect("cpus");
            assert_eq!(cpus, online.trim(), "stopped before: {stopped}");
        }
    }
}
