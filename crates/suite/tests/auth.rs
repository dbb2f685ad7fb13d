//! Logins by auth plugin, against the shared test server: an account on
//! MariaDB's `ed25519` plugin. The `mysql` crate speaks it (built with
//! `client_ed25519`; without it, it panicked in its handshake and the run
//! ended in a misleading timeout); dbio's `wire` client and sqlx do not, and
//! each refuses in one line that names the plugin. No binary panics, hangs
//! or prints the account's password.

use std::path::Path;

use common::Report;
use testkit::faults::{assert_clean_failure, run};
use testkit::{admin, release_dir, shared};

const USER: &str = "dbio_ed25519";
const PASSWORD: &str = "ed25519-test-password";

/// The shared server's URL, logged in as an `ed25519` account made for it.
fn ed25519_account() -> common::DbUrl {
    use mysql::prelude::Queryable;
    let url = &shared().url;
    let mut conn = admin(url);
    let installed: Option<String> = conn
        .query_first(
            "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'",
        )
        .expect("read the plugin list");
    if installed.is_none() {
        conn.query_drop("INSTALL SONAME 'auth_ed25519'")
            .expect("install auth_ed25519 (shipped with mariadb-server)");
    }
    for sql in [
        format!(
            "CREATE OR REPLACE USER '{USER}'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('{PASSWORD}')"
        ),
        format!("GRANT SELECT ON employees.* TO '{USER}'@'127.0.0.1'"),
    ] {
        conn.query_drop(sql).expect("create the ed25519 account");
    }
    url.with_credentials(USER, PASSWORD)
}

/// Runs `bin` on the `ed25519` account, once more (at most twice) when the
/// server refused the login (1045) and for no other failure: the `mysql`
/// crate (mysql_common 0.37, `AuthSwitchRequest::plugin_data`) drops a
/// trailing zero byte from the switch request's data, which is right for
/// `mysql_native_password`'s NUL-terminated scramble and wrong for MariaDB's
/// 32 random bytes of `ed25519` nonce: one login in 256 signs 31 bytes and is
/// refused. Found in a CI rehearsal; the upstream bug stays, the login works.
fn logged_in(bin: &Path, args: &[String]) -> testkit::faults::Outcome {
    let mut out = run(bin, args);
    for _ in 0..2 {
        if out.code == Some(0) || !out.stderr.contains("1045") {
            break;
        }
        out = run(bin, args);
    }
    out
}

fn args(url: &common::DbUrl, driver: &str, json: bool) -> Vec<String> {
    let mut args = vec![
        "--database-url".to_owned(),
        url.expose(),
        "--connect-timeout".into(),
        "5".into(),
        "--blocking-driver".into(),
        driver.into(),
    ];
    if json {
        args.push("--json".into());
    }
    args
}

#[test]
fn each_driver_logs_in_with_ed25519_or_refuses_in_one_line() {
    let url = ed25519_account();
    let release = release_dir();
    let bin = |name: &str| release.join(name);
    let refuses = |bin: &Path, driver: &str, needles: &[&str]| {
        let out = run(bin, &args(&url, driver, false));
        assert_clean_failure(&out, needles);
        assert!(!out.stderr.contains(PASSWORD), "{out:#?}");
    };
    for name in [
        "test_single",
        "test_mt",
        "test_mt_bounded",
        "test_threadpool",
    ] {
        let out = logged_in(&bin(name), &args(&url, "mysql", true));
        assert_eq!(out.code, Some(0), "{name} on the mysql crate: {out:#?}");
        let report: Report = serde_json::from_str(&out.stdout).expect("a report");
        assert_eq!(report.driver, "mysql");
        assert!(!report.queries.is_empty(), "{name}: {report:?}");
        refuses(
            &bin(name),
            "wire",
            &["client_ed25519", "mysql_native_password only"],
        );
    }
    for name in ["test_asyncio", "test_async_std"] {
        refuses(&bin(name), "mysql", &["client_ed25519"]);
    }
}
