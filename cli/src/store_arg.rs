//! `--store memory|file:PATH|dynamodb` (or `ZEROAUTH_STORE`): where `serve`
//! and the operator commands keep their state.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use zeroauth_shared::store::Store;
use zeroauth_shared::store::dynamodb::DynamoStore;
use zeroauth_shared::store::file::FileStore;
use zeroauth_shared::store::memory::MemoryStore;

/// A store named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreSpec {
    /// In this process only; gone when it exits.
    Memory,
    /// A SQLite file, created on first use.
    File(PathBuf),
    /// The DynamoDB table `ZEROAUTH_TABLE` (AWS, or DynamoDB Local via `AWS_ENDPOINT_URL_DYNAMODB`).
    Dynamodb,
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "memory" => Ok(Self::Memory),
            "dynamodb" => Ok(Self::Dynamodb),
            _ => match s.strip_prefix("file:") {
                Some("") => Err("file: needs a path, e.g. file:./zeroauth.db".into()),
                Some(path) => Ok(Self::File(PathBuf::from(path))),
                None => Err(format!("{s:?} is not a store; use memory, file:PATH or dynamodb")),
            },
        }
    }
}

impl StoreSpec {
    /// Opens the store; for DynamoDB `table` is the table's name.
    pub async fn open(&self, table: String) -> Result<Arc<dyn Store>, String> {
        Ok(match self {
            Self::Memory => Arc::new(MemoryStore::new()),
            Self::File(path) => Arc::new(FileStore::open(path).map_err(|e| e.to_string())?),
            Self::Dynamodb => Arc::new(DynamoStore::from_env(table).await),
        })
    }

    /// How the store is named to a person.
    pub fn describe(&self) -> String {
        match self {
            Self::Memory => "embedded, in memory".into(),
            Self::File(path) => format!("file {}", path.display()),
            Self::Dynamodb => "DynamoDB".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_parse_and_bad_ones_say_what_to_use() {
        assert_eq!("memory".parse(), Ok(StoreSpec::Memory));
        assert_eq!("dynamodb".parse(), Ok(StoreSpec::Dynamodb));
        assert_eq!("file:./z.db".parse(), Ok(StoreSpec::File("./z.db".into())));
        assert!("file:".parse::<StoreSpec>().unwrap_err().contains("needs a path"));
        assert!("sqlite".parse::<StoreSpec>().unwrap_err().contains("memory, file:PATH or dynamodb"));
    }
}
