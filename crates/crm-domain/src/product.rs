//! Products: the price book. Each has a SKU unique in the organisation, a unit price and a
//! default tax rate for quote lines.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::money_audit;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::ArchivedFilter;
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::money::{Currency, Money};
use crate::record::{Changes, Record};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name};

/// A stock-keeping unit: 1 to 64 letters, digits, `.`, `_` or `-`; compared as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    /// # Errors
    /// `invalid_sku` otherwise.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=64).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(field, "invalid_sku", "must be 1 to 64 letters, digits, '.', '_' or '-'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }
}

/// A percentage with at most two decimals, 0 to 100, kept in hundredths of a percent
/// (5.5% is 550).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Percent(u32);

impl Percent {
    /// # Errors
    /// `out_of_range` outside 0–100, `too_precise` with more than two decimals.
    pub fn parse(field: &str, value: f64) -> Result<Self, FieldError> {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            return Err(FieldError::new(field, "out_of_range", "must be between 0 and 100"));
        }
        let hundredths = (value * 100.0).round();
        if (value * 100.0 - hundredths).abs() > 1e-6 {
            return Err(FieldError::new(field, "too_precise", "must have at most two decimals"));
        }
        // 0 ≤ hundredths ≤ 10000, so the conversion is exact.
        Ok(Self(hundredths as u32))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// The percentage as a number, for JSON (5.5 for 550).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    pub fn from_hundredths(hundredths: u32) -> Self {
        Self(hundredths.min(10_000))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    pub sku: Sku,
    pub description: Option<LongText>,
    pub unit_price: Money,
    pub tax_rate: Percent,
    pub active: bool,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
}

crate::record::impl_record!(Product);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    pub name: Name,
    pub sku: Sku,
    pub description: Option<LongText>,
    pub unit_price: Money,
    pub tax_rate: Option<Percent>,
    pub active: Option<bool>,
    pub custom_fields: Option<CustomFields>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    pub name: Option<Name>,
    pub sku: Option<Sku>,
    pub description: Option<Option<LongText>>,
    pub unit_price: Option<Money>,
    pub tax_rate: Option<Percent>,
    pub active: Option<bool>,
    pub custom_fields: Option<CustomFields>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProductRuleError {
    #[error("the product is archived; restore it first")]
    Archived,
}

fn percent_audit(p: &Percent) -> AuditValue {
    AuditValue::Integer(i64::from(p.hundredths()))
}

impl Product {
    pub fn create(id: Uuid, organization_id: Uuid, actor_id: Uuid, draft: ProductDraft, now: DateTime<Utc>) -> Product {
        Product {
            id,
            organization_id,
            name: draft.name,
            sku: draft.sku,
            description: draft.description,
            unit_price: draft.unit_price,
            tax_rate: draft.tax_rate.unwrap_or(Percent(0)),
            active: draft.active.unwrap_or(true),
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
        }
    }

    /// # Errors
    /// [`ProductRuleError::Archived`] when archived.
    pub fn apply(
        &self,
        patch: &ProductPatch,
        now: DateTime<Utc>,
    ) -> Result<(Product, Vec<FieldChange>), ProductRuleError> {
        if self.archived_at.is_some() {
            return Err(ProductRuleError::Archived);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("name", &mut next.name, &patch.name, |v: &Name| AuditValue::text(v));
        c.set("sku", &mut next.sku, &patch.sku, |v: &Sku| AuditValue::text(v.as_str()));
        c.set("description", &mut next.description, &patch.description, |v| AuditValue::optional(v.as_ref()));
        c.set("unit_price", &mut next.unit_price, &patch.unit_price, |v: &Money| money_audit(Some(v)));
        c.set("tax_rate", &mut next.tax_rate, &patch.tax_rate, percent_audit);
        c.set("active", &mut next.active, &patch.active, |v: &bool| AuditValue::Bool(*v));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v: &CustomFields| {
            AuditValue::text(v.as_json_text())
        });
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = vec![
            FieldChange::new("name", AuditValue::Null, AuditValue::text(&self.name)),
            FieldChange::new("sku", AuditValue::Null, AuditValue::text(self.sku.as_str())),
            FieldChange::new("unit_price", AuditValue::Null, money_audit(Some(&self.unit_price))),
            FieldChange::new("tax_rate", AuditValue::Null, percent_audit(&self.tax_rate)),
            FieldChange::new("active", AuditValue::Null, AuditValue::Bool(self.active)),
        ];
        if let Some(description) = &self.description {
            changes.push(FieldChange::new("description", AuditValue::Null, AuditValue::text(description)));
        }
        changes
    }

    pub fn position(&self, field: ProductSortField) -> KeysetPosition {
        let value = match field {
            ProductSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            ProductSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
            ProductSortField::Sku => SortValue::Text(self.sku.as_str().to_owned()),
        };
        KeysetPosition { value, id: self.id }
    }
}

string_enum!(
    ProductSortField {
        CreatedAt => "created_at",
        Name => "name",
        Sku => "sku",
    }
);

impl SortField for ProductSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        ProductSortField::parse("sort", name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub active: Option<bool>,
    pub currency: Option<Currency>,
    /// Case-insensitive text searched in name and SKU.
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub sort: Sort<ProductSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_two_decimals() {
        assert_eq!(Percent::parse("tax_rate", 5.5).map(Percent::hundredths), Ok(550));
        assert_eq!(Percent::parse("tax_rate", 19.99).map(Percent::hundredths), Ok(1999));
        assert_eq!(Percent::parse("tax_rate", 100.0).map(Percent::hundredths), Ok(10_000));
        assert_eq!(Percent::parse("tax_rate", 5.555).err().map(|e| e.code), Some("too_precise"));
        assert_eq!(Percent::parse("tax_rate", -1.0).err().map(|e| e.code), Some("out_of_range"));
        assert_eq!(Percent::parse("tax_rate", 100.01).err().map(|e| e.code), Some("out_of_range"));
    }

    #[test]
    fn skus_are_plain_identifiers() {
        assert!(Sku::parse("sku", "ENG-01.b_2").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65)] {
            assert!(Sku::parse("sku", bad).is_err(), "{bad}");
        }
    }
}
