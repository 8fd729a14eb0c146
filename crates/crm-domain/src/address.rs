//! Postal addresses and countries.

use crate::error::{FieldError, ValidationErrors};
use crate::value::Name;

/// An ISO 3166-1 alpha-2 country code in capitals, such as `FR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode(iso_country::Country);

impl CountryCode {
    /// # Errors
    /// `invalid_country` unless `raw` is an assigned ISO 3166-1 alpha-2 code in capitals.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new(field, "invalid_country", "must be an ISO 3166-1 alpha-2 country code such as FR or US");
        if raw.len() != 2 || !raw.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid());
        }
        match raw.parse::<iso_country::Country>() {
            Ok(iso_country::Country::Unspecified) | Err(_) => Err(invalid()),
            Ok(country) => Ok(Self(country)),
        }
    }

    pub fn code(self) -> String {
        self.0.to_string()
    }
}

/// A structured postal address; every part is optional, but an address has at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub street: Option<Name>,
    pub city: Option<Name>,
    pub region: Option<Name>,
    pub postal_code: Option<Name>,
    pub country: Option<CountryCode>,
}

/// The raw parts of an address as a client sends them.
#[derive(Debug, Clone, Default)]
pub struct AddressInput<'a> {
    pub street: Option<&'a str>,
    pub city: Option<&'a str>,
    pub region: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub country: Option<&'a str>,
}

impl Address {
    pub const POSTAL_CODE_MAX_CHARS: usize = 20;

    /// Parses the parts of the address given as `field`; an address with no part is `None`.
    pub fn parse(field: &str, input: AddressInput<'_>, errors: &mut ValidationErrors) -> Option<Address> {
        let part = |name: &str| format!("{field}.{name}");
        let text = |name: &str, raw: Option<&str>, errors: &mut ValidationErrors| {
            raw.and_then(|raw| errors.collect(Name::parse(&part(name), raw)))
        };
        let street = text("street", input.street, errors);
        let city = text("city", input.city, errors);
        let region = text("region", input.region, errors);
        let postal_code = match input.postal_code {
            Some(raw) if raw.chars().count() > Self::POSTAL_CODE_MAX_CHARS => {
                errors.push(FieldError::new(part("postal_code"), "too_long", "must be at most 20 characters"));
                None
            }
            raw => text("postal_code", raw, errors),
        };
        let country = input.country.and_then(|raw| errors.collect(CountryCode::parse(&part("country"), raw)));
        let address = Address { street, city, region, postal_code, country };
        let empty = address.street.is_none()
            && address.city.is_none()
            && address.region.is_none()
            && address.postal_code.is_none()
            && address.country.is_none();
        (!empty).then_some(address)
    }
}

/// Free labels on a record: at most 50, each 1 to 50 characters, kept in the order given, without
/// case-insensitive repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 50;
    pub const MAX_CHARS: usize = 50;

    /// # Errors
    /// `too_many` on `field`, or `blank`, `too_long`, `invalid_characters` on `field[i]`.
    pub fn parse(field: &str, raw: &[String]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if raw.len() > Self::MAX_TAGS {
            errors.push(FieldError::new(field, "too_many", "must hold at most 50 tags"));
            return Err(errors);
        }
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for (i, tag) in raw.iter().enumerate() {
            let item = format!("{field}[{i}]");
            if tag.chars().count() > Self::MAX_CHARS {
                errors.push(FieldError::new(item, "too_long", "must be at most 50 characters"));
                continue;
            }
            if let Some(name) = errors.collect(Name::parse(&item, tag))
                && !tags.iter().any(|t| t.to_lowercase() == name.as_str().to_lowercase())
            {
                tags.push(name.as_str().to_owned());
            }
        }
        errors.into_result().map(|()| Self(tags))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn from_trusted(tags: Vec<String>) -> Self {
        Self(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_assigned_alpha2_codes() {
        assert_eq!(CountryCode::parse("country", "FR").map(CountryCode::code), Ok("FR".to_owned()));
        for bad in ["fr", "FRA", "ZZ", "", "F"] {
            assert!(CountryCode::parse("country", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_without_parts_is_none_and_errors_name_the_part() {
        let mut errors = ValidationErrors::new();
        assert_eq!(Address::parse("billing_address", AddressInput::default(), &mut errors), None);
        let input = AddressInput { city: Some("Paris"), country: Some("XX"), ..AddressInput::default() };
        Address::parse("billing_address", input, &mut errors);
        assert_eq!(errors.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["billing_address.country"]);
    }

    #[test]
    fn tags_drop_case_insensitive_repeats_and_keep_order() {
        let tags = Tags::parse("tags", &["VIP".into(), "emea".into(), "vip".into()]).map(|t| t.as_slice().to_vec());
        assert_eq!(tags, Ok(vec!["VIP".to_owned(), "emea".to_owned()]));
        let errors = Tags::parse("tags", &["ok".into(), " ".into()]).err().map(|e| e.0[0].field.clone());
        assert_eq!(errors.as_deref(), Some("tags[1]"));
    }
}
