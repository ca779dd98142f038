//! Route aliases (SPEC.md section 9): extra method + path pairs a deployment
//! maps to an endpoint, so that apps written against another server's
//! documentation (`POST /oauth2/token`, `GET /auth/login`) keep working.
//! Discovery keeps announcing the canonical paths.
//!
//! One text is the source for `zeroauth serve` (`--aliases FILE` or
//! `ZEROAUTH_ROUTE_ALIASES`), the functions (`ZEROAUTH_ROUTE_ALIASES`) and the
//! SAM template's routes (`zeroauth routes` lists what the template must
//! hold; infra/test_infra.py checks that it does). One alias per line (or
//! separated by `;`): `METHOD /path endpoint`; `#` starts a comment.

use http::Method;

use super::Endpoint;

/// One extra method + path pair and the endpoint it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAlias {
    /// `GET` or `POST`.
    pub method: Method,
    /// The path, exactly as requested (a trailing slash is ignored).
    pub path: String,
    /// The endpoint it reaches.
    pub endpoint: Endpoint,
}

/// A deployment's route aliases, checked to be unambiguous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteAliases(Vec<RouteAlias>);

/// The longest alias path accepted.
const MAX_PATH: usize = 200;

impl RouteAliases {
    /// Parses and checks alias text. The error is one line naming the
    /// offending alias: a path mapped twice, a canonical path shadowed, an
    /// unknown endpoint or method.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut aliases: Vec<RouteAlias> = Vec::new();
        for entry in text.split(['\n', ';']).map(|l| l.split('#').next().unwrap_or("").trim()) {
            if entry.is_empty() {
                continue;
            }
            let alias = parse_one(entry)?;
            if let Some(other) = aliases.iter().find(|a| a.method == alias.method && a.path == alias.path) {
                return Err(if other.endpoint == alias.endpoint {
                    format!("route alias {entry:?} is listed twice")
                } else {
                    format!(
                        "route alias {} {} maps to two endpoints, {} and {}",
                        alias.method,
                        alias.path,
                        other.endpoint.name(),
                        alias.endpoint.name()
                    )
                });
            }
            aliases.push(alias);
        }
        Ok(Self(aliases))
    }

    /// Every alias, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &RouteAlias> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The aliases at `path` (a trailing slash is ignored).
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a RouteAlias> + 'a {
        let path = trim(path);
        self.0.iter().filter(move |a| a.path == path)
    }

    /// The text form, one alias per `;`, as `ZEROAUTH_ROUTE_ALIASES` holds it.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|a| format!("{} {} {}", a.method, a.path, a.endpoint.name()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn trim(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    }
}

fn parse_one(entry: &str) -> Result<RouteAlias, String> {
    let parts: Vec<&str> = entry.split_whitespace().collect();
    let [method, path, endpoint] = parts[..] else {
        return Err(format!(
            "route alias {entry:?} must be `METHOD /path endpoint`, like `POST /oauth2/token token`"
        ));
    };
    let endpoint = Endpoint::named(endpoint).ok_or_else(|| {
        let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.name()).collect();
        format!(
            "route alias {entry:?} names an unknown endpoint {endpoint:?}; use one of {}",
            names.join(", ")
        )
    })?;
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        _ => return Err(format!("route alias {entry:?} has method {method:?}; use GET or POST")),
    };
    if !endpoint.methods().contains(&method) {
        return Err(format!("route alias {entry:?}: {} does not answer {method}", endpoint.name()));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "/-._~!$&'()*+,=:@%".contains(c);
    if !path.starts_with('/') || path.len() > MAX_PATH || path.contains("//") || !path.chars().all(ok_char) {
        return Err(format!(
            "route alias {entry:?}: the path must start with / and hold only URL path characters (at most {MAX_PATH})"
        ));
    }
    let path = trim(path);
    if let Some(canonical) = Endpoint::at(path) {
        return Err(format!("route alias {entry:?} shadows the canonical path of {}", canonical.name()));
    }
    Ok(RouteAlias { method, path: path.to_owned(), endpoint })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDS: &str = "
        GET /auth/login authorize          # iiniit
        POST /oauth2/token token
        POST /oauth2/authorize token       # iiniit's curl line
        GET /oauth2/authorize authorize    # iiniit's JavaScript
        POST /v1_3/oauth/token token; POST /oauth/token token
        GET /oauth/userinfo userinfo
        POST /v1/oauth/access_token token
    ";

    #[test]
    fn seed_aliases_parse_and_resolve_by_method_and_path() {
        let a = RouteAliases::parse(SEEDS).unwrap();
        assert_eq!(a.iter().count(), 8);
        let at = |m: Method, p: &str| a.at(p).find(|x| x.method == m).map(|x| x.endpoint);
        assert_eq!(at(Method::POST, "/oauth2/authorize"), Some(Endpoint::Token));
        assert_eq!(at(Method::GET, "/oauth2/authorize/"), Some(Endpoint::Authorize));
        assert_eq!(at(Method::GET, "/oauth2/token"), None);
        assert_eq!(RouteAliases::parse(&a.to_text()).unwrap(), a, "the env form reads back the same");
    }

    #[test]
    fn ambiguous_or_unknown_aliases_are_refused_with_one_line() {
        for (text, says) in [
            ("POST /a token\nPOST /a revoke", "maps to two endpoints, token and revoke"),
            ("POST /a token; post /a/ token", "is listed twice"),
            ("POST /token revoke", "shadows the canonical path of token"),
            ("GET /authorize/ authorize", "shadows the canonical path of authorize"),
            ("POST /a tokens", "unknown endpoint \"tokens\""),
            ("PUT /a token", "use GET or POST"),
            ("GET /a token", "token does not answer GET"),
            ("POST a token", "must start with /"),
            ("POST /a?b token", "must start with /"),
            ("POST /a", "must be `METHOD /path endpoint`"),
        ] {
            let e = RouteAliases::parse(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(RouteAliases::parse("  # nothing\n\n").unwrap().is_empty());
    }
}
