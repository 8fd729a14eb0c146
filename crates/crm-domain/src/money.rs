//! Money: an integer amount in the currency's minor unit and an ISO 4217 currency. Amounts never
//! mix currencies and arithmetic is checked for overflow.

use crate::error::FieldError;

/// An ISO 4217 currency that is in use, such as `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// # Errors
    /// `invalid_currency` unless `raw` is an active ISO 4217 code in capitals.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new(field, "invalid_currency", "must be an ISO 4217 currency code such as EUR or USD");
        if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid());
        }
        iso_currency::Currency::from_code(raw).map(Self).ok_or_else(invalid)
    }

    pub fn code(self) -> &'static str {
        // `code()` returns a `&'static str` for every variant.
        self.0.code()
    }

    /// Digits after the decimal point of the minor unit (2 for EUR, 0 for JPY); 0 for units
    /// without a minor unit (such as XAU).
    pub fn minor_unit_digits(self) -> u32 {
        self.0.exponent().map_or(0, u32::from)
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in minor units (cents for EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    /// The largest amount the API accepts, in minor units: 10^15, so that sums of many lines
    /// stay far from `i64::MAX`.
    pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

    /// A non-negative amount.
    ///
    /// # Errors
    /// `out_of_range` on `field` when negative or above [`Money::MAX_AMOUNT`].
    pub fn non_negative(field: &str, amount: i64, currency: Currency) -> Result<Self, FieldError> {
        if !(0..=Self::MAX_AMOUNT).contains(&amount) {
            return Err(FieldError::new(field, "out_of_range", format!("must be between 0 and {}", Self::MAX_AMOUNT)));
        }
        Ok(Self { amount, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_iso_codes_in_capitals() {
        assert_eq!(Currency::parse("currency", "EUR").map(Currency::code), Ok("EUR"));
        assert_eq!(Currency::parse("currency", "JPY").map(Currency::minor_unit_digits), Ok(0));
        assert_eq!(Currency::parse("currency", "EUR").map(Currency::minor_unit_digits), Ok(2));
        for bad in ["eur", "EURO", "XXY", "", "€"] {
            assert!(Currency::parse("currency", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_are_bounded() {
        let eur = Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(Money::non_negative("amount", -1, eur).is_err());
        assert!(Money::non_negative("amount", Money::MAX_AMOUNT + 1, eur).is_err());
        assert!(Money::non_negative("amount", 0, eur).is_ok());
    }
}
