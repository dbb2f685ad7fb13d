//! What every binary's command line shares: clap's errors as one line
//! (exit 2), and stdout that a reader going away does not turn into a
//! panic.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::settings::redact;

/// Exit code for a failed run (clap uses 2 for bad arguments).
pub const FAILED: u8 = 1;

/// Exit code of an approach that this machine cannot run at the size
/// asked (`Error::MachineLimit`): nothing was started.
pub const REFUSED: u8 = 3;

/// Parses the command line; on `--help`/`--version` prints and returns
/// success, on bad arguments prints clap's one-line error (its usage tips
/// are noise here) and returns exit code 2.
pub fn parse<T: Parser>() -> Result<T, ExitCode> {
    parse_as(T::command())
}

/// [`parse`] with the command renamed (for `--help` and `--version`).
pub fn parse_as<T: Parser>(command: clap::Command) -> Result<T, ExitCode> {
    let parsed = command
        .try_get_matches()
        .and_then(|m| T::from_arg_matches(&m));
    match parsed {
        Ok(args) => Ok(args),
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            // The first line, and clap's list of the values it accepts
            // when it gives one: its usage tips are noise here.
            let text = redact(&e.to_string());
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("error: invalid arguments");
            match lines.next().map(str::trim) {
                Some(values) if values.starts_with("[possible values") => {
                    eprintln!("{first} {values}");
                }
                _ => eprintln!("{first}"),
            }
            Err(ExitCode::from(2))
        }
    }
}

/// Writes `text` to stdout. A reader that went away (`dbio server status |
/// head -1`) ends the process quietly with success, as for any filter;
/// another write error ends it with one `error:` line. For the tools'
/// output, never called while queries run.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(i32::from(FAILED));
        }
    }
}

/// [`emit`] with a newline.
pub fn emit_line(text: impl std::fmt::Display) {
    emit(&format!("{text}\n"));
}

/// The most read replicas a managed server may have (`--replicas`).
pub const MAX_REPLICAS: u32 = 8;

/// A whole number written as plain decimal digits, with no sign and no
/// leading zero (`+1`, `08` and ` 1` are refused, as every number of
/// dbio's is in Python's scripts too), at most `max`.
pub fn plain_number(text: &str, max: u32) -> Result<u32, String> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match text.parse::<u32>() {
        Ok(n) if plain && n <= max => Ok(n),
        Ok(_) if plain => Err(format!("must be at most {max}")),
        _ => Err(format!("`{text}` is not a plain number (digits only)")),
    }
}

/// `--replicas`: 0 to [`MAX_REPLICAS`], in plain digits.
pub fn replica_count(text: &str) -> Result<u32, String> {
    plain_number(text, MAX_REPLICAS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_digits_within_their_range() {
        assert_eq!(plain_number("0", 8), Ok(0));
        assert_eq!(plain_number("8", 8), Ok(8));
        for bad in ["+1", "08", " 1", "1 ", "-0", "", "1e1", "0x1"] {
            assert!(plain_number(bad, 8).is_err(), "{bad:?}");
        }
        assert!(plain_number("9", 8).is_err_and(|e| e.contains("at most 8")));
    }
}
