//! `zeroauth user import FILE`: people from another server, line by line,
//! with progress and a line number on every error.

use std::io::{BufRead, BufReader};

use serde_json::json;
use zeroauth_shared::admin::{LineOutcome, import_line};
use zeroauth_shared::sign_in::hashes::Scheme;
use zeroauth_shared::store::Store;

use crate::now;

fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::Argon2id | Scheme::Argon2 => "argon2",
        Scheme::Bcrypt => "bcrypt",
        Scheme::Pbkdf2Sha256 => "PBKDF2-SHA256",
        Scheme::Scrypt => "scrypt",
    }
}

/// Imports every line; fails (after trying them all) if any line failed.
pub(crate) async fn import(
    store: &dyn Store,
    file: std::path::PathBuf,
    json_out: bool,
) -> Result<(), String> {
    let shown = file.display().to_string();
    let reader: Box<dyn BufRead> = if shown == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(&file).map_err(|e| format!("cannot read {shown}: {e}"))?;
        Box::new(BufReader::new(f))
    };
    let (mut imported, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| format!("{shown}: line {n} cannot be read: {e}"))?;
        match import_line(store, &line, now()).await {
            None => {}
            Some(LineOutcome::Imported(user, scheme)) => {
                if !json_out {
                    println!(
                        "line {n}: imported {user} ({}; rehashed to argon2id at their next sign-in)",
                        scheme_name(scheme)
                    );
                }
                imported.push(json!({ "line": n, "username": user, "hash": scheme_name(scheme) }));
            }
            Some(LineOutcome::Skipped(user)) => {
                if !json_out {
                    println!("line {n}: skipped {user}: already in the store");
                }
                skipped.push(json!({ "line": n, "username": user }));
            }
            Some(LineOutcome::Failed(why)) => {
                if !json_out {
                    eprintln!("line {n}: error: {why}");
                }
                failed.push(json!({ "line": n, "error": why }));
            }
        }
    }
    let summary = format!(
        "Imported {}, skipped {} already there, {} line(s) failed.",
        imported.len(),
        skipped.len(),
        failed.len()
    );
    if json_out {
        println!("{}", json!({ "imported": imported, "skipped": skipped, "errors": failed }));
    } else {
        println!("{summary}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{shown}: {} line(s) were not imported; fix them and run the import again", failed.len()))
    }
}
