//! What every handler is given: the store, the configuration and the clock.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::Store;

/// The application state shared by all handlers.
#[derive(Clone)]
pub struct App {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Issuer, key and lifetimes.
    pub config: Arc<Config>,
    /// The current time.
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// An app on the system clock.
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        Self { store, config: Arc::new(config), clock: Arc::new(SystemClock) }
    }

    /// The same app on another clock (tests move time this way).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Epoch seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The absolute URL of an endpoint path such as `/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.issuer)
    }
}
