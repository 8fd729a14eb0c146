//! One error type for the whole harness: every failure ends the run with its message.

/// Any error, with its message; the harness reports it and exits non-zero.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

pub type Result<T> = std::result::Result<T, BenchError>;

/// An error made of a message.
pub fn failure(message: impl Into<String>) -> BenchError {
    message.into().into()
}
