//! Percentiles.

use std::time::Duration;

/// Summary of a sample of durations.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

/// Summarises a non-empty sample.
pub fn summarize(mut v: Vec<Duration>) -> Summary {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Summary { p50: at(0.5), p99: at(0.99), max: at(1.0) }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// Microseconds with one decimal.
pub fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}
