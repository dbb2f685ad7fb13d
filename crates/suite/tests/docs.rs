//! The documentation a newcomer reads: README.md short enough to take in,
//! every page under docs/ reachable from it, and every relative link of
//! README.md, ARCHITECTURE.md and docs/ resolving to a file of the
//! checkout.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    testkit::workspace_root()
}

/// The targets of the Markdown links and images in `text`: `[..](target)`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("page");
        let dir = page.parent().unwrap_or(Path::new("."));
        for target in links(&text) {
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            if !dir.join(path).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing: {broken:#?}");
}

#[test]
fn the_readme_is_short_and_leads_to_every_page() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 150, "README.md has {lines} lines, at most 150");
    let targets = links(&readme);
    for page in pages().into_iter().skip(2) {
        let name = format!(
            "docs/{}",
            page.file_name().and_then(|n| n.to_str()).unwrap_or("")
        );
        assert!(
            targets
                .iter()
                .any(|t| t.split('#').next() == Some(name.as_str())),
            "README.md does not link {name}"
        );
    }
    // CI runs the README's test command.
    assert!(readme.contains("scripts/test.sh"), "the test command");
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains("scripts/test.sh"),
        "CI runs the README's test command"
    );
}

#[test]
fn the_link_reader_finds_links_and_images() {
    assert_eq!(
        links("see [a](docs/a.md#x), ![p](results/p.svg) and [b](https://x.y/z)."),
        ["docs/a.md#x", "results/p.svg", "https://x.y/z"]
    );
}
