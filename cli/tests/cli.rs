//! The `zeroauth` command against DynamoDB Local, as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zeroauth_shared::domain::GrantType;
use zeroauth_shared::testing::endpoint;

/// A `zeroauth` invocation on its own table in DynamoDB Local.
struct Cli {
    table: String,
    endpoint: String,
}

impl Cli {
    fn new() -> Self {
        let table = format!("zeroauth-cli-{}", zeroauth_shared::crypto::random_string(9).unwrap());
        Self { table, endpoint: endpoint() }
    }

    fn with_table() -> Self {
        let cli = Self::new();
        let out = cli.run(&["table", "create"], None);
        assert!(out.status.success(), "{}", stderr(&out));
        cli
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_zeroauth"));
        c.env("ZEROAUTH_TABLE", &self.table)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env_remove("ZEROAUTH_SIGNING_KEY")
            .env_remove("ZEROAUTH_ISSUER");
        c
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run zeroauth");
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "zeroauth {args:?} failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(&out)))
    }

    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(!out.status.success(), "zeroauth {args:?} should fail: {}", stdout(&out));
        let err = stderr(&out);
        let last = err.trim_end().lines().last().unwrap_or("").to_owned();
        assert!(last.starts_with("zeroauth: "), "an error ends in one plain sentence on stderr: {err}");
        last
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn table_create_makes_the_table_once() {
    let cli = Cli::new();
    let v = cli.json(&["table", "create", "--json"], None);
    assert_eq!(v["table"], cli.table.as_str());
    assert_eq!(v["ttl_attribute"], "expires_at");
    let err = cli.fails(&["table", "create"], None);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn missing_table_says_how_to_create_it() {
    let cli = Cli::new();
    let err = cli.fails(&["client", "list"], None);
    assert!(err.contains("does not exist") && err.contains("zeroauth table create"), "{err}");
}

#[test]
fn unreachable_dynamodb_says_so() {
    let mut cli = Cli::new();
    cli.endpoint = "http://127.0.0.1:9".into();
    let err = cli.fails(&["client", "list"], None);
    assert!(err.contains("cannot reach DynamoDB"), "{err}");
}

#[test]
fn client_lifecycle_in_json() {
    let cli = Cli::with_table();
    let created = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Web App",
            "--redirect-uri",
            "https://app.example/cb",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--grant",
            "authorization-code",
            "--grant",
            "refresh-token",
            "--scope",
            "openid email",
            "--trusted",
            "--json",
        ],
        None,
    );
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("za_cs_"));
    assert_eq!(created["trusted"], true);
    assert_eq!(created["redirect_uris"].as_array().unwrap().len(), 2);

    let listed = cli.json(&["client", "list", "--json"], None);
    assert_eq!(listed["clients"][0]["client_id"], id.as_str());
    assert!(listed["clients"][0].get("client_secret").is_none(), "list never shows secrets");
    let shown = cli.json(&["client", "show", &id, "--json"], None);
    assert_eq!(shown["scope"], "openid email");

    let rotated = cli.json(&["client", "rotate-secret", &id, "--json"], None);
    assert_ne!(rotated["client_secret"], secret.as_str());
    assert_eq!(cli.json(&["client", "delete", &id, "--json"], None)["deleted"], true);
    let err = cli.fails(&["client", "show", &id], None);
    assert!(err.contains("there is no client"), "{err}");
}

#[test]
fn client_commands_in_plain_words() {
    let cli = Cli::with_table();
    let out = cli.run(&["client", "create", "--name", "Batch Job", "--grant", "client-credentials"], None);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("Created client")
            && text.contains("client secret: za_cs_")
            && text.contains("not shown again")
    );
    let list = stdout(&cli.run(&["client", "list"], None));
    assert!(list.contains("Batch Job") && list.contains("client_credentials"), "{list}");
    let public = cli.run(
        &["client", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb", "--public"],
        None,
    );
    assert!(public.status.success(), "{}", stderr(&public));
    let public = stdout(&public);
    assert!(public.contains("Created client") && public.contains("type: public"), "{public}");
    assert!(!public.contains("client secret"), "public clients have none: {public}");
}

#[test]
fn client_create_refuses_bad_input_with_a_sentence() {
    let cli = Cli::with_table();
    let err =
        cli.fails(&["client", "create", "--name", "X", "--redirect-uri", "http://app.example/cb"], None);
    assert!(err.contains("must use https"), "{err}");
    let err = cli.fails(&["client", "create", "--name", "X"], None);
    assert!(err.contains("needs at least one --redirect-uri"), "{err}");
    let err =
        cli.fails(&["client", "create", "--name", "X", "--public", "--grant", "client-credentials"], None);
    assert!(err.contains("public client"), "{err}");
}

#[test]
fn user_lifecycle_in_json_and_words() {
    let cli = Cli::with_table();
    let u = cli.json(
        &[
            "user",
            "create",
            "--username",
            "Alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice A",
            "--password-stdin",
            "--json",
        ],
        Some("a long password\n"),
    );
    assert_eq!(u["username"], "alice");
    assert!(u.get("password_hash").is_none(), "no hash in the output");
    let err =
        cli.fails(&["user", "create", "--username", "alice", "--password-stdin"], Some("another password"));
    assert!(err.contains("already exists"), "{err}");
    let list = stdout(&cli.run(&["user", "list"], None));
    assert!(list.contains("alice") && list.contains("alice@example.com"), "{list}");
    assert_eq!(
        cli.json(&["user", "set-password", "alice", "--password-stdin", "--json"], Some("a newer password"))
            ["password_set"],
        true
    );
    assert_eq!(cli.json(&["user", "disable", "alice", "--json"], None)["disabled"], true);
    assert!(stdout(&cli.run(&["user", "list"], None)).contains("[disabled]"));
    assert!(stdout(&cli.run(&["user", "delete", "alice"], None)).contains("Deleted user alice"));
    let err = cli.fails(&["user", "delete", "alice"], None);
    assert!(err.contains("there is no user"), "{err}");
}

#[test]
fn user_create_needs_a_password_on_stdin() {
    let cli = Cli::with_table();
    let err = cli.fails(&["user", "create", "--username", "bob", "--password-stdin"], Some(""));
    assert!(err.contains("standard input"), "{err}");
    let err = cli.fails(&["user", "create", "--username", "bob", "--password-stdin"], Some("short"));
    assert!(err.contains("at least 8"), "{err}");
    let out = cli.run(&["user", "create", "--username", "bob"], None);
    assert!(!out.status.success(), "--password-stdin is required");
}

/// A running `zeroauth serve`, killed on drop.
struct Served {
    child: Child,
    base: String,
    stdout_lines: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(cli: &Cli, args: &[&str], until: &str) -> Served {
    let port = free_port();
    let mut child = cli
        .command()
        .args(["serve", "--port", &port.to_string()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start zeroauth serve");
    let mut lines = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in reader.lines() {
        let line = line.unwrap();
        let done = line.contains(until);
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    Served { child, base: format!("http://localhost:{port}"), stdout_lines: lines }
}

/// A `client_credentials` request to a running server: (status, body).
async fn client_credentials(base: &str, id: &str, secret: &str) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_without_flags_prints_a_demo_that_works() {
    let cli = Cli::new();
    let s = serve(&cli, &[], "Stop it with Ctrl-C");
    let out = s.stdout_lines.join("\n");
    assert!(out.contains("Demo client: demo-client"), "{out}");
    let url = s.stdout_lines.iter().find(|l| l.trim().starts_with("http")).unwrap().trim().to_owned();
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("ZeroAuth demo app"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_with_a_seed_file_answers_client_credentials() {
    let cli = Cli::new();
    let dir = std::env::temp_dir().join(format!("zeroauth-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.toml");
    std::fs::write(
        &seed,
        r#"
[[clients]]
client_id = "batch"
client_secret = "batch-secret-0123456789"
name = "Batch"
grants = ["client_credentials"]
scope = "reports"

[[users]]
username = "alice"
password = "local-password"
"#,
    )
    .unwrap();
    let s = serve(&cli, &["--seed", seed.to_str().unwrap()], "Stop it with Ctrl-C");
    let out = s.stdout_lines.join("\n");
    assert!(out.contains("Seeded user alice") && out.contains("Seeded client batch (Batch)"), "{out}");
    assert!(!out.contains("batch-secret-0123456789"), "seeded secrets are never printed: {out}");
    let (status, body) = client_credentials(&s.base, "batch", "batch-secret-0123456789").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"scope\":\"reports\""), "{body}");
}

/// A seed file takes every name `--grant` takes: the catalogue's operator
/// names (`token-exchange`, as the README lists them) and the RFC names.
#[tokio::test(flavor = "multi_thread")]
async fn a_seed_file_takes_the_grant_names_the_cli_takes() {
    let cli = Cli::new();
    let dir = std::env::temp_dir().join(format!("zeroauth-seed-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = String::new();
    let mut ids = Vec::new();
    for g in GrantType::ALL {
        let spec = g.spec();
        for (kind, name) in [("short", spec.short), ("wire", spec.wire)] {
            let id = format!("{kind}-{}", spec.short);
            seed.push_str(&format!(
                "[[clients]]\nclient_id = \"{id}\"\nclient_secret = \"seed-secret-0123456789\"\nname = \"{id}\"\n\
                 redirect_uris = [\"http://127.0.0.1/cb\"]\ngrants = [\"{name}\"]\n\n"
            ));
            ids.push(id);
        }
    }
    seed.push_str(
        "[[clients]]\nclient_id = \"exchanger\"\nclient_secret = \"seed-secret-0123456789\"\n\
         name = \"Exchanger\"\ngrants = [\"client-credentials\", \"token-exchange\"]\nscope = \"reports\"\n",
    );
    let file = dir.join("seed.toml");
    std::fs::write(&file, seed).unwrap();
    let s = serve(&cli, &["--seed", file.to_str().unwrap()], "Stop it with Ctrl-C");
    let out = s.stdout_lines.join("\n");
    for id in &ids {
        assert!(
            out.contains(&format!("Seeded client {id} ")),
            "the seed file took client {id}'s grant: {out}"
        );
    }
    let (status, body) = client_credentials(&s.base, "exchanger", "seed-secret-0123456789").await;
    assert_eq!(status, 200, "client-credentials is client_credentials: {body}");
    let access: Value = serde_json::from_str(&body).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/token", s.base))
        .basic_auth("exchanger", Some("seed-secret-0123456789"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token={}\
             &subject_token_type=urn:ietf:params:oauth:token-type:access_token",
            access["access_token"].as_str().unwrap_or_default()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status().as_u16(),
        200,
        "token-exchange is the RFC 8693 grant: {}",
        res.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_on_dynamodb_uses_the_table_the_cli_filled() {
    let cli = Cli::with_table();
    let c =
        cli.json(&["client", "create", "--name", "Batch", "--grant", "client-credentials", "--json"], None);
    let s = serve(&cli, &["--store", "dynamodb"], "Stop it with Ctrl-C");
    let id = c["client_id"].as_str().unwrap();
    let (status, body) = client_credentials(&s.base, id, c["client_secret"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[test]
fn every_command_speaks_plain_words_without_json() {
    let cli = Cli::new();
    let ok = |args: &[&str], stdin: Option<&str>, needle: &str| {
        let out = cli.run(args, stdin);
        assert!(out.status.success(), "zeroauth {args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(needle), "zeroauth {args:?} should say {needle:?}: {text}");
        text
    };
    ok(&["table", "create"], None, "Created table");
    ok(&["client", "list"], None, "No clients yet");
    let created = ok(
        &["client", "create", "--name", "Words", "--redirect-uri", "https://w.example/cb"],
        None,
        "Created client",
    );
    let id = created.lines().nth(1).and_then(|l| l.split_whitespace().next()).unwrap().to_owned();
    ok(&["client", "show", &id], None, "confidential");
    ok(&["client", "rotate-secret", &id], None, "The old secret no longer works");
    ok(&["client", "delete", &id], None, "Deleted client");
    ok(&["user", "list"], None, "No users yet");
    ok(
        &["user", "create", "--username", "carol", "--password-stdin"],
        Some("carol's password"),
        "Created user carol",
    );
    ok(
        &["user", "set-password", "carol", "--password-stdin"],
        Some("a new password"),
        "Set the password of carol",
    );
    ok(&["user", "disable", "carol"], None, "Disabled carol");
    ok(&["user", "delete", "carol"], None, "Deleted user carol");
}

#[test]
fn keys_generate_list_and_rotate_a_key_file() {
    let cli = Cli::new();
    let dir = std::env::temp_dir()
        .join(format!("zeroauth-keys-{}", zeroauth_shared::crypto::random_string(6).unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.json");
    let file = file.to_str().unwrap();
    let made = cli.json(&["keys", "generate", "--file", file, "--json"], None);
    let keys = made["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 6, "{made}");
    assert!(keys.iter().all(|k| k.get("pkcs8").is_none()), "no private part is printed");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
    let again = cli.fails(&["keys", "generate", "--file", file], None);
    assert!(again.contains("already holds a key set") && again.contains("rotate"), "{again}");
    let active = |v: &Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["state"] == "active")
            .map(|k| k["kid"].to_string())
            .collect()
    };
    let before = active(&cli.json(&["keys", "list", "--file", file, "--json"], None));
    assert_eq!(before.len(), 3, "one active key per algorithm: {before:?}");
    let rotated = cli.json(&["keys", "rotate", "--file", file, "--json"], None);
    assert_eq!(
        rotated["keys"].as_array().unwrap().len(),
        9,
        "a retired, an active and a next key per algorithm"
    );
    let after = active(&rotated);
    assert_eq!(after.len(), 3, "one key per algorithm still signs: {rotated}");
    assert!(after.iter().all(|k| !before.contains(k)), "new keys sign: {before:?} then {after:?}");
    let words = stdout(&cli.run(&["keys", "list", "--file", file], None));
    assert!(words.contains("retired (published until its tokens expire)"), "{words}");
    let short = cli.fails(&["keys", "rotate", "--file", file, "--keep-retired", "60"], None);
    assert!(short.contains("--keep-retired must be at least"), "{short}");
    let nowhere = cli.fails(&["keys", "list"], None);
    assert!(nowhere.contains("--file FILE, or --parameter NAME"), "{nowhere}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn client_update_sets_token_options_and_refuses_bad_ones() {
    let cli = Cli::with_table();
    let c = cli.json(&["client", "create", "--name", "Api", "--grant", "client_credentials", "--json"], None);
    let id = c["client_id"].as_str().unwrap();
    assert_eq!(c["access_token_format"], "opaque");
    let updated = cli.json(
        &[
            "client",
            "update",
            id,
            "--access-token-format",
            "jwt",
            "--access-token-alg",
            "EdDSA",
            "--access-token-ttl",
            "300",
            "--json",
        ],
        None,
    );
    assert_eq!(
        (
            &updated["access_token_format"],
            &updated["access_token_signed_response_alg"],
            &updated["access_token_ttl"]
        ),
        (&json!("jwt"), &json!("EdDSA"), &json!(300))
    );
    let shown = cli.json(&["client", "show", id, "--json"], None);
    assert_eq!(shown["access_token_format"], "jwt", "stored in DynamoDB");
    let long = cli.fails(&["client", "update", id, "--access-token-ttl", "999999"], None);
    assert!(long.contains("60 to 86400 seconds"), "{long}");
    let bad =
        cli.fails(&["client", "update", id, "--post-logout-redirect-uri", "http://evil.example/"], None);
    assert!(bad.contains("post-logout redirect URI"), "{bad}");
    let missing = cli.fails(&["client", "update", "nobody", "--name", "x"], None);
    assert!(missing.contains("there is no client"), "{missing}");
}

#[test]
fn resource_lifecycle_in_json_and_words_and_bad_input_refused() {
    let cli = Cli::with_table();
    let rs = cli.json(
        &[
            "client",
            "create",
            "--name",
            "MCP server",
            "--grant",
            "client-credentials",
            "--scope",
            "mcp:tools",
            "--json",
        ],
        None,
    );
    let rs_id = rs["client_id"].as_str().unwrap().to_owned();
    let made = cli.json(
        &[
            "resource",
            "create",
            "--uri",
            "https://mcp.example.com/mcp",
            "--scope",
            "mcp:tools mcp:read",
            "--client",
            &rs_id,
            "--json",
        ],
        None,
    );
    assert_eq!(made["uri"], "https://mcp.example.com/mcp");
    assert_eq!(made["scope"], "mcp:tools mcp:read");
    assert_eq!(made["clients"], json!([rs_id]));
    let listed = cli.json(&["resource", "list", "--json"], None);
    assert_eq!(listed["resources"].as_array().map(Vec::len), Some(1));
    let words = cli.run(&["resource", "list"], None);
    assert!(
        stdout(&words).contains("https://mcp.example.com/mcp  (scopes: mcp:tools mcp:read; introspected by")
    );
    for (args, says) in [
        (vec!["resource", "create", "--uri", "https://mcp.example.com/mcp#frag"], "must not have a fragment"),
        (vec!["resource", "create", "--uri", "mcp.example.com"], "not an absolute URI"),
        (vec!["resource", "create", "--uri", "http://mcp.example.com/"], "https"),
        (vec!["resource", "create", "--uri", "https://mcp.example.com/mcp"], "already exists"),
        (
            vec!["resource", "create", "--uri", "https://b.example/", "--client", "nobody"],
            "there is no client",
        ),
        (vec!["resource", "delete", "https://nowhere.example/"], "there is no resource"),
    ] {
        let out = cli.run(&args, None);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr(&out).contains(says), "{args:?} should say {says:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "one line: {}", stderr(&out));
    }
    let deleted = cli.run(&["resource", "delete", "https://mcp.example.com/mcp"], None);
    assert!(stdout(&deleted).contains("Deleted resource https://mcp.example.com/mcp."));
    assert!(stdout(&cli.run(&["resource", "list"], None)).contains("No resources yet"));
}

#[test]
fn client_create_keeps_an_apps_old_id_secret_and_dialect() {
    let cli = Cli::with_table();
    let c = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Old App",
            "--redirect-uri",
            "https://app.example/cb",
            "--client-id",
            "4711",
            "--client-secret-stdin",
            "--code-param",
            "auth_code",
            "--access-token-field",
            "user_token",
            "--client-id-alias",
            "legacy-app",
            "--access-token-ttl",
            "631152000",
            "--refresh-token-ttl",
            "600",
            "--json",
        ],
        Some("the-old-secret-kept-as-is\n"),
    );
    assert_eq!(c["client_id"], "4711");
    assert_eq!(c["client_secret"], "the-old-secret-kept-as-is");
    assert_eq!(
        (c["code_param"].clone(), c["access_token_field"].clone()),
        (json!("auth_code"), json!("user_token"))
    );
    assert_eq!(c["client_id_aliases"], json!(["legacy-app"]));
    assert_eq!(
        (c["access_token_ttl"].clone(), c["refresh_token_ttl"].clone()),
        (json!(631_152_000), json!(600))
    );
    let shown = cli.json(&["client", "show", "legacy-app", "--json"], None);
    assert_eq!(shown["client_id"], "4711", "an alias names the client");
    let words = stdout(&cli.run(&["client", "show", "4711"], None));
    assert!(
        words.contains("code also sent as `auth_code`") && words.contains("also known as legacy-app"),
        "{words}"
    );

    let taken = cli.fails(
        &["client", "create", "--name", "Y", "--grant", "client-credentials", "--client-id-alias", "4711"],
        None,
    );
    assert!(taken.contains("already exists"), "{taken}");
    let reserved = cli.fails(
        &["client", "create", "--name", "Y", "--grant", "client-credentials", "--code-param", "state"],
        None,
    );
    assert!(reserved.contains("standard name"), "{reserved}");
    let jwt_forever = cli.fails(
        &[
            "client",
            "create",
            "--name",
            "Y",
            "--grant",
            "client-credentials",
            "--access-token-format",
            "jwt",
            "--access-token-ttl",
            "631152000",
        ],
        None,
    );
    assert!(jwt_forever.contains("JWT access-token lifetime"), "{jwt_forever}");
    // An option ZeroAuth does not know is refused, named.
    let out = cli.run(&["client", "create", "--name", "Y", "--code-paramz", "x"], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--code-paramz"), "{}", stderr(&out));
}

#[test]
fn api_keys_are_issued_listed_without_the_key_and_revoked() {
    let cli = Cli::with_table();
    let app = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Jobs",
            "--grant",
            "client-credentials",
            "--scope",
            "read:user write",
            "--json",
        ],
        None,
    );
    let id = app["client_id"].as_str().unwrap();
    cli.json(&["user", "create", "--username", "ops", "--password-stdin", "--json"], Some("ops-password-1"));
    let made = cli.json(
        &[
            "api-key",
            "create",
            "--client",
            id,
            "--user",
            "ops",
            "--scope",
            "read:user",
            "--expires",
            "30d",
            "--json",
        ],
        None,
    );
    let key = made["api_key"].as_str().unwrap();
    assert!(key.starts_with("za_ak_"), "{made}");
    assert_eq!((made["username"].clone(), made["scope"].clone()), (json!("ops"), json!("read:user")));
    let listed = cli.run(&["api-key", "list", "--json"], None);
    let text = stdout(&listed);
    assert!(text.contains(made["id"].as_str().unwrap()) && !text.contains(key), "never the key: {text}");
    let words = stdout(&cli.run(&["api-key", "list"], None));
    assert!(words.contains("for ops") && words.contains("last used never"), "{words}");
    for (args, says) in [
        (vec!["api-key", "create", "--client", id, "--scope", "admin"], "not allowed"),
        (vec!["api-key", "create", "--client", id, "--expires", "forever"], "--expires"),
        (vec!["api-key", "create", "--client", "nobody"], "no client"),
        (vec!["api-key", "create", "--client", id, "--user", "ghost"], "no active user"),
    ] {
        let err = cli.fails(&args, None);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let revoked = cli.json(&["api-key", "revoke", made["id"].as_str().unwrap(), "--json"], None);
    assert_eq!(revoked["revoked"], true);
    assert_eq!(cli.json(&["api-key", "list", "--json"], None)["api_keys"], json!([]));
    let again = cli.fails(&["api-key", "revoke", made["id"].as_str().unwrap()], None);
    assert!(again.contains("no API key"), "{again}");
}

#[test]
fn user_import_reports_every_line_and_skips_who_is_there() {
    let cli = Cli::with_table();
    let file = std::env::temp_dir()
        .join(format!("zeroauth-import-{}.jsonl", zeroauth_shared::crypto::random_string(6).unwrap()));
    std::fs::write(
        &file,
        concat!(
            r#"{"username":"ann","email":"ann@example.com","password_hash":"$2b$04$VhtHsRCztwgfZ66qxMSLluuTSxUx93yRiVRcjEol1KkedTJeV/hnC"}"#, "\n",
            "\n",
            r#"{"username":"ben","password_hash":"sha1$abc"}"#, "\n",
            r#"{"username":"cat","password_hash":"pbkdf2:sha256:1000$Zk2pV3xQ$b0d3def5083200eb22f702a987aec271b23319b53489401f169e2081de4d10d5"}"#, "\n",
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = cli.run(&["user", "import", path], None);
    assert!(!out.status.success(), "a failed line fails the command");
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(
        o.contains("line 1: imported ann (bcrypt") && o.contains("line 4: imported cat (PBKDF2-SHA256"),
        "{o}"
    );
    assert!(e.contains("line 3: error: the hash is in no supported format"), "{e}");
    assert!(e.trim_end().lines().last().unwrap().starts_with("zeroauth: "), "{e}");
    let again = cli.run(&["user", "import", path, "--json"], None);
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["imported"], json!([]));
    assert_eq!(v["skipped"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["errors"][0]["line"], 3);
    let users = cli.json(&["user", "list", "--json"], None);
    assert_eq!(users["users"].as_array().unwrap().len(), 2, "ben was never half-imported: {users}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_at_its_aliases_and_refuses_ambiguous_ones_at_start() {
    let cli = Cli::new();
    let dir = std::env::temp_dir()
        .join(format!("zeroauth-aliases-{}", zeroauth_shared::crypto::random_string(6).unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad");
    std::fs::write(&bad, "POST /oauth2/token token\nPOST /oauth2/token revoke\n").unwrap();
    let out = cli
        .command()
        .args(["serve", "--port", &free_port().to_string(), "--aliases", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("maps to two endpoints, token and revoke"), "{err}");
    let shadow = cli
        .command()
        .env("ZEROAUTH_ROUTE_ALIASES", "POST /token revoke")
        .args(["serve", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(stderr(&shadow).contains("shadows the canonical path of token"), "{}", stderr(&shadow));

    let seed = dir.join("seed.toml");
    std::fs::write(&seed, "[[clients]]\nclient_id = \"batch\"\nclient_secret = \"batch-secret-0123456789\"\nname = \"Batch\"\ngrants = [\"client_credentials\"]\ncode_paramz = \"x\"\n").unwrap();
    let typo = cli
        .command()
        .args(["serve", "--port", &free_port().to_string(), "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(stderr(&typo).contains("code_paramz"), "the unknown option is named: {}", stderr(&typo));

    std::fs::write(&seed, "[[clients]]\nclient_id = \"batch\"\nclient_secret = \"batch-secret-0123456789\"\nname = \"Batch\"\ngrants = [\"client_credentials\"]\nclient_id_aliases = [\"old-batch\"]\n").unwrap();
    let good = dir.join("good");
    std::fs::write(&good, "POST /oauth2/token token\n").unwrap();
    let s = serve(
        &cli,
        &["--aliases", good.to_str().unwrap(), "--seed", seed.to_str().unwrap()],
        "Stop it with Ctrl-C",
    );
    assert!(s.stdout_lines.join("\n").contains("Route aliases: POST /oauth2/token token"));
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", s.base))
        .basic_auth("old-batch", Some("batch-secret-0123456789"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[test]
fn user_invite_mails_a_link_and_refuses_an_address_with_an_account() {
    let cli = Cli::with_table();
    // The terminal transport prints the mail, as the local outbox does.
    let out = cli
        .command()
        .args(["user", "invite", "--email", "Ivy@Example.org"])
        .env("ZEROAUTH_MAIL", "terminal")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.to_lowercase().contains("mail to ivy@example.org"), "{text}");
    assert!(text.contains("/signup?t=invite."), "the link is in the mail: {text}");
    assert!(text.to_lowercase().contains("invited ivy@example.org"), "{text}");
    // Again before it is taken up: a new link, not an error.
    let again = cli
        .command()
        .args(["user", "invite", "--email", "ivy@example.org"])
        .env("ZEROAUTH_MAIL", "terminal")
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    cli.json(
        &["user", "create", "--username", "jo", "--email", "jo@example.org", "--password-stdin", "--json"],
        Some("a long password\n"),
    );
    let mut c = cli.command();
    let refused = c
        .args(["user", "invite", "--email", "jo@example.org"])
        .env("ZEROAUTH_MAIL", "terminal")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("has an account already"), "{}", stderr(&refused));
    let err = cli.fails(&["user", "invite", "--email", "a\r\nBcc: x@y.org"], None);
    assert!(err.contains("not valid"), "{err}");
}
