//! The approaches, by name: the one list the driver, the renderer and the
//! tests read. Each entry says which language it is written in, which of
//! the blog's scripts it mirrors, the blog's published mean for that
//! script, and the colour its results are drawn in (shared by a Rust
//! approach and the Python script of the same scheduling).
//!
//! The list must match what exists: a `crates/<name>` binary for every
//! Rust entry, a `scripts/python/<script>.py` for every Python one
//! (`suite/tests/registry.rs`).

/// The language an approach is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rust,
    Python,
}

/// One approach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Approach {
    /// The name results carry: the crate's binary, or `py_<script>`.
    pub name: &'static str,
    pub language: Language,
    /// The Rust approach of the same scheduling (itself for a Rust one).
    pub scheduling: &'static str,
    /// The blog's script this one mirrors, when the blog had one.
    pub blog_script: Option<&'static str>,
    /// RGB colour of this scheduling in every picture.
    pub colour: (u8, u8, u8),
}

impl Approach {
    /// The file of a Python approach, under `scripts/python/`.
    pub fn script(&self) -> Option<String> {
        self.name.strip_prefix("py_").map(|s| format!("{s}.py"))
    }

    /// The serial baseline of this approach's language.
    pub fn baseline(&self) -> &'static str {
        baseline(self.language)
    }

    /// The blog's published mean for the scheduling this approach has.
    pub fn blog_mean(&self) -> Option<f64> {
        let script = self.blog_script?;
        BLOG_MEANS
            .iter()
            .find(|(s, _)| *s == script)
            .map(|(_, mean)| *mean)
    }

    /// The same scheduling in the other language.
    pub fn counterpart(&self) -> Option<&'static Approach> {
        APPROACHES
            .iter()
            .find(|a| a.scheduling == self.scheduling && a.language != self.language)
    }
}

/// The serial baseline of a language: the first of its approaches.
pub fn baseline(language: Language) -> &'static str {
    match language {
        Language::Rust => "test_single",
        Language::Python => "py_test_single",
    }
}

/// The blog's published means in seconds (10 runs each, on the author's
/// machine), by script.
pub const BLOG_MEANS: [(&str, f64); 5] = [
    ("test_single.py", 17.746),
    ("test_mt.py", 8.054),
    ("test_mt_bounded.py", 8.275),
    ("test_cft.py", 7.806),
    ("test_asyncio.py", 7.642),
];

const fn rust(
    name: &'static str,
    blog_script: Option<&'static str>,
    colour: (u8, u8, u8),
) -> Approach {
    Approach {
        name,
        language: Language::Rust,
        scheduling: name,
        blog_script,
        colour,
    }
}

const fn python(
    name: &'static str,
    scheduling: &'static str,
    blog_script: &'static str,
) -> Approach {
    Approach {
        name,
        language: Language::Python,
        scheduling,
        blog_script: Some(blog_script),
        colour: colour_of(scheduling),
    }
}

const fn colour_of(scheduling: &str) -> (u8, u8, u8) {
    let mut i = 0;
    while i < APPROACHES_RUST.len() {
        if const_eq(APPROACHES_RUST[i].name, scheduling) {
            return APPROACHES_RUST[i].colour;
        }
        i += 1;
    }
    (23, 190, 207)
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const APPROACHES_RUST: [Approach; 6] = [
    rust("test_single", Some("test_single.py"), (127, 127, 127)),
    rust("test_mt", Some("test_mt.py"), (214, 39, 40)),
    rust(
        "test_mt_bounded",
        Some("test_mt_bounded.py"),
        (255, 127, 14),
    ),
    rust("test_threadpool", Some("test_cft.py"), (44, 160, 44)),
    rust("test_asyncio", Some("test_asyncio.py"), (31, 119, 180)),
    rust("test_async_std", None, (148, 103, 189)),
];

/// Every approach: the Rust ones, then the Python ones, each language's
/// serial baseline first.
pub const APPROACHES: [Approach; 11] = [
    APPROACHES_RUST[0],
    APPROACHES_RUST[1],
    APPROACHES_RUST[2],
    APPROACHES_RUST[3],
    APPROACHES_RUST[4],
    APPROACHES_RUST[5],
    python("py_test_single", "test_single", "test_single.py"),
    python("py_test_mt", "test_mt", "test_mt.py"),
    python(
        "py_test_mt_bounded",
        "test_mt_bounded",
        "test_mt_bounded.py",
    ),
    python("py_test_cft", "test_threadpool", "test_cft.py"),
    python("py_test_asyncio", "test_asyncio", "test_asyncio.py"),
];

/// The approach of that name.
pub fn find(name: &str) -> Option<&'static Approach> {
    APPROACHES.iter().find(|a| a.name == name)
}

/// The language of a result's command: its entry's, else told by the name
/// (results may name approaches this build does not know).
pub fn language_of(name: &str) -> Language {
    find(name).map_or(
        if name.starts_with("py_") {
            Language::Python
        } else {
            Language::Rust
        },
        |a| a.language,
    )
}

/// The serial baseline a result's command is compared with.
pub fn baseline_of(name: &str) -> &'static str {
    baseline(language_of(name))
}

/// Whether a command runs its queries one at a time.
pub fn is_serial(name: &str) -> bool {
    find(name).is_some_and(|a| a.scheduling == baseline(Language::Rust))
}

/// The approaches of one language, baseline first.
pub fn of(language: Language) -> impl Iterator<Item = &'static Approach> {
    APPROACHES.iter().filter(move |a| a.language == language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_starts_with_its_baseline() {
        for language in [Language::Rust, Language::Python] {
            assert_eq!(
                of(language).next().map(|a| a.name),
                Some(baseline(language))
            );
        }
    }

    #[test]
    fn counterparts_pair_up_and_share_a_colour() {
        let cft = find("py_test_cft").expect("cft");
        assert_eq!(cft.counterpart().map(|a| a.name), Some("test_threadpool"));
        assert_eq!(cft.colour, find("test_threadpool").expect("tp").colour);
        assert_eq!(find("test_async_std").and_then(Approach::counterpart), None);
        assert_eq!(
            find("test_single").and_then(Approach::blog_mean),
            Some(17.746)
        );
        assert_eq!(
            find("py_test_cft").and_then(Approach::script).as_deref(),
            Some("test_cft.py")
        );
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in APPROACHES.iter().enumerate() {
            assert!(
                APPROACHES[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }
}
