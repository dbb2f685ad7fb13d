//! Running a program under test: its output read while it runs (a full
//! pipe would block it), its exit waited for with a deadline, the one-line
//! failure every fault must end in, and the query templates it is given.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::shared;

/// How long a binary may take to give up after a fault.
pub const DEADLINE: Duration = Duration::from_secs(45);

/// What a binary did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// A running binary; its output is read while it runs (a full pipe would
/// block it).
#[derive(Debug)]
pub struct Running {
    /// The program and its arguments (not its environment, which may hold
    /// a password), for the message of a hang.
    what: String,
    child: std::process::Child,
    /// The readers of its output, taken when it is collected.
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
    started: Instant,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Starts `bin` with `args` and none of dbio's variables from the environment.
pub fn spawn(bin: &Path, args: &[String]) -> Running {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    spawn_command(cmd)
}

/// Starts `cmd` without dbio's variables from this environment (the
/// command may set its own), its output piped.
pub fn spawn_command(mut cmd: Command) -> Running {
    crate::scrub(&mut cmd);
    let what = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Running {
        what,
        stdout: Some(drain(child.stdout.take())),
        stderr: Some(drain(child.stderr.take())),
        child,
        started: Instant::now(),
    }
}

impl Running {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the binary has exited (a test waiting for it to reach a
    /// state can then show what it printed instead).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for the exit, killing the binary and failing the test at the deadline.
    pub fn finish(self) -> Outcome {
        let until = self.started + DEADLINE;
        self.finish_by(until)
    }

    /// Waits at most `limit` from now for the exit.
    pub fn finish_within(self, limit: Duration) -> Outcome {
        self.finish_by(Instant::now() + limit)
    }

    /// What it printed, once its pipes have closed.
    fn output(&mut self) -> (String, String) {
        let read = |handle: Option<std::thread::JoinHandle<String>>| {
            handle.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        (read(self.stdout.take()), read(self.stderr.take()))
    }

    fn finish_by(mut self, deadline: Instant) -> Outcome {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                // What each thread waits in, read before the kill; then,
                // its pipes closed, what it printed so far.
                let threads = threads_of(self.child.id());
                let _ = self.child.kill();
                let _ = self.child.wait();
                let (stdout, stderr) = self.output();
                panic!(
                    "{} did not exit within {:?} (a hang)\nthreads: {threads}\nstdout: {stdout}\nstderr: {stderr}",
                    self.what,
                    deadline - self.started
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (stdout, stderr) = self.output();
        Outcome {
            code: status.code(),
            stdout,
            stderr,
            elapsed: self.started.elapsed(),
        }
    }
}

impl Drop for Running {
    /// A test that fails while its program runs leaves nothing running: a
    /// program left holding its connections would fail the next test
    /// under the same per-user limit.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Each thread of process `pid` as `name:state:wait channel`, from /proc:
/// where a hung binary waits.
fn threads_of(pid: u32) -> String {
    let read = |path: std::path::PathBuf| {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return "(gone)".into();
    };
    tasks
        .flatten()
        .map(|task| {
            let dir = task.path();
            let state = read(dir.join("stat"))
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or("?")
                .to_owned();
            format!(
                "{}:{state}:{}",
                read(dir.join("comm")),
                read(dir.join("wchan"))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A binary's arguments for `url`, with a 2-s connect timeout, then `extra`.
pub fn url_args(url: &common::DbUrl, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--database-url".to_owned(),
        url.expose(),
        "--connect-timeout".into(),
        "2".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs `bin` to completion.
pub fn run(bin: &Path, args: &[String]) -> Outcome {
    spawn(bin, args).finish()
}

/// Asserts a clean failure whose one line contains every one of `needles`.
pub fn assert_clean_failure(out: &Outcome, needles: &[&str]) {
    let context = format!("{out:#?}");
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "expected a non-zero exit: {context}"
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr: {context}");
    assert!(
        lines[0].starts_with("error: "),
        "expected `error: ...`: {context}"
    );
    assert!(!out.stderr.contains("panicked"), "a panic: {context}");
    assert!(
        out.stdout.is_empty(),
        "a failed run printed a report: {context}"
    );
    let password = shared().url.expose();
    let password = password
        .split(':')
        .nth(2)
        .and_then(|s| s.split('@').next())
        .unwrap_or("");
    assert!(
        password.is_empty() || !out.stderr.contains(password),
        "password printed: {context}"
    );
    for needle in needles {
        assert!(
            lines[0].to_lowercase().contains(&needle.to_lowercase()),
            "expected `{needle}` in the error: {context}"
        );
    }
}

/// A query template in a directory of its own under the temp dir, removed
/// when the test passes (kept for a look when it fails).
#[derive(Debug)]
pub struct Template {
    dir: std::path::PathBuf,
}

impl Template {
    pub fn new(marker: &str, text: &str) -> Template {
        let dir = std::env::temp_dir().join(format!("dbio-{marker}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("template.sql"), text).expect("template");
        Template { dir }
    }

    /// The path, as an argument for `--queries`.
    pub fn arg(&self) -> String {
        self.dir.join("template.sql").display().to_string()
    }
}

impl Drop for Template {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
