//! The file-backed store: one SQLite database (SQLite bundled, nothing to
//! install), so a laptop or a small VM keeps its clients, people and tokens
//! across restarts.
//!
//! SQLite rather than redb: a running `zeroauth serve` and an operator
//! command such as `zeroauth client create` open the same file at once,
//! which SQLite's file locking allows and redb's exclusive lock does not.
//! Each method is one transaction; the atomic writes (code redemption,
//! refresh rotation, counters) are `BEGIN IMMEDIATE` transactions that read,
//! decide with the same verdicts as the other stores, and write. In WAL mode
//! a committed transaction survives the process being killed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, StoreResult};

mod factors;
mod federation;
mod flows;
mod impls;
mod people;

/// Marks a database as a ZeroAuth store of this layout.
const FORMAT: &str = "zeroauth-file-store-1";
const CLIENTS: &str = "clients";
/// People as an earlier release kept them (by username, with the
/// password); moved to the three tables below when the file is opened.
const USERS: &str = "users";
const PEOPLE: &str = "people";
const IDENTIFIERS: &str = "identifiers";
const CREDENTIALS: &str = "credentials";
const CODES: &str = "codes";
const GRANTS: &str = "grants";
const ACCESS: &str = "access_tokens";
const COUNTERS: &str = "counters";
const RESOURCES: &str = "resources";
const CLIENT_ALIASES: &str = "client_aliases";
const API_KEYS: &str = "api_keys";
/// Self-service flows and their challenges; a file of an earlier release
/// gains the tables when it is opened.
const FLOWS: &str = "flows";
const CHALLENGES: &str = "challenges";
/// Upstream providers and sign-in states through them; likewise added to
/// a file of an earlier release.
const PROVIDERS: &str = "providers";
const UPSTREAM_STATES: &str = "upstream_states";
/// Second-factor ceremonies in progress; likewise added to a file of an
/// earlier release.
const CEREMONIES: &str = "ceremonies";
/// Every item table: `id`, `expires_at` (NULL: never), `body` (JSON).
const TABLES: [&str; 17] = [
    CLIENTS,
    USERS,
    CODES,
    GRANTS,
    ACCESS,
    COUNTERS,
    RESOURCES,
    CLIENT_ALIASES,
    API_KEYS,
    PEOPLE,
    IDENTIFIERS,
    CREDENTIALS,
    FLOWS,
    CHALLENGES,
    PROVIDERS,
    UPSTREAM_STATES,
    CEREMONIES,
];
/// Expired rows are swept after this many writes, at most this many per table.
const SWEEP_EVERY: u64 = 256;
const SWEEP_BATCH: u32 = 1000;

/// A [`Store`](super::Store) in one SQLite file.
pub struct FileStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    writes: AtomicU64,
}

/// Why a store file could not be opened, as one sentence for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(String);

/// A busy or locked file (another writer held it past the busy timeout) is
/// worth retrying; anything else is not.
fn backend(e: rusqlite::Error) -> StoreError {
    match code_of(&e) {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("the store file is busy: {e}"))
        }
        _ => StoreError::Backend(format!("the store file failed: {e}")),
    }
}

fn code_of(e: &rusqlite::Error) -> Option<ErrorCode> {
    e.sqlite_error_code()
}

impl FileStore {
    /// Opens the store at `path`, creating it when the file does not exist.
    /// A file that is not a ZeroAuth store is refused untouched.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display();
        if path.is_dir() {
            return Err(OpenError(format!("{shown} is a directory; give the path of a store file")));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| OpenError(format!("cannot open or create the store file {shown}: {e}")))?;
        let explain = |e: rusqlite::Error| match code_of(&e) {
            Some(ErrorCode::NotADatabase) => {
                OpenError(format!("{shown} is not a ZeroAuth store (not a SQLite database)"))
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError(format!(
                "the store file {shown} is locked by another process; stop it or use another path"
            )),
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                OpenError(format!("the store file {shown} cannot be written: {e}"))
            }
            _ => OpenError(format!("the store file {shown} cannot be used: {e}")),
        };
        conn.busy_timeout(Duration::from_secs(5)).map_err(explain)?;
        // Read before anything is written, so a foreign file stays untouched.
        let tables: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(explain)?;
        if tables > 0 {
            let format: Option<String> = conn
                .query_row("SELECT value FROM zeroauth_meta WHERE key = 'format'", [], |r| r.get(0))
                .optional()
                .unwrap_or(None);
            if format.as_deref() != Some(FORMAT) {
                return Err(OpenError(format!(
                    "{shown} is a SQLite database but not a ZeroAuth store; give another path"
                )));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(explain)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(explain)?;
        conn.execute_batch(&schema()).map_err(explain)?;
        people::move_legacy(&conn)
            .map_err(|e| OpenError(format!("cannot move {shown}'s people to the new records: {e}")))?;
        Ok(Self { conn: Mutex::new(conn), path: path.to_owned(), writes: AtomicU64::new(0) })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Every method's writes are one transaction, rolled back if it does not
        // commit, so a panic elsewhere cannot leave the connection half-written.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a write and, every [`SWEEP_EVERY`], deletes expired rows so the
    /// file stays proportional to live items.
    fn wrote(&self, conn: &Connection, now: i64) {
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        for table in [CODES, GRANTS, ACCESS, COUNTERS, FLOWS, CHALLENGES, UPSTREAM_STATES, CEREMONIES] {
            let sql = format!(
                "DELETE FROM {table} WHERE rowid IN \
                 (SELECT rowid FROM {table} WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)"
            );
            if let Err(e) = conn.execute(&sql, params![now, SWEEP_BATCH]) {
                tracing::warn!(error = %e, table, "could not sweep expired rows");
            }
        }
    }
}

fn schema() -> String {
    let mut sql = String::from(
        "BEGIN IMMEDIATE;\
         CREATE TABLE IF NOT EXISTS zeroauth_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    );
    for t in TABLES {
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, expires_at INTEGER, body TEXT NOT NULL);\
             CREATE INDEX IF NOT EXISTS {t}_expiry ON {t} (expires_at);"
        ));
    }
    sql.push_str(&format!(
        "INSERT OR IGNORE INTO zeroauth_meta (key, value) VALUES ('format', '{FORMAT}');COMMIT;"
    ));
    sql
}

/// The row's record when it is live at `now` (`None`: ignore expiry).
fn get<T: DeserializeOwned>(
    conn: &Connection,
    table: &str,
    id: &str,
    now: Option<i64>,
) -> StoreResult<Option<T>> {
    let sql = format!(
        "SELECT body FROM {table} WHERE id = ?1 AND (expires_at IS NULL OR ?2 IS NULL OR expires_at > ?2)"
    );
    let body: Option<String> =
        conn.query_row(&sql, params![id, now], |r| r.get(0)).optional().map_err(backend)?;
    body.map(|b| {
        serde_json::from_str(&b).map_err(|e| StoreError::Backend(format!("a {table} row is malformed: {e}")))
    })
    .transpose()
}

/// How [`put`] treats an existing row.
#[derive(Clone, Copy)]
enum Put {
    /// Fail with `Conflict` if the id exists.
    New,
    /// Fail with `NotFound` unless the id exists.
    Existing,
    /// Insert or replace.
    Any,
}

fn put<T: Serialize>(
    conn: &Connection,
    table: &str,
    id: &str,
    expires_at: Option<i64>,
    value: &T,
    mode: Put,
) -> StoreResult<()> {
    let body = serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    let what = || format!("{} {id}", table.trim_end_matches('s'));
    let sql = match mode {
        Put::New => format!("INSERT INTO {table} (id, expires_at, body) VALUES (?1, ?2, ?3)"),
        Put::Existing => format!("UPDATE {table} SET expires_at = ?2, body = ?3 WHERE id = ?1"),
        Put::Any => format!("INSERT OR REPLACE INTO {table} (id, expires_at, body) VALUES (?1, ?2, ?3)"),
    };
    match conn.execute(&sql, params![id, expires_at, body]) {
        Ok(0) if matches!(mode, Put::Existing) => Err(StoreError::NotFound(what())),
        Ok(_) => Ok(()),
        Err(e) if code_of(&e) == Some(ErrorCode::ConstraintViolation) => Err(StoreError::Conflict(what())),
        Err(e) => Err(backend(e)),
    }
}

fn delete(conn: &Connection, table: &str, id: &str) -> StoreResult<bool> {
    conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id]).map(|n| n > 0).map_err(backend)
}

fn list<T: DeserializeOwned>(conn: &Connection, table: &str) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare(&format!("SELECT body FROM {table} ORDER BY id")).map_err(backend)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
    rows.map(|b| {
        let b = b.map_err(backend)?;
        serde_json::from_str(&b).map_err(|e| StoreError::Backend(format!("a {table} row is malformed: {e}")))
    })
    .collect()
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f`
/// returns `Ok((value, true))`, rolled back otherwise.
fn atomically<T>(
    store: &FileStore,
    now: i64,
    f: impl FnOnce(&Connection) -> StoreResult<(T, bool)>,
) -> StoreResult<T> {
    let mut conn = store.lock();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let (value, commit) = f(&tx)?;
    if commit {
        tx.commit().map_err(backend)?;
        store.wrote(&conn, now);
    }
    Ok(value)
}
