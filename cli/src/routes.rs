//! `zeroauth routes`: every method and path a deployment answers, and the
//! function that answers it, with the deployment's route aliases. The SAM
//! template's API routes must say the same (infra/test_infra.py checks it).

use clap::Args;
use http::Method;
use serde_json::json;
use zeroauth_shared::router::Endpoint;
use zeroauth_shared::router::aliases::RouteAliases;

use crate::print;

#[derive(Args)]
pub(crate) struct RoutesArgs {
    /// The route-alias file (one `METHOD /path endpoint` per line); without
    /// it, ZEROAUTH_ROUTE_ALIASES.
    #[arg(long, value_name = "FILE")]
    aliases: Option<std::path::PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The aliases from `--aliases FILE`, else `ZEROAUTH_ROUTE_ALIASES`, else none.
pub(crate) fn load(file: Option<&std::path::Path>) -> Result<RouteAliases, String> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the route-alias file {}: {e}", path.display()))?;
            RouteAliases::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        None => match std::env::var("ZEROAUTH_ROUTE_ALIASES") {
            Ok(text) => RouteAliases::parse(&text).map_err(|e| format!("ZEROAUTH_ROUTE_ALIASES: {e}")),
            Err(_) => Ok(RouteAliases::default()),
        },
    }
}

/// One row: method, path, endpoint, whether it is an alias.
fn rows(aliases: &RouteAliases) -> Vec<(Method, String, Endpoint, bool)> {
    let mut rows = Vec::new();
    for e in Endpoint::ALL {
        for m in e.methods() {
            rows.push((m.clone(), e.path().to_owned(), e, false));
        }
        if e.cors() {
            rows.push((Method::OPTIONS, e.path().to_owned(), e, false));
        }
    }
    for a in aliases.iter() {
        rows.push((a.method.clone(), a.path.clone(), a.endpoint, true));
        let preflighted = rows.iter().any(|(m, p, _, _)| m == Method::OPTIONS && *p == a.path);
        if a.endpoint.cors() && !preflighted {
            rows.push((Method::OPTIONS, a.path.clone(), a.endpoint, true));
        }
    }
    rows
}

pub(crate) fn routes(args: RoutesArgs) -> Result<(), String> {
    let aliases = load(args.aliases.as_deref())?;
    let rows = rows(&aliases);
    let v = json!({
        "routes": rows.iter().map(|(m, p, e, alias)| json!({
            "method": m.as_str(),
            "path": p,
            "endpoint": e.name(),
            "function": e.function().package(),
            "alias": alias,
        })).collect::<Vec<_>>(),
        "route_aliases": aliases.to_text(),
    });
    print(args.json, v, || {
        let mut out: Vec<String> = rows
            .iter()
            .map(|(m, p, e, alias)| {
                format!("{:<8}{p:<42}{:<28}{}", m.as_str(), e.name(), e.function().package())
                    + if *alias { "  (alias)" } else { "" }
            })
            .collect();
        out.push(format!("\nZEROAUTH_ROUTE_ALIASES={:?}", aliases.to_text()));
        out.join("\n")
    });
    Ok(())
}
