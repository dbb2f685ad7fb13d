//! The `dbio` command line at its edges: a reader that went away, and
//! values too large to mean anything.

use std::process::{Command, Stdio};

fn dbio() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbio"));
    cmd.stdin(Stdio::null());
    testkit::scrub(&mut cmd);
    cmd
}

/// `dbio server status | head -1` once panicked ("failed printing to
/// stdout", exit 101): a closed pipe now ends it quietly.
#[test]
fn a_closed_stdout_ends_dbio_quietly() {
    let home = std::env::temp_dir().join(format!("dbio-cli-{}", std::process::id()));
    for args in [
        &["server", "status"][..],
        &["server", "status", "--json"][..],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = dbio()
            .arg("--home")
            .arg(&home)
            .args(args)
            .stdout(writer)
            .output()
            .expect("dbio");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&home);
}

/// `settle --wait 18446744073709551615` overflowed a deadline and panicked.
#[test]
fn a_wait_beyond_an_hour_is_refused() {
    let out = dbio()
        .args(["server", "settle", "--wait", "18446744073709551615"])
        .output()
        .expect("dbio");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("0..=3600"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The dataset commands take only what they use: a connection budget or a
/// second home option would be accepted and ignored.
#[test]
fn dataset_commands_accept_nothing_they_would_ignore() {
    for (command, flag) in [
        ("load", "--connections=3"),
        ("verify", "--dbio-home=/tmp/x"),
        ("facts", "--connect-timeout=3"),
    ] {
        let out = dbio().args([command, flag]).output().expect("dbio");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command} {flag}: {err}");
        assert!(
            err.contains("unexpected argument"),
            "{command} {flag}: {err}"
        );
    }
}
