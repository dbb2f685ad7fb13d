//! Where the run's programs are: the approach binaries and `dbio` beside
//! this one, the Python scripts and the query file under the root (the
//! checkout, or an unpacked bundle), hyperfine, the Python interpreter.

use std::path::{Path, PathBuf};
use std::process::Command;

use model::registry::{Approach, Language};

use crate::error::{Error, Result};

/// hyperfine 1.19 added `--conclude` and memory figures.
const HYPERFINE_MIN: (u32, u32) = (1, 19);

#[derive(Debug, Clone)]
pub struct Tools {
    /// Where `bench`, `dbio` and the approach binaries are.
    pub bin: PathBuf,
    /// The checkout or bundle: `scripts/python/`, `queries/`, `results/`.
    pub root: PathBuf,
    pub hyperfine: PathBuf,
    pub python: Option<PathBuf>,
    /// The compiler that built the binaries.
    pub rustc: &'static str,
}

impl Tools {
    /// Finds everything the run needs, or says what is missing.
    pub fn find(hyperfine: Option<PathBuf>, python: Option<Option<PathBuf>>) -> Result<Tools> {
        let exe = std::env::current_exe().map_err(Error::io("cannot find this binary"))?;
        let bin = exe
            .parent()
            .ok_or_else(|| Error::Failed("this binary has no directory".into()))?
            .to_owned();
        let root = bin
            .ancestors()
            .find(|d| d.join("scripts/python").is_dir() && d.join("queries").is_dir())
            .ok_or_else(|| {
                Error::Failed(format!(
                    "no scripts/python and queries/ above {}: run bench from a checkout (scripts/bench.sh) or an unpacked bundle (./bench.sh)",
                    bin.display()
                ))
            })?
            .to_owned();
        let hyperfine = find_hyperfine(hyperfine, &bin, &root)?;
        let python = match python {
            None => None,
            Some(Some(path)) => Some(path),
            Some(None) => Some(find_python(&root)?),
        };
        Ok(Tools {
            bin,
            root,
            hyperfine,
            python,
            rustc: env!("BENCH_RUSTC_VERSION"),
        })
    }

    /// A program built with this one (`dbio`, an approach).
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// An approach's command line, as words.
    pub fn command_of(&self, approach: &Approach) -> Result<Vec<PathBuf>> {
        match (approach.language, approach.script()) {
            (Language::Python, Some(script)) => {
                let python = self
                    .python
                    .clone()
                    .ok_or_else(|| Error::Failed(format!("{} needs --python", approach.name)))?;
                Ok(vec![python, self.root.join("scripts/python").join(script)])
            }
            _ => {
                let path = self.binary(approach.name);
                if path.is_file() {
                    Ok(vec![path])
                } else {
                    Err(Error::Failed(format!(
                        "{} is not built: {} is missing (scripts/bench.sh builds every approach)",
                        approach.name,
                        path.display()
                    )))
                }
            }
        }
    }
}

fn find_hyperfine(given: Option<PathBuf>, bin: &Path, root: &Path) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = match given {
        Some(path) => vec![path],
        None => {
            let mut c = vec![
                bin.join("hyperfine"),
                root.join("target/tools/bin/hyperfine"),
            ];
            c.extend(on_path("hyperfine"));
            c
        }
    };
    for candidate in &candidates {
        if let Some(version) = version_of(candidate)
            && version >= HYPERFINE_MIN
        {
            return Ok(candidate.clone());
        }
    }
    Err(Error::Failed(format!(
        "no hyperfine {}.{} or newer (tried {}); scripts/bench.sh installs it, or: cargo install hyperfine --locked",
        HYPERFINE_MIN.0,
        HYPERFINE_MIN.1,
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `hyperfine 1.20.0` → (1, 20).
fn version_of(program: &Path) -> Option<(u32, u32)> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().nth(1)?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn find_python(root: &Path) -> Result<PathBuf> {
    ["target/python-venv/bin/python", "venv/bin/python"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Failed(format!(
                "--python needs the Python drivers: no venv under {} (scripts/bench.sh creates it; needs python3 and python3-venv)",
                root.display()
            ))
        })
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
