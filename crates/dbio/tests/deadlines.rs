//! Every connection dbio opens for itself has a deadline: against a
//! listener that never answers, `verify`, `facts` and `load` fail with one
//! line; against a server stopped with SIGSTOP, `server status`, `settle`
//! and `cpu --settle` (which bench.sh runs before every timed run) do too.

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use dbio::ServerSettings;
use testkit::faults::{Outcome, spawn_command};

/// dbio's own connect deadline ([`dbio::connect::CONNECT_DEADLINE`]) and
/// some room for a loaded machine.
const LIMIT: Duration = Duration::from_secs(25);

fn dbio(args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbio"));
    cmd.args(args);
    cmd
}

/// Runs every command at once (each with its dbio variables scrubbed);
/// fails the test if one is still running at [`LIMIT`].
fn run_all(cmds: Vec<Command>) -> Vec<Outcome> {
    let running: Vec<_> = cmds.into_iter().map(spawn_command).collect();
    running
        .into_iter()
        .map(|r| r.finish_within(LIMIT))
        .collect()
}

#[test]
fn admin_connections_to_a_silent_listener_fail_within_the_deadline() {
    // Accepts connections (the kernel does) and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("--database-url=mysql://u:secret@127.0.0.1:{port}/employees");
    let cmds = [
        vec!["verify".to_owned(), url.clone()],
        vec!["facts".to_owned(), url.clone()],
        vec!["load".to_owned(), "--scale=0.01".to_owned(), url.clone()],
    ]
    .into_iter()
    .map(|args| dbio(&args))
    .collect();
    for out in run_all(cmds) {
        let err = &out.stderr;
        assert_eq!(out.code, Some(1), "{out:?}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("did not answer the MySQL handshake"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
    drop(listener);
}

#[test]
fn admin_commands_against_a_stopped_server_fail_within_the_deadline() {
    let scratch = testkit::Scratch::start("sigstop", &ServerSettings::default());
    let pid = scratch.server.running_pid().expect("running");
    let home = scratch.server.home().display().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    signal("-STOP");
    let cmds = [
        vec!["server", "status"],
        vec!["server", "settle"],
        vec!["server", "cpu", "--settle"],
    ]
    .into_iter()
    .map(|args| {
        let mut all = vec!["--home".to_owned(), home.clone()];
        all.extend(args.into_iter().map(String::from));
        dbio(&all)
    })
    .collect();
    let outs = run_all(cmds);
    signal("-CONT");
    let [status, settle, cpu] = &outs[..] else {
        panic!("three outputs")
    };
    // Status says what it knows (it runs) and that it did not answer
    // (minor 4 of the third hostile pass: it said only "running: yes").
    assert_eq!(status.code, Some(1), "{status:?}");
    assert!(
        status
            .stdout
            .contains(&format!("yes (pid {pid}), but it did not answer")),
        "{status:?}"
    );
    for out in [settle, cpu] {
        let err = &out.stderr;
        assert_eq!(out.code, Some(1), "{out:?}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("did not answer on"), "{err}");
        assert!(err.contains("SIGSTOP"), "{err}");
    }
}
