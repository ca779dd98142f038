//! Signing in through an upstream provider: the form's "Continue with …"
//! button names the provider; the method keeps the sign-in's state in the
//! table (under the digest of a random `state`, with the PKCE verifier and
//! the nonce, bound to this browser by the digest of a random cookie) and
//! sends the browser to the provider. `GET /federation/callback` spends
//! the state once and finishes.

use async_trait::async_trait;
use http::StatusCode;
use maud::{Markup, html};

use super::{Attempt, Fields, Method, Outcome};
use crate::app::App;
use crate::crypto;
use crate::domain::{Provider, UpstreamState};
use crate::error::OAuthError;
use crate::federation::{self, CALLBACK_PATH};
use crate::http::{Params, redirect, set_cookie, with_query};
use crate::oauth::tokens::rng;
use crate::sign_in::{cookie_attributes, cookie_name};

/// Cookie binding a sign-in through a provider to this browser (named
/// through [`cookie_name`]: `__Host-za_upstream` on an https issuer).
pub const BINDING_COOKIE: &str = "za_upstream";

/// The upstream method.
pub struct Upstream;

/// The providers `client_id`'s sign-in page offers, in id order.
pub async fn offered(app: &App, client_id: &str) -> Result<Vec<Provider>, OAuthError> {
    let all = app.store.list_providers().await.map_err(OAuthError::store("reading the providers"))?;
    Ok(all.into_iter().filter(|p| p.offered_to(client_id)).collect())
}

#[async_trait]
impl Method for Upstream {
    fn name(&self) -> &'static str {
        "upstream"
    }

    fn chosen(&self, params: &Params) -> bool {
        params.get("provider").ok().flatten().is_some()
    }

    async fn sign_in<'a>(&self, a: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError> {
        let id = a.params.get("provider")?.unwrap_or_default();
        let provider = a
            .app
            .store
            .get_provider(id)
            .await
            .map_err(OAuthError::store("reading the provider"))?
            .filter(|p| p.offered_to(&a.pending.client_id))
            .ok_or_else(|| {
                OAuthError::invalid_request("This way of signing in is not offered to this application.")
            })?;
        let endpoints =
            federation::endpoints(a.app, &provider).await.map_err(|e| unreachable(&provider, &e))?;
        let state = rng(crypto::random_string(32))?;
        let binding = rng(crypto::random_string(32))?;
        let verifier = rng(crypto::random_string(32))?;
        let nonce = if provider.kind.is_oidc() { Some(rng(crypto::random_string(32))?) } else { None };
        let now = a.now;
        let ttl = a.app.config.federation.state_ttl;
        let kept = UpstreamState {
            state: crypto::digest(&state),
            binding: crypto::digest(&binding),
            provider: provider.id.clone(),
            verifier: verifier.clone(),
            nonce: nonce.clone(),
            pending: serde_json::to_string(a.pending).map_err(OAuthError::server)?,
            created_at: now,
            expires_at: now + ttl,
        };
        a.app
            .store
            .put_upstream_state(&kept)
            .await
            .map_err(OAuthError::store("storing the sign-in's state"))?;
        let challenge = crypto::pkce_s256(&verifier);
        let callback = a.app.url(CALLBACK_PATH);
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", provider.client_id.as_str()),
            ("redirect_uri", callback.as_str()),
            ("scope", provider.scope.as_str()),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(n) = &nonce {
            pairs.push(("nonce", n));
        }
        let mut res = redirect(StatusCode::SEE_OTHER, &with_query(&endpoints.authorization, &pairs));
        // Lax: the provider sends the browser back with a top-level GET.
        let attrs = cookie_attributes(a.app, ttl, "Lax");
        set_cookie(&mut res, &format!("{}={binding}; {attrs}", cookie_name(a.app, BINDING_COOKIE)));
        Ok(Outcome::Elsewhere(res))
    }

    /// The buttons come after the form's own (so Enter in a password field
    /// never picks a provider): the page lays them out from [`Fields`].
    fn fields(&self, _view: &Fields<'_>) -> Markup {
        html! {}
    }
}

/// A provider that cannot be reached or misbehaved: a page saying so
/// (logged, as a warning, where the router answers it).
pub fn unreachable(provider: &Provider, e: &federation::Failed) -> OAuthError {
    OAuthError::new(
        crate::error::ErrorCode::UpstreamFailed,
        format!("Signing in with {} did not work ({e}). Try again, or sign in another way.", provider.name),
    )
    .with_cause(format!("provider {}: {e}", provider.id))
}

/// The provider buttons of a sign-in page.
pub fn buttons(providers: &[Provider]) -> Markup {
    html! {
        @if !providers.is_empty() {
            div.providers role="group" aria-label="Other ways to sign in" {
                p.or { "or" }
                @for p in providers {
                    button type="submit" name="provider" value=(p.id) formnovalidate class="provider" {
                        @if let Some(icon) = &p.icon { img src=(icon) alt="" width="20" height="20"; }
                        "Continue with " (p.name)
                    }
                }
            }
        }
    }
}
