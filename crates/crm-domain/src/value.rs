//! Value types that can only hold valid values: each `parse` returns a `FieldError` naming the
//! API field it was given for.

use crate::error::FieldError;

/// A trimmed, non-empty text of at most `max` characters.
fn bounded_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "blank", "must not be blank"));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "invalid_characters", "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// # Errors
            /// `blank`, `too_long` or `invalid_characters`, naming `field`.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
                bounded_text(field, raw, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For values read back from storage, which were parsed when they were written.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A person's or organisation's name, or a short label: 1 to 200 characters.
    Name, 200
);
text_type!(
    /// A free text such as a description: 1 to 10,000 characters.
    LongText, 10_000
);
text_type!(
    /// A phone number as people write it: 1 to 50 characters.
    Phone, 50
);
text_type!(
    /// A web address: 1 to 2,000 characters.
    Url, 2_000
);

/// An email address, lower-cased: a local part of 1 to 64 characters without whitespace, control
/// characters or `@ " , < >`, an `@`, and a domain of two or more dot-separated labels of ASCII
/// letters, digits and hyphens. Deliverability is not checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    /// # Errors
    /// `invalid_email` or `too_long`, naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(field, "too_long", "must be at most 254 characters"));
        }
        let invalid = || FieldError::new(field, "invalid_email", "must be an email address such as ada@example.com");
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let local_ok = (1..=64).contains(&local.chars().count())
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '"' | ',' | '<' | '>'));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels
                .iter()
                .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !domain_ok || !local_ok {
            return Err(invalid());
        }
        let value = raw.to_lowercase();
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }
}

/// A password as typed at signup or by an admin: 10 to 1,024 characters. It is never stored;
/// only its argon2id hash is.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1024;

    /// # Errors
    /// `too_short` or `too_long`, naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(FieldError::new(field, "too_short", "must be at least 10 characters"));
        }
        if count > Self::MAX_CHARS {
            return Err(FieldError::new(field, "too_long", "must be at most 1024 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A custom-fields document: a JSON object serialised as text by the HTTP edge. The domain only
/// carries it; its size is bounded so that one record cannot grow without limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFields(String);

impl CustomFields {
    pub const MAX_BYTES: usize = 16 * 1024;
    /// How deep objects and arrays may nest inside the `custom_fields` object: `{"a": {"b": [1]}}`
    /// nests 2 deep. A finite depth lets the spec describe every value exactly, without the
    /// self-reference that client generators choke on.
    pub const MAX_NESTING: usize = 4;

    /// `raw` must be the serialisation of a JSON object; the caller (the HTTP edge) guarantees it.
    ///
    /// # Errors
    /// `too_large` when the serialisation exceeds 16 KiB.
    pub fn parse(field: &str, raw: String) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldError::new(field, "too_large", "must serialise to at most 16384 bytes"));
        }
        Ok(Self(raw))
    }

    pub fn empty() -> Self {
        Self("{}".to_owned())
    }

    pub fn as_json_text(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }
}

/// Declares a closed set of values with a stable wire spelling, parsed with a field error that
/// lists the allowed values.
#[macro_export]
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// # Errors
            /// `invalid_value`, naming `field` and listing the allowed values.
            pub fn parse(field: &str, raw: &str) -> Result<Self, $crate::error::FieldError> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::FieldError::new(
                        field,
                        "invalid_value",
                        format!("must be one of: {}", Self::NAMES.join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("email", "Ada@Example.COM").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("ada@example.com".to_owned()));
    }

    #[test]
    fn emails_without_a_dotted_domain_or_local_part_are_refused() {
        for raw in ["ada", "ada@", "@example.com", "ada@example", "ada@.com", "ada@example..com", "a b@example.com", ""]
        {
            let error = Email::parse("email", raw).err().map(|e| e.code);
            assert_eq!(error, Some("invalid_email"), "{raw:?} was accepted");
        }
    }

    #[test]
    fn a_password_needs_ten_characters() {
        assert_eq!(Password::parse("password", "123456789").err().map(|e| e.code), Some("too_short"));
        assert!(Password::parse("password", "1234567890").is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("name", "  Ada ").map(|n| n.as_str().to_owned()), Ok("Ada".to_owned()));
        assert_eq!(Name::parse("name", "   ").err().map(|e| e.code), Some("blank"));
        assert_eq!(Name::parse("name", &"x".repeat(201)).err().map(|e| e.code), Some("too_long"));
        assert!(Name::parse("name", &"é".repeat(200)).is_ok());
    }
}
