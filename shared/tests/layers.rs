//! No module of `shared` imports a module that imports it back. Modules are
//! the top-level ones (`domain`, `error`, `store`, `config` …), and one level
//! down inside the big ones (`oauth::tokens`, `endpoints::discovery` …), as
//! the README's floors draw them. A circle fails the test with its members.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules whose children count as modules of their own.
const SPLIT: &[&str] = &[
    "oauth",
    "endpoints",
    "grants",
    "sign_in",
    "store",
    "admin",
    "keys",
    "domain",
    "router",
    "paths",
    "http",
];

fn node_of_file(rel: &str) -> String {
    let mut parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    if matches!(parts.last(), Some(&"mod") | Some(&"lib")) {
        parts.pop();
    }
    node_of(&parts)
}

fn node_of(segs: &[&str]) -> String {
    match segs {
        [] => "lib".into(),
        [first, second, ..]
            if SPLIT.contains(first)
                && second.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()) =>
        {
            format!("{first}::{second}")
        }
        [first, ..] => (*first).to_owned(),
    }
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    s.get(..end).unwrap_or("")
}

/// The modules a source file names: `crate::a::b` paths (with `{…}`
/// groups), and `a::b` where `a` is a split module the file imported whole.
fn targets(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut imported = BTreeSet::new();
    for (i, _) in src.match_indices("crate::") {
        let rest = src.get(i + "crate::".len()..).unwrap_or("");
        let first = ident(rest);
        let after = rest.get(first.len()..).unwrap_or("");
        match after.strip_prefix("::") {
            Some(group) if group.starts_with('{') => {
                let inner = group.get(1..group.find('}').unwrap_or(1)).unwrap_or("");
                for item in inner.split(',') {
                    let item = ident(item.trim());
                    if item == "self" {
                        out.insert(node_of(&[first]));
                    } else if !item.is_empty() {
                        out.insert(node_of(&[first, item]));
                    }
                }
            }
            Some(next) => {
                out.insert(node_of(&[first, ident(next)]));
            }
            None => {
                out.insert(node_of(&[first]));
                imported.insert(first.to_owned());
            }
        }
    }
    for m in imported.iter().filter(|m| SPLIT.contains(&m.as_str())) {
        for (i, _) in src.match_indices(&format!("{m}::")) {
            let before = src.get(..i).and_then(|b| b.chars().last());
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = src.get(i + m.len() + 2..).unwrap_or("");
            out.insert(node_of(&[m, ident(rest)]));
        }
    }
    out
}

fn walk(dir: &Path, root: &Path, edges: &mut BTreeMap<String, BTreeSet<String>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, root, edges);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let rel = path.strip_prefix(root).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        // Tests may reach anywhere.
        let src = src.split("#[cfg(test)]").next().unwrap_or("");
        let me = node_of_file(&rel);
        for t in targets(src) {
            let inside = t == me || t.starts_with(&format!("{me}::")) || me.starts_with(&format!("{t}::"));
            if !inside {
                edges.entry(me.clone()).or_default().insert(t);
            }
        }
    }
}

/// The circles: strongly connected components of more than one module.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(n) = todo.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = edges.keys().map(|k| (k, reach(k))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (a, from_a) in &reached {
        let mut circle: Vec<String> = from_a
            .iter()
            .filter(|b| reached.get(b).is_some_and(|from_b| from_b.contains(*a)))
            .cloned()
            .collect();
        if circle.len() > 1 || circle.iter().any(|b| b != *a) {
            circle.sort();
            if !out.contains(&circle) {
                out.push(circle);
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges = BTreeMap::new();
    walk(&root, &root, &mut edges);
    assert!(edges.len() > 20, "the source tree was read: {} modules", edges.len());
    assert_eq!(circles(&edges), Vec::<Vec<String>>::new(), "import circles");
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in
        [("domain", "oauth::scope"), ("oauth::scope", "error"), ("error", "store"), ("store", "domain")]
    {
        edges.entry(a.into()).or_default().insert(b.into());
    }
    edges.entry("config".into()).or_default().insert("domain".into());
    let found = circles(&edges);
    assert_eq!(found, vec![vec!["domain", "error", "oauth::scope", "store"]]);
    assert_eq!(
        targets("use crate::oauth::{self, Scope, tokens};"),
        BTreeSet::from(["oauth".into(), "oauth::tokens".into()])
    );
}
