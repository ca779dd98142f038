//! The five providers' documents (tests/seeds holds verbatim copies of the
//! project's seeds) and their curl lines, run with the real `curl`.

use std::process::Command;

/// The document whose file name starts with `prefix` (`"001"`).
pub fn document(prefix: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}"));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(".txt") {
            return std::fs::read_to_string(entry.path()).expect("a readable seed document");
        }
    }
    panic!("no seed document {prefix}_*.txt in {dir}")
}

/// The lines of `doc` from the first that starts with `first` (after
/// leading blanks) up to and including the first that ends with `last`.
pub fn block<'a>(doc: &'a str, first: &str, last: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = doc.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with(first))
        .unwrap_or_else(|| panic!("the document has no line starting {first:?}"));
    let rest = lines.get(start..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|l| l.trim_end().ends_with(last))
        .unwrap_or_else(|| panic!("no line ending {last:?} after {first:?}"));
    rest[..=len].to_vec()
}

/// Replaces each `(from, to)`, panicking when the text lacks `from` (so a
/// changed document fails loudly instead of running something else).
pub fn substitute(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in edits {
        assert!(out.contains(from), "the curl line no longer contains {from:?}: {out}");
        out = out.replace(from, to);
    }
    out
}

/// What a curl line printed: the status and the body.
#[derive(Debug)]
pub struct CurlReply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

impl CurlReply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Runs a shell command line that starts with `curl`, as a developer
/// pasting it would (bash), adding only `-s` and a status trailer. It runs
/// off the runtime's threads, so the server in this process can answer.
pub async fn run_curl(line: &str) -> CurlReply {
    let line = line.to_owned();
    tokio::task::spawn_blocking(move || run_curl_blocking(&line)).await.expect("the curl task")
}

fn run_curl_blocking(line: &str) -> CurlReply {
    let found = Command::new("curl").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        panic!("curl is not installed, and the seed documents' curl lines are run with it; install curl");
    }
    let line = line.trim();
    let rest = line.strip_prefix("curl").unwrap_or_else(|| panic!("not a curl line: {line}"));
    let script = format!("curl -s -w '\\n%{{http_code}}'{rest}");
    let out = Command::new("bash").arg("-c").arg(&script).output().expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "curl failed: {script}\n{}", String::from_utf8_lossy(&out.stderr));
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", stdout.as_str()));
    CurlReply { status: status.trim().parse().unwrap_or(0), body: body.to_owned() }
}
