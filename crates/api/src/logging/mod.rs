//! Logging: `log` records written by `env_logger` as text on stderr (the default) or one
//! JSON object per line on stdout (`LOG_FORMAT=json`), each with the request id it was
//! written under; the request id of every HTTP request and its access line.

pub mod access;
pub mod line;
pub mod request_id;

use chrono::Utc;
use domain::log_context;
use env_logger::fmt::{Target, WriteStyle};

use crate::config::LogFormat;

pub use self::access::RequestLog;
pub use self::request_id::RequestId;

/// Installs the logger: `filter` in `env_logger` syntax, lines in `format`.
pub fn init(filter: &str, format: LogFormat) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(filter).write_style(WriteStyle::Never);
    match format {
        LogFormat::Text => builder.target(Target::Stderr).format(|out, record| {
            line::text(out, Utc::now(), record, log_context::current().as_deref())
        }),
        LogFormat::Json => builder.target(Target::Stdout).format(|out, record| {
            line::json(out, Utc::now(), record, log_context::current().as_deref())
        }),
    };
    builder.init();
}
