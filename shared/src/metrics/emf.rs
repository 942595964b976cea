//! Recording metrics in the current invocation's scope and emitting them as CloudWatch
//! Embedded Metric Format documents on stdout when the invocation ends.

use crate::config::{ConfigError, ProcessEnv, Source};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{DEFAULT_NAMESPACE, MAX_DIMENSION_VALUE, MAX_VALUES_PER_DOCUMENT, Metric, Unit};

// ---- recording ----------------------------------------------------------------------

/// Adds `n` to a count metric in the current invocation's scope.
pub fn count(metric: &'static Metric, dimensions: &[(&'static str, &str)], n: u64) {
    record(metric, dimensions, n as f64);
}

/// Adds one duration observation (milliseconds) in the current invocation's scope.
pub fn duration(metric: &'static Metric, dimensions: &[(&'static str, &str)], took: Duration) {
    record(metric, dimensions, took.as_secs_f64() * 1000.0);
}

fn record(metric: &'static Metric, dimensions: &[(&'static str, &str)], value: f64) {
    let _outside_a_scope = CURRENT.try_with(|r| r.borrow_mut().add(metric, dimensions, value));
}

tokio::task_local! {
    static CURRENT: RefCell<Recorder>;
}

/// The dimension values of one document: (key, value) sorted by key.
type DimensionValues = Vec<(&'static str, String)>;

/// Observations of one invocation, grouped by dimension values.
#[derive(Debug, Default)]
pub struct Recorder {
    groups: BTreeMap<DimensionValues, BTreeMap<&'static str, (&'static Metric, Vec<f64>)>>,
}

impl Recorder {
    /// Records one value; the metric's dimension keys are taken from `dimensions` (a key
    /// not given is written as `none`, keys the metric does not use are ignored).
    pub fn add(&mut self, metric: &'static Metric, dimensions: &[(&'static str, &str)], value: f64) {
        let mut values: DimensionValues = metric
            .dimension_keys()
            .into_iter()
            .map(|key| {
                let given = dimensions.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
                (key, dimension_value(given.unwrap_or("")))
            })
            .collect();
        values.sort();
        let entry = self
            .groups
            .entry(values)
            .or_default()
            .entry(metric.name)
            .or_insert_with(|| (metric, Vec::new()));
        match (metric.unit, entry.1.first_mut()) {
            (Unit::Count, Some(sum)) => *sum += value,
            _ => entry.1.push(value),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The EMF documents for everything recorded: one per distinct set of dimension
    /// values (and per 100 observations of a duration).
    pub fn documents(&self, namespace: &str, timestamp_ms: u64) -> Vec<Value> {
        let mut out = Vec::new();
        for (dims, metrics) in &self.groups {
            for chunk in 0.. {
                let present: Vec<(&Metric, &[f64])> = metrics
                    .values()
                    .filter_map(|(metric, values)| {
                        values
                            .chunks(MAX_VALUES_PER_DOCUMENT)
                            .nth(chunk)
                            .map(|part| (*metric, part))
                    })
                    .collect();
                if present.is_empty() {
                    break;
                }
                out.push(document(namespace, timestamp_ms, dims, &present));
            }
        }
        out
    }
}

fn document(namespace: &str, timestamp_ms: u64, dims: &DimensionValues, metrics: &[(&Metric, &[f64])]) -> Value {
    let mut doc = Map::new();
    // One directive per distinct dimension-set list, so each metric keeps its own sets.
    let mut directives: Vec<(&'static [&'static [&'static str]], Vec<Value>)> = Vec::new();
    for (metric, values) in metrics {
        let definition = json!({ "Name": metric.name, "Unit": metric.unit.as_str() });
        match directives.iter_mut().find(|(sets, _)| *sets == metric.dimension_sets) {
            Some((_, list)) => list.push(definition),
            None => directives.push((metric.dimension_sets, vec![definition])),
        }
        // Counts are one sum; durations always an array of observations.
        let value = match (metric.unit, values) {
            (Unit::Count, [sum]) => json!(sum),
            (_, observations) => json!(observations),
        };
        doc.insert(metric.name.to_owned(), value);
    }
    for (key, value) in dims {
        doc.insert((*key).to_owned(), Value::String(value.clone()));
    }
    let directives: Vec<Value> = directives
        .into_iter()
        .map(|(sets, metrics)| json!({ "Namespace": namespace, "Dimensions": sets, "Metrics": metrics }))
        .collect();
    doc.insert(
        "_aws".to_owned(),
        json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }),
    );
    Value::Object(doc)
}

/// A dimension value as written: trimmed, at most 64 characters of `[A-Za-z0-9._:/-]`
/// (anything else becomes `_`), `none` when empty.
fn dimension_value(raw: &str) -> String {
    let cleaned: String = raw
        .trim()
        .chars()
        .take(MAX_DIMENSION_VALUE)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() { "none".to_owned() } else { cleaned }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

// ---- emitting -----------------------------------------------------------------------

/// Writes each invocation's metrics at its end. Built once per cold start.
#[derive(Debug, Clone)]
pub struct Emitter {
    namespace: String,
    sink: Sink,
}

#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    Memory(Captured),
}

/// Documents an in-memory [`Emitter`] wrote (tests).
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<Value>>>);

impl Captured {
    pub fn documents(&self) -> Vec<Value> {
        self.0.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The sum of `metric` over every captured document whose dimensions include
    /// `dimensions` (durations: the number of observations).
    pub fn total(&self, metric: &str, dimensions: &[(&str, &str)]) -> f64 {
        self.documents()
            .iter()
            .filter(|doc| dimensions.iter().all(|(k, v)| doc[*k] == *v))
            .map(|doc| match &doc[metric] {
                Value::Number(n) => n.as_f64().unwrap_or(0.0),
                Value::Array(values) => values.len() as f64,
                _ => 0.0,
            })
            .sum()
    }
}

impl Emitter {
    /// `AGNUS_METRICS_NAMESPACE` (default `AgnusAI`), writing to stdout.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let namespace = src
            .get("AGNUS_METRICS_NAMESPACE")
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        let namespace = namespace.trim().to_owned();
        let valid = (1..=255).contains(&namespace.len())
            && namespace.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            && !namespace.starts_with("AWS/");
        if !valid {
            return Err(ConfigError::Invalid {
                name: "AGNUS_METRICS_NAMESPACE",
                reason: "expected 1-255 printable ASCII characters, not starting with AWS/".into(),
            });
        }
        Ok(Self {
            namespace,
            sink: Sink::Stdout,
        })
    }

    /// An emitter that keeps the documents in memory instead of printing them (tests).
    pub fn in_memory(namespace: &str) -> (Self, Captured) {
        let captured = Captured::default();
        let emitter = Self {
            namespace: namespace.to_owned(),
            sink: Sink::Memory(captured.clone()),
        };
        (emitter, captured)
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs one invocation with a fresh recorder and writes what it recorded when it ends.
    /// Boxed: the handler futures are deep, and nesting them in another named future
    /// exceeds the compiler's layout depth limit.
    pub fn scope<'a, F>(&'a self, invocation: F) -> Pin<Box<dyn Future<Output = F::Output> + Send + 'a>>
    where
        F: Future + Send + 'a,
        F::Output: Send,
    {
        Box::pin(async move {
            let (output, recorder) = CURRENT
                .scope(RefCell::new(Recorder::default()), async move {
                    let output = invocation.await;
                    let recorder = CURRENT.with(|r| r.take());
                    (output, recorder)
                })
                .await;
            self.write(&recorder);
            output
        })
    }

    fn write(&self, recorder: &Recorder) {
        if recorder.is_empty() {
            return;
        }
        let documents = recorder.documents(&self.namespace, now_ms());
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                for doc in documents {
                    // A closed stdout loses the metrics, never the invocation.
                    let _ = writeln!(out, "{doc}");
                }
                let _ = out.flush();
            }
            Sink::Memory(captured) => {
                if let Ok(mut docs) = captured.0.lock() {
                    docs.extend(documents);
                }
            }
        }
    }
}
