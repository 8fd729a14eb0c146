//! Line items and totals: the arithmetic shared by quotes, orders and invoices.
//!
//! # The rounding rule
//! Every amount is an integer in the currency's minor unit. Each line is computed on its own and
//! rounded half up (to the nearest minor unit, halves away from zero) at three points:
//! 1. `subtotal = round(quantity × unit_price)`;
//! 2. `discount = round(subtotal × discount_percent / 100)`;
//! 3. `tax = round((subtotal − discount) × tax_rate / 100)`;
//!
//! and `total = subtotal − discount + tax`. The document's totals are the exact sums of its lines'
//! figures: `subtotal`, `discount_total`, `tax_total`, and `total = subtotal − discount_total +
//! tax_total`. Intermediate products are computed in 128 bits; any figure above
//! [`Money::MAX_AMOUNT`] is refused, so no arithmetic can overflow.

use uuid::Uuid;

use crate::error::{FieldError, ValidationErrors};
use crate::money::{Currency, Money};
use crate::product::{Percent, Product};
use crate::value::LongText;

/// A positive quantity with at most three decimals, kept in thousandths (2.5 is 2500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity(i64);

impl Quantity {
    /// A billion units.
    pub const MAX_THOUSANDTHS: i64 = 1_000_000_000_000;

    /// # Errors
    /// `out_of_range` unless 0 < value ≤ 10^9, `too_precise` with more than three decimals.
    pub fn parse(field: &str, value: f64) -> Result<Self, FieldError> {
        if !value.is_finite() || value <= 0.0 || value > 1e9 {
            return Err(FieldError::new(field, "out_of_range", "must be greater than 0 and at most 1000000000"));
        }
        let scaled = value * 1000.0;
        let thousandths = scaled.round();
        if (scaled - thousandths).abs() > 1e-6 * thousandths.max(1.0) {
            return Err(FieldError::new(field, "too_precise", "must have at most three decimals"));
        }
        // 0 < thousandths ≤ 10^12, exactly representable.
        let thousandths = thousandths as i64;
        if thousandths == 0 {
            return Err(FieldError::new(field, "out_of_range", "must be at least 0.001"));
        }
        Ok(Self(thousandths))
    }

    pub fn thousandths(self) -> i64 {
        self.0
    }

    /// The quantity as a number, for JSON (2.5 for 2500).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn from_thousandths(thousandths: i64) -> Self {
        Self(thousandths)
    }
}

/// A line as the client describes it, before prices and defaults are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    pub product_id: Option<Uuid>,
    pub description: Option<LongText>,
    pub quantity: Quantity,
    /// In the document's currency; defaults to the product's unit price.
    pub unit_price: Option<i64>,
    pub discount_percent: Option<Percent>,
    /// Defaults to the product's tax rate, else 0.
    pub tax_rate: Option<Percent>,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub product_id: Option<Uuid>,
    pub description: LongText,
    pub quantity: Quantity,
    pub unit_price: i64,
    pub discount_percent: Percent,
    pub tax_rate: Percent,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

/// The sums of a document's lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    pub total: i64,
}

/// A document's lines in one currency with their totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    pub currency: Currency,
    pub items: Vec<LineItem>,
    pub totals: Totals,
}

/// At most this many lines on one document.
pub const MAX_LINES: usize = 500;

/// `numerator / denominator` rounded half up, for a non-negative numerator and positive denominator.
pub(crate) fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

fn bounded(field: &str, value: i128) -> Result<i64, FieldError> {
    i64::try_from(value)
        .ok()
        .filter(|v| (0..=Money::MAX_AMOUNT).contains(v))
        .ok_or_else(|| FieldError::new(field, "amount_too_large", format!("exceeds {} minor units", Money::MAX_AMOUNT)))
}

impl LineItem {
    /// Prices one line by the rounding rule of this module.
    ///
    /// # Errors
    /// `amount_too_large` on `field` when a figure exceeds [`Money::MAX_AMOUNT`].
    pub fn price(
        field: &str,
        product_id: Option<Uuid>,
        description: LongText,
        quantity: Quantity,
        unit_price: i64,
        discount_percent: Percent,
        tax_rate: Percent,
    ) -> Result<LineItem, FieldError> {
        let subtotal = round_half_up(i128::from(quantity.thousandths()) * i128::from(unit_price), 1000);
        let subtotal = bounded(field, subtotal)?;
        let discount = round_half_up(i128::from(subtotal) * i128::from(discount_percent.hundredths()), 10_000);
        let discount = bounded(field, discount)?;
        let net = subtotal - discount;
        let tax = bounded(field, round_half_up(i128::from(net) * i128::from(tax_rate.hundredths()), 10_000))?;
        let total = bounded(field, i128::from(net) + i128::from(tax))?;
        Ok(LineItem {
            product_id,
            description,
            quantity,
            unit_price,
            discount_percent,
            tax_rate,
            subtotal,
            discount,
            tax,
            total,
        })
    }
}

impl Totals {
    /// # Errors
    /// `amount_too_large` on `line_items` when a sum exceeds [`Money::MAX_AMOUNT`].
    pub fn of(items: &[LineItem]) -> Result<Totals, FieldError> {
        let sum = |f: fn(&LineItem) -> i64| bounded("line_items", items.iter().map(|l| i128::from(f(l))).sum());
        let subtotal = sum(|l| l.subtotal)?;
        let discount_total = sum(|l| l.discount)?;
        let tax_total = sum(|l| l.tax)?;
        let total = sum(|l| l.total)?;
        Ok(Totals { subtotal, discount_total, tax_total, total })
    }
}

impl Lines {
    /// No lines yet.
    pub fn empty(currency: Currency) -> Lines {
        Lines { currency, items: Vec::new(), totals: Totals::default() }
    }

    /// Resolves and prices the drafts in `currency`; `products` holds the products the drafts
    /// name (a missing one is an unknown reference).
    ///
    /// # Errors
    /// Every invalid line at once, on `line_items[i].field`.
    pub fn price(currency: Currency, drafts: &[LineDraft], products: &[Product]) -> Result<Lines, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if drafts.len() > MAX_LINES {
            errors.push(FieldError::new("line_items", "too_many", format!("at most {MAX_LINES} lines")));
            return Err(errors);
        }
        let mut items = Vec::with_capacity(drafts.len());
        for (i, draft) in drafts.iter().enumerate() {
            let field = |name: &str| format!("line_items[{i}].{name}");
            let product = match draft.product_id {
                None => None,
                Some(id) => match products.iter().find(|p| p.id == id) {
                    Some(p) if p.archived_at.is_none() && p.active => Some(p),
                    Some(_) => {
                        errors.push(FieldError::new(
                            field("product_id"),
                            "inactive_product",
                            "the product is not sold",
                        ));
                        continue;
                    }
                    None => {
                        errors.push(FieldError::new(
                            field("product_id"),
                            "unknown_reference",
                            "no such record exists in your organization",
                        ));
                        continue;
                    }
                },
            };
            let description = match (&draft.description, product) {
                (Some(description), _) => description.clone(),
                (None, Some(product)) => LongText::from_trusted(product.name.as_str().to_owned()),
                (None, None) => {
                    errors.push(FieldError::new(
                        field("description"),
                        "required",
                        "a line without a product_id needs a description",
                    ));
                    continue;
                }
            };
            let unit_price = match (draft.unit_price, product) {
                (Some(price), _) => price,
                (None, Some(product)) if product.unit_price.currency == currency => product.unit_price.amount,
                (None, Some(product)) => {
                    errors.push(FieldError::new(
                        field("unit_price"),
                        "currency_mismatch",
                        format!(
                            "the product is priced in {}; give a unit_price in {currency}",
                            product.unit_price.currency
                        ),
                    ));
                    continue;
                }
                (None, None) => {
                    errors.push(FieldError::new(
                        field("unit_price"),
                        "required",
                        "a line without a product_id needs a unit_price",
                    ));
                    continue;
                }
            };
            if !(0..=Money::MAX_AMOUNT).contains(&unit_price) {
                errors.push(FieldError::new(
                    field("unit_price"),
                    "out_of_range",
                    format!("must be between 0 and {}", Money::MAX_AMOUNT),
                ));
                continue;
            }
            let tax_rate = draft.tax_rate.or(product.map(|p| p.tax_rate)).unwrap_or(Percent::from_hundredths(0));
            let discount = draft.discount_percent.unwrap_or(Percent::from_hundredths(0));
            match LineItem::price(
                &format!("line_items[{i}]"),
                draft.product_id,
                description,
                draft.quantity,
                unit_price,
                discount,
                tax_rate,
            ) {
                Ok(item) => items.push(item),
                Err(error) => errors.push(error),
            }
        }
        errors.into_result()?;
        let totals = Totals::of(&items).map_err(ValidationErrors::from)?;
        Ok(Lines { currency, items, totals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(value: f64) -> Percent {
        Percent::parse("p", value).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn qty(value: f64) -> Quantity {
        Quantity::parse("q", value).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn line(quantity: f64, unit_price: i64, discount: f64, tax: f64) -> LineItem {
        LineItem::price(
            "l",
            None,
            LongText::from_trusted("x".into()),
            qty(quantity),
            unit_price,
            pct(discount),
            pct(tax),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn quantities_keep_three_decimals() {
        assert_eq!(Quantity::parse("q", 2.5).map(Quantity::thousandths), Ok(2500));
        assert_eq!(Quantity::parse("q", 0.001).map(Quantity::thousandths), Ok(1));
        assert_eq!(Quantity::parse("q", 1.005).map(Quantity::thousandths), Ok(1005));
        assert_eq!(Quantity::parse("q", 1e9).map(Quantity::thousandths), Ok(1_000_000_000_000));
        assert_eq!(Quantity::parse("q", 1.0005).err().map(|e| e.code), Some("too_precise"));
        for bad in [0.0, -1.0, 1e9 + 1.0, f64::NAN] {
            assert_eq!(Quantity::parse("q", bad).err().map(|e| e.code), Some("out_of_range"), "{bad}");
        }
    }

    #[test]
    fn a_line_rounds_half_up_at_each_step() {
        // 3 × 19.99 = 59.97; 10% discount = 5.997 → 6.00; net 53.97; 19% tax = 10.2543 → 10.25.
        let l = line(3.0, 1999, 10.0, 19.0);
        assert_eq!((l.subtotal, l.discount, l.tax, l.total), (5997, 600, 1025, 6422));
        // 1.5 × 0.33 = 0.495 → 0.50 (half up); no discount; 5.5% of 0.50 = 0.0275 → 0.03.
        let l = line(1.5, 33, 0.0, 5.5);
        assert_eq!((l.subtotal, l.discount, l.tax, l.total), (50, 0, 3, 53));
        // 2.125 × 4.00 = 8.50; 12.5% discount = 1.0625 → 1.06; net 7.44; 0% tax.
        let l = line(2.125, 400, 12.5, 0.0);
        assert_eq!((l.subtotal, l.discount, l.tax, l.total), (850, 106, 0, 744));
        // 0.001 × 0.01 = 0.00001 → 0.
        let l = line(0.001, 1, 0.0, 0.0);
        assert_eq!(l.total, 0);
    }

    #[test]
    fn totals_are_sums_of_rounded_lines() {
        let items = vec![line(3.0, 1999, 10.0, 19.0), line(1.5, 33, 0.0, 5.5), line(2.125, 400, 12.5, 0.0)];
        let totals = Totals::of(&items).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(totals, Totals { subtotal: 6897, discount_total: 706, tax_total: 1028, total: 7219 });
        assert_eq!(totals.subtotal - totals.discount_total + totals.tax_total, totals.total);
    }

    #[test]
    fn figures_beyond_the_money_bound_are_refused() {
        let too_big = LineItem::price(
            "line_items[0]",
            None,
            LongText::from_trusted("x".into()),
            qty(1e9),
            Money::MAX_AMOUNT,
            pct(0.0),
            pct(0.0),
        );
        assert_eq!(too_big.err().map(|e| e.code), Some("amount_too_large"));
        let half = line(1.0, Money::MAX_AMOUNT / 2 + 1, 0.0, 0.0);
        assert_eq!(Totals::of(&[half.clone(), half]).err().map(|e| e.code), Some("amount_too_large"));
    }
}
