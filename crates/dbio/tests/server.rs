//! The managed server's life cycle, on servers of the tests' own.

use std::os::unix::fs::PermissionsExt;

use dbio::{ServerSettings, no_progress};
use mysql::prelude::Queryable;
use testkit::{Scratch, admin};

#[test]
fn start_stop_restart_and_recover_from_a_crash() {
    let settings = ServerSettings {
        optimizer_switch: Some("split_materialized=off".into()),
        buffer_pool_mib: Some(64),
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
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    testkit::poll(
        "the server to die",
        std::time::Duration::from_secs(30),
        || {
            (!std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.is_empty()))
            .then_some(())
        },
    );
    assert!(
        server.home().join("mysqld.pid").exists(),
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

/// Whether the server reports the lifecycle test's `split_materialized=off`.
fn switch_off(status: &dbio::server::Status) -> bool {
    status
        .optimizer_switch
        .as_deref()
        .is_some_and(|s| s.contains("split_materialized=off"))
}
