//! The Lambda adapter: turns API Gateway events (through `lambda_http`) into
//! plain requests for the router, whatever shape the body arrived in, and
//! prepares everything a function needs at cold start.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, RequestExt, service_fn};

use crate::app::App;
use crate::config::{Config, parse_signing_key};
use crate::http::ClientIp;
use crate::keys::{KeySetDocument, Keys};
use crate::router::{Function, Mount, route};
use crate::secret::SigningKey;
use crate::store::dynamodb::DynamoStore;

/// A request from API Gateway, as the router takes it, and the domain name
/// API Gateway says it was sent to.
pub fn from_lambda(req: lambda_http::Request) -> (crate::http::Request, Option<String>) {
    let (ip, domain) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => (c.http.source_ip.clone(), c.domain_name.clone()),
        Some(RequestContext::ApiGatewayV1(c)) => (c.identity.source_ip.clone(), c.domain_name.clone()),
        _ => (None, None),
    };
    let (parts, body) = req.into_parts();
    // lambda_http has already decoded a base64 body; text and binary are both bytes here.
    let bytes = match body {
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    let mut out = http::Request::from_parts(parts, bytes);
    if let Some(ip) = ip.and_then(|s| s.parse().ok()) {
        out.extensions_mut().insert(ClientIp(ip));
    }
    (out, domain)
}

/// Runs one function's routes on the Lambda runtime until it stops.
///
/// When `ZEROAUTH_ISSUER` was not configured, the issuer is
/// `https://<domain>` of the API Gateway domain the request came through
/// (set by API Gateway, not by the caller).
pub async fn run(app: App, function: Function) -> Result<(), Error> {
    let issuer_from_request = std::env::var("ZEROAUTH_ISSUER").is_err();
    let by_domain: Arc<Mutex<Option<(String, App)>>> = Arc::new(Mutex::new(None));
    lambda_http::run(service_fn(move |req: lambda_http::Request| {
        let (req, domain) = from_lambda(req);
        let app = match (issuer_from_request, domain) {
            (true, Some(d)) => app_for_domain(&by_domain, &app, &d),
            _ => app.clone(),
        };
        async move {
            let res = route(&app, Mount::Only(function), req).await;
            Ok::<_, Error>(res.map(Body::Text))
        }
    }))
    .await
}

fn app_for_domain(cache: &Mutex<Option<(String, App)>>, base: &App, domain: &str) -> App {
    let mut slot = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, app)) = slot.as_ref().filter(|(d, _)| d == domain) {
        return app.clone();
    }
    let mut config = (*base.config).clone();
    config.issuer = format!("https://{domain}");
    let app = App { config: Arc::new(config), ..base.clone() };
    *slot = Some((domain.to_owned(), app.clone()));
    app
}

/// Everything a function needs at cold start: tracing, configuration, the
/// DynamoDB store, the key set (private for the token function, which signs
/// tokens; published for the others, which only verify) and — for the two
/// functions that sign the sign-in state — the HMAC key. They are read and
/// a first DynamoDB call made at the same time, so the connection is ready
/// before the first request (Lambda gives init a full CPU). A key or key set
/// that is missing, unreadable or malformed stops the function with one
/// line naming it.
pub async fn init(function: Function) -> Result<App, Error> {
    crate::init_tracing(true);
    crate::aws_calls::as_process(function);
    let sdk = crate::store::dynamodb::sdk_config().await;
    let table = std::env::var("ZEROAUTH_TABLE").unwrap_or_else(|_| "zeroauth".into());
    let store = DynamoStore::new(crate::store::dynamodb::client(&sdk), table);
    let signs = matches!(function, Function::Authorize | Function::Callback);
    let skip_warm_up = std::env::var("ZEROAUTH_SKIP_WARM_UP").is_ok_and(|v| v == "1");
    let (warm, key, keys) = tokio::join!(
        async { if skip_warm_up { Ok(()) } else { store.warm_up().await } },
        async { if signs { signing_key(&sdk).await } else { unused_key() } },
        key_set(&sdk, function)
    );
    if let Err(e) = warm {
        tracing::warn!(error = %e, "could not reach DynamoDB during init; the first request will try again");
    }
    let refuse = |e: String| {
        tracing::error!("{e}");
        Error::from(e)
    };
    let mut config = Config::from_env_with_key(key.map_err(refuse)?)?;
    config.keys = keys.map_err(refuse)?;
    config.table = store.table().to_owned();
    // A function that sends mail (the callback) sets its mailer on the app
    // itself (`App::with_mailer`): the rest send nothing. The callback, which
    // alone calls upstream providers, reads their secrets from SSM.
    let app = App::new(Arc::new(store), config);
    Ok(match (function, std::env::var("ZEROAUTH_PROVIDER_SECRET_PREFIX")) {
        (Function::Callback, Ok(prefix)) => app.with_secrets(Arc::new(SsmSecrets {
            client: ssm_client(&sdk),
            prefix,
            kept: Mutex::default(),
        })),
        _ => app,
    })
}

/// The providers' client secrets, each an SSM SecureString
/// `<ZEROAUTH_PROVIDER_SECRET_PREFIX><id>`, read on first use and kept for
/// five minutes (a rotated secret reaches warm instances within that).
struct SsmSecrets {
    client: aws_sdk_ssm::Client,
    prefix: String,
    kept: Mutex<std::collections::HashMap<String, (std::time::Instant, String)>>,
}

/// How long an instance keeps a provider's secret.
const SECRET_KEEP: std::time::Duration = std::time::Duration::from_secs(300);

#[async_trait::async_trait]
impl crate::federation::Secrets for SsmSecrets {
    async fn provider_secret(&self, id: &str) -> Result<Option<String>, String> {
        if let Some((at, s)) = self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(id)
            && at.elapsed() < SECRET_KEEP
        {
            return Ok(Some(s.clone()));
        }
        let name = format!("{}{id}", self.prefix);
        let value = match self.client.get_parameter().name(&name).with_decryption(true).send().await {
            Ok(out) => out.parameter.and_then(|p| p.value),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => None,
            Err(e) => {
                return Err(format!(
                    "could not read parameter {name}: {}",
                    aws_sdk_ssm::error::DisplayErrorContext(e)
                ));
            }
        };
        if let Some(v) = &value {
            let fresh = (std::time::Instant::now(), v.clone());
            self.kept.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_owned(), fresh);
        }
        Ok(value)
    }
}

/// The signing key from `ZEROAUTH_SIGNING_KEY`, or else from the SSM
/// SecureString parameter named by `ZEROAUTH_SIGNING_KEY_PARAMETER`.
async fn signing_key(sdk: &aws_config::SdkConfig) -> Result<SigningKey, String> {
    let (value, source) =
        setting(sdk, "ZEROAUTH_SIGNING_KEY", "ZEROAUTH_SIGNING_KEY_PARAMETER", "signing key").await?;
    parse_signing_key(&value).map_err(|e| format!("{source}: {e}"))
}

/// The key set: the private document for the token function (from
/// `ZEROAUTH_KEYS`, or the SSM SecureString named by
/// `ZEROAUTH_KEYS_PARAMETER`); the published JWKS for the others (from
/// `ZEROAUTH_JWKS`, or the SSM parameter named by `ZEROAUTH_JWKS_PARAMETER`;
/// a local `ZEROAUTH_KEYS` serves too).
async fn key_set(sdk: &aws_config::SdkConfig, function: Function) -> Result<Arc<Keys>, String> {
    let private = function == Function::Token || std::env::var("ZEROAUTH_KEYS").is_ok();
    if private {
        let (json, source) = setting(sdk, "ZEROAUTH_KEYS", "ZEROAUTH_KEYS_PARAMETER", "key set").await?;
        let doc = KeySetDocument::parse(&json).map_err(|e| format!("{source}: {e}"))?;
        let keys = Keys::from_document(&doc).map_err(|e| format!("{source}: {e}"))?;
        if function == Function::Token {
            return Ok(Arc::new(keys));
        }
        return Keys::from_jwks(keys.jwks()).map(Arc::new).map_err(|e| format!("{source}: {e}"));
    }
    let (json, source) =
        setting(sdk, "ZEROAUTH_JWKS", "ZEROAUTH_JWKS_PARAMETER", "published key set").await?;
    Keys::from_jwks(&json).map(Arc::new).map_err(|e| format!("{source}: {e}"))
}

/// A setting from the variable `inline`, or else from the SSM parameter the
/// variable `parameter` names (decrypted): its value and where it came from.
async fn setting(
    sdk: &aws_config::SdkConfig,
    inline: &str,
    parameter: &str,
    what: &str,
) -> Result<(String, String), String> {
    if let Ok(v) = std::env::var(inline) {
        return Ok((v, inline.to_owned()));
    }
    let Ok(name) = std::env::var(parameter) else {
        return Err(format!(
            "set {parameter} to the SSM parameter holding the {what} (or {inline} for local runs)"
        ));
    };
    let out =
        ssm_client(sdk).get_parameter().name(&name).with_decryption(true).send().await.map_err(|e| {
            format!(
                "could not read the {what} parameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        })?;
    let value =
        out.parameter.and_then(|p| p.value).ok_or_else(|| format!("parameter {name} has no value"))?;
    Ok((value, format!("parameter {name}")))
}

/// An SSM client on `sdk`, carrying the recorder of [`crate::aws_calls`]
/// when a test asks for one.
fn ssm_client(sdk: &aws_config::SdkConfig) -> aws_sdk_ssm::Client {
    let builder = aws_sdk_ssm::config::Builder::from(sdk);
    #[cfg(feature = "aws-recording")]
    let builder = match crate::aws_calls::Recorder::from_env(ssm_checks) {
        Some(recorder) => builder.interceptor(recorder),
        None => builder,
    };
    aws_sdk_ssm::Client::from_conf(builder.build())
}

/// What IAM checks for an SSM call: its action on each parameter it names
/// (`parameter/NAME`, the ARN after the account).
#[cfg(feature = "aws-recording")]
fn ssm_checks(
    meta: &aws_smithy_runtime_api::client::orchestrator::Metadata,
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Vec<crate::aws_calls::Check> {
    use aws_sdk_ssm::operation::{get_parameter::GetParameterInput, get_parameters::GetParametersInput};
    let on = |name: &str| {
        let arn = format!("parameter/{}", name.trim_start_matches('/'));
        crate::aws_calls::Check::new("ssm", meta.name(), arn)
    };
    if let Some(i) = input.downcast_ref::<GetParameterInput>() {
        return vec![on(i.name().unwrap_or("*"))];
    }
    if let Some(i) = input.downcast_ref::<GetParametersInput>() {
        return i.names().iter().map(|n| on(n)).collect();
    }
    vec![crate::aws_calls::Check::new("ssm", meta.name(), "*")]
}

/// Functions that sign nothing still need a key in their configuration; a
/// random one that is never used for anything keeps them from reading the real one.
fn unused_key() -> Result<SigningKey, String> {
    crate::crypto::random_bytes(32).map(SigningKey::new).map_err(|e| e.to_string())
}
