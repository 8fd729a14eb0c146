//! The DTOs of the domain's value types that several resources share: postal addresses and
//! amounts of money.

use crm_domain::ValidationErrors;
use crm_domain::address::{Address, AddressInput};
use crm_domain::money::{Currency, Money};
use crm_domain::value::Name;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use crate::schema::{codes, fields};

pub(crate) fn postal_code_schema() -> Object {
    crate::schema::text(Address::POSTAL_CODE_MAX_CHARS, true)
}

/// A postal address; every part is optional. An address with no part is stored as `null`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
#[schema(example = json!({"street": "10 Downing Street", "city": "London", "region": null, "postal_code": "SW1A 2AA", "country": "GB"}))]
pub struct AddressDto {
    #[schema(schema_with = fields::optional_name)]
    pub street: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub city: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub region: Option<String>,
    #[schema(schema_with = postal_code_schema)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = codes::optional_country)]
    pub country: Option<String>,
}
crate::extract::object_only!(AddressDto, serialize);

impl AddressDto {
    pub(crate) fn parse(&self, field: &str, errors: &mut ValidationErrors) -> Option<Address> {
        let input = AddressInput {
            street: self.street.as_deref(),
            city: self.city.as_deref(),
            region: self.region.as_deref(),
            postal_code: self.postal_code.as_deref(),
            country: self.country.as_deref(),
        };
        Address::parse(field, input, errors)
    }
}

/// A stored postal address: every part is sent, `null` when it is empty.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"street": "10 Downing Street", "city": "London", "region": null, "postal_code": "SW1A 2AA", "country": "GB"}))]
pub struct AddressResponse {
    #[schema(schema_with = fields::optional_name)]
    pub street: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub city: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub region: Option<String>,
    #[schema(schema_with = postal_code_schema)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = codes::optional_country)]
    pub country: Option<String>,
}

impl From<&Address> for AddressResponse {
    fn from(address: &Address) -> Self {
        let text = |v: &Option<Name>| v.as_ref().map(|v| v.as_str().to_owned());
        Self {
            street: text(&address.street),
            city: text(&address.city),
            region: text(&address.region),
            postal_code: text(&address.postal_code),
            country: address.country.map(|c| c.code()),
        }
    }
}

/// An amount of money: an integer in the currency's minor unit (cents for EUR) and its ISO 4217 code.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
#[schema(example = json!({"amount": 125000000, "currency": "EUR"}))]
pub struct MoneyDto {
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub amount: i64,
    #[schema(schema_with = codes::currency)]
    pub currency: String,
}
crate::extract::object_only!(MoneyDto, serialize);

impl MoneyDto {
    pub(crate) fn parse(&self, field: &str, errors: &mut ValidationErrors) -> Option<Money> {
        let currency = errors.collect(Currency::parse(&format!("{field}.currency"), &self.currency))?;
        errors.collect(Money::non_negative(&format!("{field}.amount"), self.amount, currency))
    }

    pub(crate) fn from_domain(money: &Money) -> Self {
        Self { amount: money.amount, currency: money.currency.code().to_owned() }
    }
}
