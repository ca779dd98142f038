//! The sign-in and consent page (one builder, listing the methods a
//! deployment and client allow), the sign-out pages and the error page.
//! Everything echoed is escaped by maud.

use maud::{DOCTYPE, Markup, html};

use super::methods::{Fields, Method};

/// What the sign-in page shows.
pub struct LoginPage<'a> {
    /// The client's display name.
    pub client_name: &'a str,
    /// The scopes asked for.
    pub scopes: Vec<&'a str>,
    /// Ask for consent (untrusted clients).
    pub consent: bool,
    /// Who is already signed in, when no method is asked for.
    pub signed_in_as: Option<&'a str>,
    /// A message to show above the form.
    pub error: Option<&'a str>,
    /// The signed request blob.
    pub request: &'a str,
    /// The identifier to fill in (a `login_hint`, or what was typed before).
    pub prefill: Option<&'a str>,
    /// The methods to offer, in order.
    pub methods: &'a [&'a dyn Method],
    /// Where the form posts: the callback endpoint's absolute URL, so the
    /// page works at any path that served it (an alias included).
    pub action: &'a str,
    /// For a client the operator did not register (it registered itself or
    /// named a metadata document): the host the person will be sent to.
    pub unverified_redirect_host: Option<&'a str>,
    /// Something that happened, shown above the form (a password changed).
    pub notice: Option<&'a str>,
    /// "Create an account", when the deployment lets people sign up.
    pub sign_up_url: Option<&'a str>,
    /// "Forgot your password?", when the deployment can mail a reset.
    pub reset_url: Option<&'a str>,
    /// The upstream providers offered ("Continue with …").
    pub providers: &'a [crate::domain::Provider],
}

/// The self-service links of a sign-in page carrying `sealed`: sign-up
/// (when open or by invitation: an invited person follows their link) and
/// the password reset, both returning to the same request.
pub fn self_service_urls(app: &crate::app::App, sealed: &str) -> (Option<String>, Option<String>) {
    use crate::config::self_service::SignUp;
    let policy = &app.config.self_service;
    let with = |path: &str| crate::http::with_query(&super::endpoint_url(app, path), &[("request", sealed)]);
    let sign_up = (policy.sign_up == SignUp::Open).then(|| with("/signup"));
    (sign_up, app.mail_enabled().then(|| with("/reset")))
}

/// The sign-in (and consent) page for `pending`, sealed afresh, with the
/// CSRF cookie it is bound to set when the browser had none (`csrf`: the
/// secret and whether it is new), offering the client's providers.
pub async fn sign_in_page(
    app: &crate::app::App,
    client: &crate::domain::Client,
    pending: &super::PendingRequest,
    session: Option<&crate::domain::User>,
    consent: bool,
    (csrf, new_csrf): (&str, bool),
    notice: Option<&str>,
) -> Result<crate::http::Response, crate::error::OAuthError> {
    let providers = match session {
        Some(_) => Vec::new(),
        None => super::methods::upstream::offered(app, &client.client_id).await?,
    };
    let sealed = super::sealed::seal(&app.config.signing_key, super::LOGIN_PURPOSE, pending);
    let allowed = super::methods::enabled(app, client);
    let action = super::endpoint_url(app, "/callback");
    let (sign_up_url, reset_url) = self_service_urls(app, &sealed);
    let body = login(&LoginPage {
        client_name: &client.name,
        scopes: pending.scope.iter().collect(),
        consent,
        signed_in_as: session.map(crate::domain::User::display_name),
        error: None,
        request: &sealed,
        prefill: pending.login_hint.as_deref(),
        methods: &allowed,
        action: &action,
        unverified_redirect_host: LoginPage::unverified_host(client, &pending.redirect_uri),
        notice,
        sign_up_url: sign_up_url.as_deref(),
        reset_url: reset_url.as_deref(),
        providers: &providers,
    });
    let mut res = with_script(crate::http::html(http::StatusCode::OK, body));
    if new_csrf {
        super::interaction::set_csrf_cookie(app, &mut res, csrf);
    }
    Ok(res)
}

impl<'a> LoginPage<'a> {
    /// The page for `client` and the request's redirect URI.
    pub fn unverified_host(client: &crate::domain::Client, redirect_uri: &'a str) -> Option<&'a str> {
        (client.source != crate::domain::ClientSource::Operator).then(|| redirect_host(redirect_uri))
    }
}

/// The host part of a redirect URI, or the scheme of a native app's.
fn redirect_host(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest.get(..end) {
        Some(host) if uri.contains("://") => host.rsplit_once('@').map_or(host, |(_, h)| h),
        _ => uri.split_once(':').map_or(uri, |(scheme, _)| scheme),
    }
}

/// A scope in plain words.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Confirm who you are".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        other => match other.split_once(':') {
            Some(("read", what)) => format!("Read your {}", what.replace(['_', '-'], " ")),
            Some(("write", what)) => format!("Change your {}", what.replace(['_', '-'], " ")),
            _ => format!("Use the permission “{other}”"),
        },
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:26rem;margin:8vh auto;background:#fff;border-radius:10px;padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08);overflow-wrap:anywhere}button,input{font:inherit}\
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .3rem;font-weight:600}\
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #767f91;border-radius:6px;font-size:1rem}\
ul{padding-left:1.2rem}.error{background:#fdecea;color:#8a1c12;padding:.7rem;border-radius:6px}\
.buttons{display:flex;gap:.6rem;margin-top:1.4rem}button{flex:1;padding:.7rem;border-radius:6px;font-size:1rem;cursor:pointer;border:1px solid #2456c9}\
button[value=approve],button.primary{background:#2456c9;color:#fff}button[value=deny],button.secondary{background:#fff;color:#2456c9}\
.links{display:flex;justify-content:space-between;flex-wrap:wrap;gap:.6rem;margin-top:1.2rem;font-size:.95rem}\
a{color:#2456c9}a:focus,button:focus,input:focus{outline:3px solid #1a3f99;outline-offset:2px}.hint{color:#4a5262;font-size:.9rem}\
.providers{margin-top:1.2rem}.providers .or{text-align:center;color:#4a5262;margin:.4rem 0}\
button.provider{display:flex;width:100%;align-items:center;justify-content:center;gap:.5rem;margin-top:.6rem;background:#fff;color:#2456c9}\
.notice{background:#e8f1fd;color:#173d7a;padding:.7rem;border-radius:6px}\
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}details{margin-top:1.2rem}summary{cursor:pointer}\
code.secret,ul.codes code{font-size:1.05rem;letter-spacing:.05em}ul.codes code{white-space:nowrap}ul.codes{columns:2 12rem;list-style:none;padding:0}input.code{letter-spacing:.4em;font-size:1.4rem;text-align:center}\
@media (max-width:30rem){.buttons{flex-direction:column}main{margin:0;border-radius:0;box-shadow:none;min-height:100vh;box-sizing:border-box;padding:1.5rem 1.2rem}}";

/// The passkey script, inline (its hash is in the page's policy,
/// [`with_script`]).
pub fn script() -> Markup {
    html! { script { (maud::PreEscaped(crate::factors::passkey::SCRIPT)) } }
}

/// An HTML page whose policy lets the passkey script run and ask this
/// server for options: the script's hash, `connect-src 'self'`, nothing else.
pub fn with_script(mut res: crate::http::Response) -> crate::http::Response {
    let policy = format!(
        "default-src 'none'; script-src {}; connect-src 'self'; style-src 'unsafe-inline'; img-src https:; \
         frame-ancestors 'none'; base-uri 'none'",
        crate::factors::passkey::script_hash()
    );
    if let Ok(v) = http::HeaderValue::from_str(&policy) {
        res.headers_mut().insert(http::header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A page in the sign-in pages' style.
pub(crate) fn layout(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
    .into_string()
}

/// The sign-in (and, for untrusted clients, consent) page.
pub fn login(p: &LoginPage<'_>) -> String {
    let title =
        if p.consent { format!("Allow {}?", p.client_name) } else { format!("Sign in to {}", p.client_name) };
    layout(
        &title,
        html! {
            h1 { (title) }
            @if let Some(e) = p.error { p.error role="alert" { (e) } }
            @if let Some(n) = p.notice { p.notice role="status" { (n) } }
            form method="post" action=(p.action) {
                input type="hidden" name="request" value=(p.request);
                @if let Some(user) = p.signed_in_as {
                    p { "Signed in as " strong { (user) } "." }
                } @else {
                    @for m in p.methods { (m.fields(&Fields { prefill: p.prefill })) }
                }
                @if let Some(host) = p.unverified_redirect_host {
                    p.error {
                        strong { (p.client_name) } " is not verified by this server: the application "
                        "chose that name itself. If you allow it, you will be sent to " strong { (host) } "."
                    }
                }
                @if p.consent {
                    p { strong { (p.client_name) } " would like to:" }
                    ul { @for s in &p.scopes { li { (describe_scope(s)) } } }
                }
                div.buttons {
                    button type="submit" name="decision" value="approve" { @if p.consent { "Allow" } @else { "Sign in" } }
                    button type="submit" name="decision" value="deny" formnovalidate { "Cancel" }
                }
                @if p.signed_in_as.is_none() && offers(p, super::methods::email_code::NAME) {
                    (super::methods::email_code::button())
                }
                @if p.signed_in_as.is_none() { (super::methods::upstream::buttons(p.providers)) }
            }
            @if p.signed_in_as.is_none() && offers(p, super::methods::passkey::NAME) {
                (super::methods::passkey::form(p.action, &format!("{}/passkey/options", p.action.trim_end_matches("/callback")), p.request))
                (script())
            }
            @if p.signed_in_as.is_none() && (p.sign_up_url.is_some() || p.reset_url.is_some()) {
                div.links {
                    @if let Some(u) = p.reset_url { a href=(u) { "Forgot your password?" } }
                    @if let Some(u) = p.sign_up_url { a href=(u) { "Create an account" } }
                }
            }
        },
    )
}

/// Whether the page offers the method named `name`.
fn offers(p: &LoginPage<'_>, name: &str) -> bool {
    p.methods.iter().any(|m| m.name() == name)
}

/// An error page for requests that cannot be sent back to the client.
pub fn error(message: &str) -> String {
    layout(
        "Sign-in error",
        html! {
            h1 { "This sign-in request cannot continue" }
            p.error role="alert" { (message) }
            p { "Go back to the application and start again." }
        },
    )
}

/// The sign-out confirmation: one button, posting the sealed form back.
pub fn sign_out(username: &str, request: &str, action: &str) -> String {
    layout(
        "Sign out?",
        html! {
            h1 { "Sign out?" }
            p { "You are signed in as " strong { (username) } ". Signing out ends your session in every browser." }
            form method="post" action=(action) {
                input type="hidden" name="request" value=(request);
                div.buttons { button type="submit" name="decision" value="approve" { "Sign out" } }
            }
        },
    )
}

/// A page that only says where the person stands.
pub fn signed_out(message: &str) -> String {
    layout("Signed out", html! { h1 { (message) } p { "You can close this page." } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_host_is_what_a_person_can_check() {
        assert_eq!(redirect_host("https://app.example:8443/cb?x=1"), "app.example:8443");
        assert_eq!(redirect_host("http://127.0.0.1:5123/callback"), "127.0.0.1:5123");
        assert_eq!(redirect_host("https://user@evil.example/cb"), "evil.example");
        assert_eq!(redirect_host("com.example.app:/cb"), "com.example.app");
    }

    #[test]
    fn an_unverified_client_is_named_as_such_with_its_destination() {
        let page = login(&LoginPage {
            client_name: "Claude <script>",
            scopes: vec!["mcp:tools"],
            consent: true,
            signed_in_as: None,
            error: None,
            request: "r",
            prefill: None,
            methods: &[&crate::sign_in::methods::password::Password],
            action: "https://id.example/callback",
            unverified_redirect_host: Some("claude.ai"),
            notice: None,
            sign_up_url: None,
            reset_url: None,
            providers: &[],
        });
        assert!(page.contains("is not verified by this server"));
        assert!(page.contains("<strong>claude.ai</strong>"));
        assert!(!page.contains("<script>"), "the name is escaped");
    }

    #[test]
    fn the_form_posts_to_the_callback_wherever_the_page_was_served() {
        let page = login(&LoginPage {
            client_name: "App",
            scopes: vec![],
            consent: false,
            signed_in_as: None,
            error: None,
            request: "r",
            prefill: Some("alice"),
            methods: &[&crate::sign_in::methods::password::Password],
            action: "https://id.example/callback",
            unverified_redirect_host: None,
            notice: None,
            sign_up_url: Some("https://id.example/signup?request=r"),
            reset_url: None,
            providers: &[],
        });
        assert!(page.contains(r#"action="https://id.example/callback""#), "{page}");
        assert!(page.contains(r#"value="alice""#), "the identifier is filled in");
        assert!(page.contains(r#"href="https://id.example/signup?request=r""#), "{page}");
        assert!(!page.contains("Forgot your password"), "no reset without mail");
    }
}
