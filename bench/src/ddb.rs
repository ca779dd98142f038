//! Counting DynamoDB work: an SDK interceptor asks every call for its
//! consumed capacity (`ReturnConsumedCapacity: TOTAL`) and records when it
//! started and ended, so a request's calls can be grouped into sequential
//! round trips.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// One DynamoDB call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Operation name, e.g. `GetItem`.
    pub op: String,
    /// When the call was made.
    pub start: Instant,
    /// When the answer was read.
    pub end: Instant,
    /// Capacity units DynamoDB (Local) reported.
    pub units: f64,
}

impl Call {
    /// Whether the call reads (billed in read units).
    pub fn is_read(&self) -> bool {
        matches!(self.op.as_str(), "GetItem" | "BatchGetItem" | "Query" | "Scan" | "TransactGetItems")
    }

    /// Whether AWS bills the call as a transaction (twice the units).
    pub fn is_transaction(&self) -> bool {
        self.op.starts_with("Transact")
    }
}

/// The calls recorded so far.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Call>>>);

impl Recorder {
    /// Takes (and clears) the recorded calls.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The interceptor that feeds this recorder.
    pub fn interceptor(&self) -> RecordingInterceptor {
        RecordingInterceptor(self.clone())
    }
}

/// The calls grouped into sequential waves — round trips: calls that
/// overlap in time are one wave — each as its operation names.
pub fn waves(calls: &[Call]) -> Vec<Vec<String>> {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.start);
    let mut waves: Vec<Vec<String>> = Vec::new();
    let mut group_end: Option<Instant> = None;
    for c in sorted {
        match (group_end, waves.last_mut()) {
            (Some(end), Some(wave)) if c.start < end => {
                group_end = Some(end.max(c.end));
                wave.push(c.op.clone());
            }
            _ => {
                waves.push(vec![c.op.clone()]);
                group_end = Some(c.end);
            }
        }
    }
    waves
}

#[derive(Debug, Clone)]
struct SentAt(Instant);
impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

/// See [`Recorder`].
#[derive(Debug)]
pub struct RecordingInterceptor(Recorder);

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "zeroauth-bench-recorder"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = ctx.request_mut();
        let Some(bytes) = req.body().bytes() else { return Ok(()) };
        let mut v: serde_json::Value = serde_json::from_slice(bytes)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
        }
        let body = serde_json::to_vec(&v)?;
        req.headers_mut().insert("content-length", body.len().to_string());
        *req.body_mut() = SdkBody::from(body);
        Ok(())
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // When the call is made, not when it is sent: a call that waits for a
        // new connection still runs beside the one it was issued with.
        cfg.interceptor_state().store_put(SentAt(Instant::now()));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let end = Instant::now();
        let start = cfg.load::<SentAt>().map_or(end, |s| s.0);
        let op = cfg.load::<Metadata>().map_or("?".to_owned(), |m| m.name().to_owned());
        let units = ctx
            .response()
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .map_or(0.0, |v| capacity(&v["ConsumedCapacity"]));
        self.0.0.lock().unwrap_or_else(|p| p.into_inner()).push(Call { op, start, end, units });
        Ok(())
    }
}

fn capacity(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Array(a) => a.iter().map(capacity).sum(),
        serde_json::Value::Object(o) => o.get("CapacityUnits").and_then(|u| u.as_f64()).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The time DynamoDB calls took, overlapping calls counted once.
pub fn ddb_time(calls: &[Call]) -> Duration {
    let mut spans: Vec<(Instant, Instant)> = calls.iter().map(|c| (c.start, c.end)).collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut open: Option<(Instant, Instant)> = None;
    for (s, e) in spans {
        open = match open {
            Some((os, oe)) if s <= oe => Some((os, oe.max(e))),
            Some((os, oe)) => {
                total += oe - os;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((os, oe)) = open {
        total += oe - os;
    }
    total
}

/// The longest chain of calls each made after the one before had answered:
/// the request's sequential round trips. (Grouping overlapping calls, as
/// [`waves`] does, counts one long call made beside two sequential
/// ones — `POST /callback` reads the client beside the provider and the
/// state's write — as one round trip.)
pub fn round_trips(calls: &[Call]) -> usize {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.start);
    let mut depth: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, c) in sorted.iter().enumerate() {
        let before = (0..i).filter(|&j| sorted[j].end <= c.start).map(|j| depth[j]).max().unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: &str, at: Instant, from_ms: u64, to_ms: u64) -> Call {
        let ms = Duration::from_millis;
        Call { op: op.into(), start: at + ms(from_ms), end: at + ms(to_ms), units: 1.0 }
    }

    #[test]
    fn a_long_call_beside_two_sequential_ones_is_two_round_trips() {
        let t = Instant::now();
        // The client read beside the provider's read, then the state's write.
        let calls = [call("GetItem", t, 0, 10), call("GetItem", t, 1, 3), call("PutItem", t, 4, 6)];
        assert_eq!(round_trips(&calls), 2);
        assert_eq!(waves(&calls).len(), 1, "what grouping overlaps would say");
        assert_eq!(ddb_time(&calls), Duration::from_millis(10));
        let apart = [call("DeleteItem", t, 0, 2), call("GetItem", t, 3, 4), call("GetItem", t, 5, 7)];
        assert_eq!(round_trips(&apart), 3);
        assert_eq!(ddb_time(&apart), Duration::from_millis(5));
        assert_eq!(round_trips(&[]), 0);
    }
}
