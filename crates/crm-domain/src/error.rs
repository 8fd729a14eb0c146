//! Errors shared by every operation: field validation failures and repository failures.

use std::fmt;

/// One rejected input field, with a stable machine `code` and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }
}

/// Every field error found in one input, so that a client can fix them all in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records the error of a parse, if any, and hands back its value.
    pub fn collect<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded.
    ///
    /// # Errors
    /// Returns `self` when at least one field was rejected.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for ValidationErrors {}

/// What a repository method can fail with. Each port documents which variants it returns when.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No row matched within the caller's organisation.
    #[error("not found")]
    NotFound,
    /// A unique key already holds this value; `constraint` names the key, `field` the API field.
    #[error("duplicate value for {field}")]
    Duplicate { field: &'static str },
    /// The row exists but its version is not the one the caller expected.
    #[error("version mismatch: the record has version {current}")]
    VersionMismatch { current: i64 },
    /// A referenced row does not exist in the organisation.
    #[error("a referenced record does not exist: {field}")]
    MissingReference { field: &'static str },
    /// The database cannot be reached or has no free connection right now; retrying later may work.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a broken database. Logged, never shown to clients.
    #[error("database error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}
