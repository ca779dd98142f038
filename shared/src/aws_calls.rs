//! Which AWS operations each Lambda function performs, as IAM authorizes
//! them, so that a test can hold them against the function's policy in
//! `infra/template.yaml` (`infra/test_infra.py`, class `IamPolicies`).
//!
//! A call belongs to the function whose endpoint the router is serving
//! ([`serving`]), or, in a Lambda binary, to the function the process is
//! ([`as_process`]), cold start included. Calls outside both (test setup, the
//! CLI) belong to no function and are not recorded.
//!
//! Recording is for tests only: it needs the feature `aws-recording` (which
//! the end-to-end tests and the `cargo lambda watch` smoke test turn on) and
//! the variable [`FILE_VAR`] naming the file to append to. Without the
//! feature this module is [`serving`] and [`as_process`] doing nothing, and
//! no SDK client carries an interceptor.

use std::future::Future;

use crate::paths::Function;

/// Runs `work` as the work of `function`: the AWS calls it makes are that
/// function's. The router wraps every endpoint it calls in this.
pub async fn serving<F: Future>(function: Function, work: F) -> F::Output {
    #[cfg(feature = "aws-recording")]
    {
        recording::SERVING.scope(function, work).await
    }
    #[cfg(not(feature = "aws-recording"))]
    {
        let _ = function;
        work.await
    }
}

/// Declares that this process is `function` (a Lambda binary, from its cold
/// start on): every AWS call it makes is that function's.
pub fn as_process(function: Function) {
    #[cfg(feature = "aws-recording")]
    {
        let _ = recording::PROCESS.set(function);
    }
    #[cfg(not(feature = "aws-recording"))]
    {
        let _ = function;
    }
}

#[cfg(feature = "aws-recording")]
pub use recording::{Check, FILE_VAR, Recorder};

#[cfg(feature = "aws-recording")]
mod recording {
    use std::collections::HashSet;
    use std::io::Write;
    use std::sync::{Mutex, OnceLock, PoisonError};

    use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
    use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponents};
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::interceptors::Intercept;
    use aws_smithy_runtime_api::client::interceptors::context::Input;
    use aws_smithy_runtime_api::client::orchestrator::Metadata;

    use crate::paths::Function;

    /// The variable naming the file the calls are appended to, one JSON
    /// line per function, action and resource.
    pub const FILE_VAR: &str = "ZEROAUTH_AWS_RECORDING";

    tokio::task_local! {
        pub(super) static SERVING: Function;
    }

    pub(super) static PROCESS: OnceLock<Function> = OnceLock::new();

    /// One authorization IAM makes for a call: an action (`dynamodb:PutItem`)
    /// on a resource, written as its ARN after the account
    /// (`table/NAME`, `parameter/NAME`), or `*`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Check {
        /// The IAM action.
        pub action: String,
        /// The resource.
        pub resource: String,
    }

    impl Check {
        /// `service:action` on `resource`.
        pub fn new(service: &str, action: &str, resource: impl Into<String>) -> Self {
            Self { action: format!("{service}:{action}"), resource: resource.into() }
        }
    }

    /// An SDK interceptor that records, before each operation is sent, the
    /// checks IAM makes for it (one service's `expand` reads them from the
    /// operation's input), under the function making the call.
    #[derive(Debug)]
    pub struct Recorder {
        expand: fn(&Metadata, &Input) -> Vec<Check>,
    }

    impl Recorder {
        /// A recorder when [`FILE_VAR`] asks for one.
        pub fn from_env(expand: fn(&Metadata, &Input) -> Vec<Check>) -> Option<Self> {
            std::env::var_os(FILE_VAR).filter(|v| !v.is_empty()).map(|_| Self { expand })
        }
    }

    impl Intercept for Recorder {
        fn name(&self) -> &'static str {
            "ZeroAuthAwsCallRecorder"
        }

        // Once per operation, retries aside; not `read_before_execution`, which
        // runs for a client's interceptors before the operation's `Metadata`
        // is in the bag.
        fn read_before_serialization(
            &self,
            context: &BeforeSerializationInterceptorContextRef<'_>,
            _components: &RuntimeComponents,
            cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            let function = SERVING.try_with(|f| *f).ok().or_else(|| PROCESS.get().copied());
            if let (Some(function), Some(meta)) = (function, cfg.load::<Metadata>()) {
                for check in (self.expand)(meta, context.input()) {
                    record(function, &check);
                }
            }
            // A recorder never fails a call.
            Ok(())
        }
    }

    struct Sink {
        file: Option<std::fs::File>,
        seen: HashSet<String>,
    }

    static SINK: Mutex<Option<Sink>> = Mutex::new(None);

    /// Appends one line per distinct function, action and resource, in one
    /// write each, so that processes sharing the file do not interleave.
    fn record(function: Function, check: &Check) {
        let line = serde_json::json!({
            "function": function.package(),
            "action": check.action,
            "resource": check.resource,
            "by": process_name(),
        })
        .to_string();
        let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
        let sink = sink.get_or_insert_with(open);
        if !sink.seen.insert(line.clone()) {
            return;
        }
        if let Some(file) = sink.file.as_mut()
            && let Err(e) = file.write_all(format!("{line}\n").as_bytes())
        {
            tracing::warn!(error = %e, "could not record an AWS call");
        }
    }

    fn open() -> Sink {
        let file = std::env::var_os(FILE_VAR).and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .inspect_err(
                    |e| tracing::warn!(error = %e, path = ?path, "could not open the AWS call recording"),
                )
                .ok()
        });
        Sink { file, seen: HashSet::new() }
    }

    /// The executable's name (a test binary's, a function's), to say which
    /// run made a call.
    fn process_name() -> &'static str {
        static NAME: OnceLock<String> = OnceLock::new();
        NAME.get_or_init(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default()
        })
    }
}
