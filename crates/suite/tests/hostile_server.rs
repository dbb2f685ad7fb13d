//! A malicious server (`testkit::evil`): every Rust approach on every
//! driver, and `dbio verify`, ends with one `error:` line within a
//! deadline, whatever the server sends, and its memory stays bounded where
//! the driver can be bounded.

use std::process::Command;
use std::time::{Duration, Instant};

use testkit::evil::{Attack, EvilServer};

/// How long a run against the evil server may take.
const DEADLINE: Duration = Duration::from_secs(30);

/// What a finished child did: exit code, stderr, peak resident memory.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stderr: String,
    peak_kib: i64,
    took: Duration,
}

/// Runs `cmd` to its end (killed at [`DEADLINE`]) and reads its peak
/// resident memory from the kernel's account of it (`wait4`).
fn run(mut cmd: Command) -> Ran {
    let stderr_path = std::env::temp_dir().join(format!(
        "dbio-evil-{}-{:?}.err",
        std::process::id(),
        std::thread::current().id()
    ));
    let err_file = std::fs::File::create(&stderr_path).expect("stderr file");
    cmd.stdout(std::process::Stdio::null())
        .stderr(err_file)
        .stdin(std::process::Stdio::null());
    let started = Instant::now();
    // Reaped by `wait4` below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let (status, usage) = loop {
        if let Some(done) = testkit::wait4_nohang(pid) {
            break done;
        }
        if started.elapsed() > DEADLINE {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr_path);
    Ran {
        code: status,
        stderr,
        peak_kib: usage,
        took,
    }
}

fn approach(name: &str, url: &str, driver: Option<&str>) -> Command {
    let mut cmd = Command::new(testkit::release_dir().join(name));
    testkit::scrub(&mut cmd);
    cmd.env("DATABASE_URL", url)
        .args(["--workload", "sleep", "--count", "3", "--sleep-ms", "10"])
        .args(["--connections", "2", "--connect-timeout", "3"]);
    if let Some(driver) = driver {
        cmd.env("DBIO_BLOCKING_DRIVER", driver);
    }
    cmd
}

/// Whether the driver itself bounds what `attack` makes it allocate: `wire`
/// always (its packet limit and column cap), the `mysql` crate by its
/// `max_allowed_packet` except against endless column definitions, which
/// it keeps; sqlx never. The others are bounded by `--max-memory`.
fn driver_bounds(attack: Attack, driver: &str) -> bool {
    match driver {
        "wire" => true,
        "mysql" => attack != Attack::ManyColumns,
        _ => matches!(attack, Attack::HugeValue | Attack::OverflowingCount),
    }
}

/// D1 and D2 of the third hostile pass: endless continuation packets (also
/// in place of the greeting), a value announcing 2^62 bytes, 2^24 columns
/// defined forever, a column count of 2^64 - 1. Every approach on every
/// driver, and `dbio verify`, ends with exit 1 and one `error:` line
/// within the deadline; its peak memory stays under 512 MiB where the
/// driver bounds it (`--max-memory 0`: no watchdog), and under 1 GiB
/// where only `--max-memory 256` does.
#[test]
fn a_hostile_server_ends_every_client_with_one_line_and_bounded_memory() {
    let mut failures = Vec::new();
    for attack in Attack::ALL {
        let server = EvilServer::start(attack, "SLEEP(");
        let mut runs: Vec<(String, Command, bool)> = Vec::new();
        let blocking = [
            "test_single",
            "test_mt",
            "test_mt_bounded",
            "test_threadpool",
        ];
        for name in blocking {
            for driver in ["mysql", "wire"] {
                runs.push((
                    format!("{name} ({driver})"),
                    approach(name, &server.url(), Some(driver)),
                    driver_bounds(attack, driver),
                ));
            }
        }
        for name in ["test_asyncio", "test_async_std"] {
            runs.push((
                name.to_owned(),
                approach(name, &server.url(), None),
                driver_bounds(attack, "sqlx"),
            ));
        }
        for (label, mut cmd, bounded) in runs {
            cmd.args(["--max-memory", if bounded { "0" } else { "256" }]);
            let ran = run(cmd);
            let limit_mib = if bounded { 512 } else { 1024 };
            eprintln!(
                "{attack:?} {label}: exit {:?} in {:.1} s, peak {} MiB: {}",
                ran.code,
                ran.took.as_secs_f64(),
                ran.peak_kib / 1024,
                ran.stderr.trim_end()
            );
            if let Some(why) = judge(&ran, limit_mib) {
                failures.push(format!("{attack:?} {label}: {why}"));
            }
        }
        // dbio verify asks the server its own queries: every one is attacked.
        let verify_server = EvilServer::start(attack, "");
        let mut verify = Command::new(testkit::release_dir().join("dbio"));
        testkit::scrub(&mut verify);
        verify
            .arg("verify")
            .env("DATABASE_URL", verify_server.url())
            .env("DBIO_MAX_MEMORY", "256");
        let ran = run(verify);
        eprintln!(
            "{attack:?} dbio verify: exit {:?} in {:.1} s, peak {} MiB: {}",
            ran.code,
            ran.took.as_secs_f64(),
            ran.peak_kib / 1024,
            ran.stderr.trim_end()
        );
        // dbio's own connections are the mysql crate's: bounded by the
        // watchdog alone against endless column definitions.
        let limit_mib = if driver_bounds(attack, "mysql") {
            512
        } else {
            1024
        };
        if let Some(why) = judge(&ran, limit_mib) {
            failures.push(format!("{attack:?} dbio verify: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with a run against the evil server, if anything.
fn judge(ran: &Ran, limit_mib: i64) -> Option<String> {
    let lines: Vec<&str> = ran.stderr.lines().collect();
    if ran.took >= DEADLINE {
        return Some(format!("still ran after {DEADLINE:?}"));
    }
    if ran.code != Some(1) {
        return Some(format!("exit {:?}: {}", ran.code, ran.stderr));
    }
    if lines.len() != 1 || !lines[0].starts_with("error: ") {
        return Some(format!("not one error line: {}", ran.stderr));
    }
    if ran.stderr.contains("secret") {
        return Some(format!("the password shown: {}", ran.stderr));
    }
    if ran.peak_kib / 1024 > limit_mib {
        return Some(format!(
            "peak {} MiB over {limit_mib} MiB: {}",
            ran.peak_kib / 1024,
            ran.stderr
        ));
    }
    None
}

/// Minor 9 of the third hostile pass: a bracketed IPv6 literal reaches the
/// server on every driver (sqlx looked the brackets up as a host name).
/// The server answers the query with a malformed row, so a query error,
/// not a connect error, shows the login went through.
#[test]
fn an_ipv6_literal_reaches_the_server_on_every_driver() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: nothing shown");
        return;
    }
    let server = EvilServer::start_on("[::1]:0", Attack::HugeValue, "SLEEP(");
    assert!(server.url().contains("@[::1]:"), "{}", server.url());
    let mut runs = Vec::new();
    for driver in ["mysql", "wire"] {
        runs.push((
            format!("test_single ({driver})"),
            approach("test_single", &server.url(), Some(driver)),
        ));
    }
    for name in ["test_asyncio", "test_async_std"] {
        runs.push((name.to_owned(), approach(name, &server.url(), None)));
    }
    for (label, cmd) in runs {
        let ran = run(cmd);
        assert_eq!(ran.code, Some(1), "{label}: {}", ran.stderr);
        assert!(
            ran.stderr.starts_with("error: query ") && !ran.stderr.contains("cannot connect"),
            "{label}: {}",
            ran.stderr
        );
    }
}
