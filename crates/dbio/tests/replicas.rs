//! Read replicas on MariaDB's own replication (`dbio up --replicas N`), on
//! servers of the tests' own at scale 0.01.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use dbio::ServerSettings;
use dbio::server::Role;
use mysql::prelude::Queryable;
use testkit::{Scratch, admin};

fn dbio(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbio"));
    cmd.arg("--home").arg(home).args(args).stdin(Stdio::null());
    testkit::scrub(&mut cmd);
    cmd.output().expect("dbio")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Three servers after `up --replicas 2`: both replicas replicate with no
/// lag and applied all the primary logged, hold the same checksums, keep
/// their own passwords and refuse writes; `server stop` stops all three.
#[test]
fn replicas_apply_the_load_and_stop_with_the_primary() {
    let small = ServerSettings {
        buffer_pool_mib: Some(64),
        ..ServerSettings::default()
    };
    let scratch = Scratch::start("replicas", &small);
    let home = scratch.server.home().to_owned();
    let out = dbio(&home, &["up", "--scale", "0.01", "--replicas", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let status = scratch.server.status();
    assert_eq!(status.role, Some(Role::Primary));
    assert_eq!(status.replicas.len(), 2, "{status:?}");
    let url = scratch.server.url().expect("url");
    let logged: String = admin(&url)
        .query_first("SELECT @@gtid_binlog_pos")
        .expect("position")
        .expect("a row");
    assert!(!logged.is_empty(), "the load is in the primary's log");
    let primary_password = std::fs::read_to_string(home.join("password")).expect("password");
    let mut pids = vec![status.pid.expect("primary pid")];
    for (n, replica) in (1..).zip(&status.replicas) {
        assert_eq!(replica.role, Some(Role::Replica(n)));
        assert!(replica.running, "replica {n}: {replica:?}");
        let r = replica.replication.as_ref().expect("replication state");
        assert!(r.running(), "replica {n}: {r:?}");
        assert_eq!(r.lag_seconds, Some(0), "replica {n}: {r:?}");
        assert_eq!(r.gtid_position, logged, "replica {n} applied everything");
        assert_eq!(r.last_error, None);
        assert_ne!(replica.port, status.port);
        let replica_home = home.join("replicas").join(n.to_string());
        assert_eq!(replica.home, replica_home);
        let password = std::fs::read_to_string(replica_home.join("password")).expect("password");
        assert_ne!(
            password, primary_password,
            "replica {n} has its own accounts"
        );
        // Read only: the benchmark user cannot change a replica's data.
        let replica_url = url
            .with_port(replica.port.expect("port"))
            .with_credentials("dbio", password.trim());
        let refused = admin(&replica_url).query_drop("DELETE FROM employees.departments");
        assert!(
            refused.is_err_and(|e| e.to_string().contains("read-only")),
            "replica {n} took a write"
        );
        pids.push(replica.pid.expect("replica pid"));
    }

    // Every server's checksums match what the primary loaded.
    let verified = dbio(&home, &["verify", "--json"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let v: serde_json::Value = serde_json::from_slice(&verified.stdout).expect("json");
    assert_eq!(v["ok"], true);
    let replicas = v["replicas"].as_array().expect("replicas");
    assert_eq!(replicas.len(), 2);
    for r in replicas {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(
            r["tables"], v["tables"],
            "the same checksums as the primary"
        );
    }

    let stopped = dbio(&home, &["server", "stop"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    for pid in pids {
        testkit::poll(
            &format!("server {pid} to exit"),
            Duration::from_secs(30),
            || (!Path::new(&format!("/proc/{pid}")).exists()).then_some(()),
        );
    }
    // Read again after the stop (issue 27, item 8: this once re-read the
    // snapshot taken before it): the primary and both replicas are down.
    let after = scratch.server.status();
    assert!(!after.running, "{after:?}");
    assert_eq!(after.replicas.len(), 2, "{after:?}");
    assert!(
        after.replicas.iter().all(|r| !r.running && r.pid.is_none()),
        "{after:?}"
    );

    // Fewer replicas: the extra home is gone; none: the directory too.
    let out = dbio(&home, &["up", "--scale", "0.01", "--replicas", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.join("replicas/1").is_dir() && !home.join("replicas/2").exists());
    // D5 of the third hostile pass: a replica whose bootstrap was cut
    // short (a full disk, Ctrl-C) has a state file, a data directory begun
    // and no password. It is no replica: not listed, and removed by the
    // next `up`, whatever its count.
    let half = home.join("replicas/2");
    std::fs::create_dir_all(half.join("data/mysql")).expect("half-made data");
    std::fs::copy(home.join("replicas/1/state.json"), half.join("state.json")).expect("state file");
    std::fs::write(
        half.join("install.log"),
        "Installing MariaDB/MySQL system tables",
    )
    .expect("log");
    let urls = model::managed::urls(&home).expect("urls despite a half-made replica");
    assert_eq!(urls.len(), 2, "{urls:?}");
    let verified = dbio(&home, &["verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let out = dbio(&home, &["up", "--scale", "0.01", "--replicas", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("never finished its bootstrap"),
        "{}",
        stderr(&out)
    );
    assert!(!half.exists(), "the half-made replica is removed");
    std::fs::create_dir_all(half.join("data")).expect("half-made again");
    let out = dbio(&home, &["up", "--scale", "0.01", "--replicas", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!home.join("replicas").exists());
    assert!(scratch.server.status().replicas.is_empty());
}

/// A count that is not one, or above what a home may have, ends with one
/// `error:` line before anything starts.
#[test]
fn bad_replica_counts_are_refused_in_one_line() {
    let home = testkit::test_dir().join(format!("dbio-replicas-bad-{}", std::process::id()));
    for (count, needle) in [
        ("x", "invalid value 'x'"),
        ("9", "must be at most 8"),
        ("-1", "'-1'"),
        // Minor 5 of the third hostile pass: plain digits only.
        ("08", "not a plain number"),
        ("+1", "not a plain number"),
    ] {
        let out = dbio(&home, &["up", "--replicas", count]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{count}: {err}");
        assert_eq!(err.lines().count(), 1, "{count}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{count}: {err}"
        );
    }
    // Minor 3: an empty optimizer switch would be saved, yet leave the
    // running server's as it was.
    for switch in ["", " "] {
        let out = dbio(&home, &["up", "--optimizer-switch", switch]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{switch:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{switch:?}: {err}");
        assert!(err.contains("is empty"), "{switch:?}: {err}");
    }
    assert!(!home.exists(), "nothing was created");
}
