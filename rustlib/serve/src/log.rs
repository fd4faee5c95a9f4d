//! Structured logging: one JSON object per line on stderr, filtered by a
//! global level.

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Log levels, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    /// Parses `off`, `error`, `warn`, `info`, `debug`.
    ///
    /// ```
    /// use ferrokit_serve::log::Level;
    /// assert_eq!(Level::parse("warn"), Some(Level::Warn));
    /// assert_eq!(Level::parse("loud"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "off" => Level::Off,
            "error" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the most verbose level written.
pub fn set_level(l: Level) {
    LEVEL.store(l as u8, Ordering::Relaxed);
}

/// True when a line at `l` would be written.
pub fn enabled(l: Level) -> bool {
    l != Level::Off && (l as u8) <= LEVEL.load(Ordering::Relaxed)
}

/// Writes one line `{"ts":..,"level":..,"msg":.., fields...}` if `l` is enabled.
pub fn log(l: Level, msg: &str, fields: Map<String, Value>) {
    if !enabled(l) {
        return;
    }
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut m = Map::with_capacity(fields.len() + 3);
    m.insert("ts".into(), Value::from((ts * 1e6).round() / 1e6));
    m.insert("level".into(), Value::from(l.name()));
    m.insert("msg".into(), Value::from(msg));
    m.extend(fields);
    let mut line = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
    line.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&line);
}

/// Builds the field map of a log line: `fields!{"model" => name, "status" => 200}`.
#[macro_export]
macro_rules! fields {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert($k.to_string(), serde_json::Value::from($v)); )*
        m
    }};
}
