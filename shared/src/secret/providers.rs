//! Where the providers' client secrets are read from: never the table or
//! the template. On AWS each is an SSM SecureString (the Lambda adapter's
//! reader); for `serve`, a local file or the seed file, held in memory.

use std::collections::HashMap;

use async_trait::async_trait;

/// Reads a provider's client secret.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The client secret of the provider `id`, if one is kept.
    async fn provider_secret(&self, id: &str) -> Result<Option<String>, String>;
}

/// No secrets at all (a function that never calls a provider).
pub struct NoSecrets;

#[async_trait]
impl Secrets for NoSecrets {
    async fn provider_secret(&self, _id: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// Secrets held in memory, by provider id.
#[derive(Default)]
pub struct StaticSecrets(pub HashMap<String, String>);

impl std::fmt::Debug for StaticSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

#[async_trait]
impl Secrets for StaticSecrets {
    async fn provider_secret(&self, id: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(id).cloned())
    }
}

impl StaticSecrets {
    /// The secrets of a JSON file `{"provider-id": "secret", …}` (the file
    /// `zeroauth provider create` writes for `serve`).
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Self)
            .map_err(|e| format!("{} is not a JSON object of secrets: {e}", path.display()))
    }
}
