//! The OAuth rules every endpoint shares, one floor below the endpoints:
//! they import only the domain, the store traits and crypto, never an endpoint.

pub mod api_keys;
pub mod claims;
pub mod client_auth;
pub mod client_metadata;
pub mod clients;
pub mod jwt;
pub mod oidc;
pub mod pkce;
pub mod presented;
pub mod prompt;
pub mod redirect_uri;
pub mod registered;
pub mod resource;
pub mod scope;
pub mod tokens;

pub use client_auth::{AuthenticatedClient, ClientCredentials};
pub use scope::Scope;
