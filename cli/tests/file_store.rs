//! `--store file:PATH`: the persistent embedded store, shared at once by a
//! running `zeroauth serve` and the operator commands, kept across restarts
//! and across a killed server, and refusing files that are not its own.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use zeroauth_shared::oauth::tokens;
use zeroauth_shared::store::file::FileStore;
use zeroauth_shared::store::{ClientStore, TokenStore};

fn zeroauth(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zeroauth"));
    c.env("ZEROAUTH_STORE", format!("file:{}", store.display()))
        .env_remove("ZEROAUTH_SIGNING_KEY")
        .env_remove("ZEROAUTH_ISSUER")
        .env_remove("ZEROAUTH_TABLE");
    c
}

fn run(store: &Path, args: &[&str]) -> Output {
    zeroauth(store).args(args).stdin(Stdio::null()).output().expect("run zeroauth")
}

fn json(store: &Path, args: &[&str]) -> Value {
    let out = run(store, args);
    assert!(out.status.success(), "zeroauth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The last line of stderr of a command that must fail.
fn fails(store: &Path, args: &[&str]) -> String {
    let out = run(store, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "zeroauth {args:?} should fail");
    let last = err.trim_end().lines().last().unwrap_or("").to_owned();
    assert!(last.starts_with("zeroauth: "), "one plain sentence on stderr: {err}");
    last
}

fn temp_dir(name: &str) -> PathBuf {
    let rand = zeroauth_shared::crypto::random_string(9).expect("randomness");
    let dir = std::env::temp_dir().join(format!("zeroauth-{name}-{rand}"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// A running `zeroauth serve`, killed on drop.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &Path) -> Served {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let mut child = zeroauth(store)
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start zeroauth serve");
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in reader.lines() {
        let line = line.expect("a line");
        if line.contains("Stop it with Ctrl-C") || Instant::now() > deadline {
            break;
        }
    }
    Served { child, base: format!("http://127.0.0.1:{port}") }
}

async fn post(base: &str, path: &str, id: &str, secret: &str, body: String) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn token(base: &str, id: &str, secret: &str) -> (u16, Value) {
    post(base, "/token", id, secret, "grant_type=client_credentials".into()).await
}

fn machine_client(store: &Path) -> (String, String) {
    // The RFC name of the grant is accepted as well as `client-credentials`.
    let c = json(store, &["client", "create", "--name", "Batch", "--grant", "client_credentials", "--json"]);
    let field = |k: &str| c[k].as_str().unwrap_or_else(|| panic!("no {k} in {c}")).to_owned();
    (field("client_id"), field("client_secret"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_sees_what_the_cli_registers_and_keeps_it_across_restarts() {
    let store = temp_dir("file-store").join("zeroauth.db");
    let first = serve(&store);
    let (id, secret) = machine_client(&store);
    let (status, body) = token(&first.base, &id, &secret).await;
    assert_eq!(status, 200, "the running server sees the new client at once: {body}");
    let access = body["access_token"].as_str().expect("an access token").to_owned();
    drop(first);

    let second = serve(&store);
    let (status, seen) = post(&second.base, "/introspect", &id, &secret, format!("token={access}")).await;
    assert_eq!(status, 200);
    assert_eq!(seen["active"], true, "a token issued before the restart is still live: {seen}");
    let listed = json(&store, &["client", "list", "--json"]);
    assert_eq!(listed["clients"][0]["client_id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_mid_burst_loses_no_committed_token() {
    let store = temp_dir("file-kill").join("zeroauth.db");
    let (id, secret) = machine_client(&store);
    let mut user = zeroauth(&store)
        .args(["user", "create", "--username", "walker", "--password-stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run zeroauth user create");
    user.stdin.take().map(|mut s| s.write_all(b"walker-password\n")).transpose().expect("write the password");
    assert!(user.wait().expect("user create").success());
    let mut served = serve(&store);
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (base, id, secret) = (served.base.clone(), id.clone(), secret.clone());
        burst.spawn(async move {
            let mut issued = Vec::new();
            loop {
                match token(&base, &id, &secret).await {
                    (200, body) => issued.extend(body["access_token"].as_str().map(str::to_owned)),
                    _ => return issued,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    served.child.kill().expect("kill the server");
    let _ = served.child.wait();
    let mut issued = Vec::new();
    while let Some(done) = burst.join_next().await {
        issued.extend(done.expect("a request loop"));
    }
    assert!(
        issued.len() > 10,
        "the burst was under way when the server was killed ({} tokens)",
        issued.len()
    );

    let reopened = FileStore::open(&store).unwrap_or_else(|e| panic!("{e}"));
    let now = zeroauth_shared::clock::Clock::now(&zeroauth_shared::clock::SystemClock);
    for t in &issued {
        let found = reopened.get_access_token(&tokens::digest(t), now).await.expect("a read");
        assert!(found.is_some(), "a token the server answered 200 for was lost");
    }
    assert!(reopened.get_client(&id).await.expect("a read").is_some(), "the client is kept");
    let walker = zeroauth_shared::admin::find_user(&reopened, "walker").await.expect("a read");
    assert!(walker.is_some(), "the person is kept");
}

#[test]
fn files_that_are_not_a_store_are_refused_untouched() {
    let dir = temp_dir("file-bad");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database\n").expect("write");
    let foreign = dir.join("other.db");
    let made = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()",
        ])
        .arg(&foreign)
        .status()
        .expect("python3 is needed to make a foreign SQLite file");
    assert!(made.success());
    let foreign_bytes = std::fs::read(&foreign).expect("read");

    let err = fails(&text, &["client", "list"]);
    assert!(err.contains("not a ZeroAuth store"), "{err}");
    assert_eq!(std::fs::read_to_string(&text).expect("read"), "not a database\n", "left untouched");
    let err = fails(&foreign, &["client", "list"]);
    assert!(err.contains("not a ZeroAuth store"), "{err}");
    assert_eq!(std::fs::read(&foreign).expect("read"), foreign_bytes, "left untouched");
    let err = fails(&dir, &["client", "list"]);
    assert!(err.contains("is a directory"), "{err}");
    let err = fails(&dir.join("missing/zeroauth.db"), &["client", "list"]);
    assert!(err.contains("cannot open or create"), "{err}");
    let out = run(&dir.join("x.db"), &["client", "list", "--store", "sqlite:x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("use memory, file:PATH or dynamodb"), "{err}");
}

#[test]
fn a_store_locked_by_another_process_is_refused_with_a_sentence() {
    let store = temp_dir("file-locked").join("zeroauth.db");
    json(&store, &["table", "create", "--json"]);
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); \
             c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)",
        ])
        .arg(&store)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed to hold a lock");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout")).read_line(&mut line).expect("the lock is held");
    let err = fails(&store, &["client", "list"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(err.contains("locked by another process"), "{err}");
    assert!(
        json(&store, &["client", "list", "--json"])["clients"].is_array(),
        "usable once the lock is gone"
    );
}
