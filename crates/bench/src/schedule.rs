//! The timed schedule: every approach once per round, in an order that
//! rotates from round to round, so that a slow period of the machine (the
//! server's CPU per query drifts on a busy VM) is spread over all
//! approaches instead of landing on whichever ran then; and the hyperfine
//! command line of one round, the server's CPU read around each run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The approaches in round `round`'s order (rounds count from 1).
pub fn rotation<T: Clone>(approaches: &[T], round: u32) -> Vec<T> {
    let n = approaches.len();
    (0..n)
        .map(|i| approaches[(i + round as usize - 1) % n].clone())
        .collect()
}

/// One timed approach: its name and its command line as words.
#[derive(Debug, Clone)]
pub struct Timed {
    pub name: &'static str,
    pub command: Vec<PathBuf>,
    /// Where its report goes (an open loop's result, which the command
    /// writes there itself); `None`: its output is discarded.
    pub output: Option<PathBuf>,
}

/// What reads the server's (and the proxy's) CPU around each run.
#[derive(Debug, Clone)]
pub struct CpuProbe {
    /// `dbio --home HOME`, as words.
    pub dbio: Vec<PathBuf>,
    pub record: PathBuf,
    /// The proxy's pid and its record, when there is a proxy.
    pub proxy: Option<(u32, PathBuf)>,
}

impl CpuProbe {
    fn command(&self, label: &str, settle: bool) -> String {
        let mut words: Vec<OsString> = self
            .dbio
            .iter()
            .map(|p| p.clone().into_os_string())
            .collect();
        words.extend(["server", "cpu"].map(OsString::from));
        if settle {
            // A run killed by SIGKILL leaves its queries running on the
            // server: they are waited for (or killed) before the next run.
            words.push("--settle".into());
        }
        words.extend(["--record".into(), self.record.clone().into_os_string()]);
        words.extend(["--label".into(), label.into()]);
        if let Some((pid, record)) = &self.proxy {
            words.extend([
                "--proxy-pid".into(),
                pid.to_string().into(),
                "--proxy-record".into(),
                record.clone().into_os_string(),
            ]);
        }
        quote(&words)
    }
}

/// hyperfine's arguments for one round: one run of each approach in
/// `order`, `warmup` warm-up runs each, exported to `export`.
pub fn round_args(
    order: &[Timed],
    warmup: u32,
    export: &Path,
    cpu: Option<&CpuProbe>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "-N".into(),
        "--runs".into(),
        "1".into(),
        "--warmup".into(),
        warmup.to_string().into(),
        "--export-json".into(),
        export.as_os_str().to_owned(),
    ];
    if let Some(cpu) = cpu {
        args.extend(["--prepare".into(), cpu.command("before", true).into()]);
    }
    for timed in order {
        let words: Vec<OsString> = timed
            .command
            .iter()
            .map(|p| p.clone().into_os_string())
            .collect();
        args.extend(["-n".into(), timed.name.into(), quote(&words).into()]);

        if let Some(cpu) = cpu {
            args.extend(["--conclude".into(), cpu.command(timed.name, false).into()]);
        }
    }
    args
}

/// Words as one command string for hyperfine, which splits it again like
/// a shell (`-N`): each word single-quoted, so that paths with spaces or
/// quotes survive.
pub fn quote(words: &[OsString]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.to_string_lossy().replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_starts_one_later() {
        let names = ["a", "b", "c"];
        assert_eq!(rotation(&names, 1), ["a", "b", "c"]);
        assert_eq!(rotation(&names, 2), ["b", "c", "a"]);
        assert_eq!(rotation(&names, 4), ["a", "b", "c"]);
    }

    #[test]
    fn quoting_keeps_spaces_and_quotes() {
        let words: Vec<OsString> = ["/a b/dbio", "it's"].map(OsString::from).to_vec();
        assert_eq!(quote(&words), r"'/a b/dbio' 'it'\''s'");
    }

    #[test]
    fn a_round_reads_the_cpu_before_and_after_each_run() {
        let order = vec![
            Timed {
                name: "test_single",
                command: vec!["/b/test_single".into()],
                output: None,
            },
            Timed {
                name: "test_mt",
                command: vec!["/b/test_mt".into()],
                output: None,
            },
        ];
        let cpu = CpuProbe {
            dbio: vec!["/b/dbio".into()],
            record: "/r/server-cpu.tsv".into(),
            proxy: None,
        };
        let args = round_args(&order, 0, Path::new("/r/round.json"), Some(&cpu));
        let text: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = |s: &str| text.iter().position(|t| t == s).expect(s);
        assert!(text[at("--prepare") + 1].contains("'--settle'"));
        assert_eq!(text.iter().filter(|t| *t == "--conclude").count(), 2);
        assert!(at("test_single") < at("test_mt"));
        assert!(text.iter().any(|t| t.contains("'--label' 'test_mt'")));
    }
}
