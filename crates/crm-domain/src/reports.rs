//! Reports computed from aggregates the database returns: the pipeline (now or as it stood at
//! the end of a day) and the forecast. The database groups and sums; these functions only add up
//! a few grouped rows, in 128-bit integers so that no sum can overflow silently.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::FieldError;
use crate::money::Currency;
use crate::opportunity::OpportunityStage;

/// Which opportunities a pipeline counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineQuery {
    pub owner_ids: Vec<Uuid>,
    pub account_id: Option<Uuid>,
    pub expected_close_after: Option<NaiveDate>,
    pub expected_close_before: Option<NaiveDate>,
    /// Rebuild the pipeline as it stood at the end of this day (UTC) from the stage history.
    pub as_of: Option<NaiveDate>,
}

/// One group the database returns: open deals of one stage, currency and probability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineGroup {
    pub stage: OpportunityStage,
    /// `None` for deals without an amount.
    pub currency: Option<Currency>,
    pub probability: u8,
    pub count: i64,
    /// The sum of the group's amounts, in minor units (128 bits: a sum can exceed 64).
    pub amount: i128,
}

/// A line of the pipeline report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineLine {
    pub stage: OpportunityStage,
    pub currency: Option<Currency>,
    pub count: i64,
    pub total_amount: i64,
    /// Σ amount × probability / 100, rounded half up once at the end.
    pub weighted_amount: i64,
}

/// A sum too large for the API's 64-bit amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a total exceeds the largest amount the API can represent")]
pub struct AmountOverflow;

fn to_i64(value: i128) -> Result<i64, AmountOverflow> {
    i64::try_from(value).map_err(|_| AmountOverflow)
}

/// `numerator / 100`, rounded half up (amounts are never negative).
fn percent_of(numerator: i128) -> i128 {
    (numerator + 50).div_euclid(100)
}

/// Adds up the groups into one line per stage (in pipeline order) and currency.
///
/// # Errors
/// [`AmountOverflow`] when a total does not fit 64 bits.
pub fn pipeline(groups: &[PipelineGroup]) -> Result<Vec<PipelineLine>, AmountOverflow> {
    let mut lines = Vec::new();
    for stage in OpportunityStage::OPEN {
        let mut currencies: Vec<Option<Currency>> =
            groups.iter().filter(|g| g.stage == *stage).map(|g| g.currency).collect();
        currencies.sort_by_key(|c| c.map(Currency::code));
        currencies.dedup();
        for currency in currencies {
            let mine = groups.iter().filter(|g| g.stage == *stage && g.currency == currency);
            let (mut count, mut total, mut weighted) = (0_i128, 0_i128, 0_i128);
            for group in mine {
                count += i128::from(group.count);
                total += group.amount;
                weighted += group.amount * i128::from(group.probability);
            }
            lines.push(PipelineLine {
                stage: *stage,
                currency,
                count: to_i64(count)?,
                total_amount: to_i64(total)?,
                weighted_amount: to_i64(percent_of(weighted))?,
            });
        }
    }
    Ok(lines)
}

/// How a forecast groups periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Month,
    Quarter,
    Year,
}

impl Interval {
    /// # Errors
    /// `invalid_value` listing month, quarter, year.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "month" => Ok(Interval::Month),
            "quarter" => Ok(Interval::Quarter),
            "year" => Ok(Interval::Year),
            _ => Err(FieldError::new(field, "invalid_value", "must be one of: month, quarter, year")),
        }
    }

    /// The period label of a `YYYY-MM` month: `2026-11`, `2026-Q4` or `2026`.
    pub fn label(self, month: &str) -> String {
        let (year, mm) = month.split_once('-').unwrap_or((month, "01"));
        match self {
            Interval::Month => month.to_owned(),
            Interval::Quarter => {
                let m: u32 = mm.parse().unwrap_or(1);
                format!("{year}-Q{}", (m.saturating_sub(1)) / 3 + 1)
            }
            Interval::Year => year.to_owned(),
        }
    }
}

/// Open deals expected to close in one month, of one currency and probability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastOpenGroup {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: Currency,
    pub probability: u8,
    pub count: i64,
    /// The sum of the group's amounts, in minor units (128 bits: a sum can exceed 64).
    pub amount: i128,
}

/// Deals closed won in one month, of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastWonGroup {
    pub month: String,
    pub currency: Currency,
    pub count: i64,
    /// The sum of the group's amounts, in minor units (128 bits: a sum can exceed 64).
    pub amount: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastLine {
    pub period: String,
    pub currency: Currency,
    pub open_count: i64,
    /// Σ amount of the open deals expected to close in the period.
    pub expected_amount: i64,
    /// Σ amount × probability / 100, rounded half up once at the end.
    pub weighted_amount: i64,
    pub won_count: i64,
    pub won_amount: i64,
}

/// Every month label `YYYY-MM` from `from` to `to`, inclusive.
pub fn months(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let (mut year, mut month) = (from.year(), from.month());
    while (year, month) <= (to.year(), to.month()) {
        out.push(format!("{year:04}-{month:02}"));
        if month == 12 {
            year += 1;
            month = 1;
        } else {
            month += 1;
        }
    }
    out
}

/// One line per period (every period of the range, empty ones too) and currency seen.
///
/// # Errors
/// [`AmountOverflow`] when a total does not fit 64 bits.
pub fn forecast(
    from: NaiveDate,
    to: NaiveDate,
    interval: Interval,
    open: &[ForecastOpenGroup],
    won: &[ForecastWonGroup],
) -> Result<Vec<ForecastLine>, AmountOverflow> {
    let mut periods: Vec<String> = months(from, to).iter().map(|m| interval.label(m)).collect();
    periods.dedup();
    let mut currencies: Vec<Currency> = open.iter().map(|g| g.currency).chain(won.iter().map(|g| g.currency)).collect();
    currencies.sort_by_key(|c| c.code());
    currencies.dedup();
    let mut lines = Vec::new();
    for period in &periods {
        for currency in &currencies {
            let (mut open_count, mut expected, mut weighted, mut won_count, mut won_amount) =
                (0_i128, 0_i128, 0_i128, 0_i128, 0_i128);
            for g in open.iter().filter(|g| g.currency == *currency && interval.label(&g.month) == *period) {
                open_count += i128::from(g.count);
                expected += g.amount;
                weighted += g.amount * i128::from(g.probability);
            }
            for g in won.iter().filter(|g| g.currency == *currency && interval.label(&g.month) == *period) {
                won_count += i128::from(g.count);
                won_amount += g.amount;
            }
            lines.push(ForecastLine {
                period: period.clone(),
                currency: *currency,
                open_count: to_i64(open_count)?,
                expected_amount: to_i64(expected)?,
                weighted_amount: to_i64(percent_of(weighted))?,
                won_count: to_i64(won_count)?,
                won_amount: to_i64(won_amount)?,
            });
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn weighted_amounts_round_once_at_the_end() {
        // 3 deals of 333 cents at 10%: 3 × 33.3 = 99.9 → 100, not 3 × 33 = 99.
        let groups = vec![PipelineGroup {
            stage: OpportunityStage::Prospecting,
            currency: Some(eur()),
            probability: 10,
            count: 3,
            amount: 999,
        }];
        let lines = pipeline(&groups).unwrap();
        assert_eq!(
            lines,
            vec![PipelineLine {
                stage: OpportunityStage::Prospecting,
                currency: Some(eur()),
                count: 3,
                total_amount: 999,
                weighted_amount: 100
            }]
        );
    }

    #[test]
    fn lines_follow_the_stage_order_and_keep_currencies_apart() {
        let usd = Currency::parse("c", "USD").unwrap_or_else(|e| panic!("{e:?}"));
        let groups = vec![
            PipelineGroup {
                stage: OpportunityStage::Negotiation,
                currency: Some(eur()),
                probability: 80,
                count: 1,
                amount: 1000,
            },
            PipelineGroup {
                stage: OpportunityStage::Prospecting,
                currency: Some(usd),
                probability: 10,
                count: 2,
                amount: 500,
            },
            PipelineGroup {
                stage: OpportunityStage::Prospecting,
                currency: Some(eur()),
                probability: 25,
                count: 1,
                amount: 400,
            },
            PipelineGroup {
                stage: OpportunityStage::Prospecting,
                currency: Some(eur()),
                probability: 10,
                count: 1,
                amount: 100,
            },
            PipelineGroup {
                stage: OpportunityStage::Prospecting,
                currency: None,
                probability: 10,
                count: 4,
                amount: 0,
            },
        ];
        let lines = pipeline(&groups).unwrap();
        let summary: Vec<(&str, Option<&str>, i64, i64, i64)> = lines
            .iter()
            .map(|l| (l.stage.as_str(), l.currency.map(Currency::code), l.count, l.total_amount, l.weighted_amount))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("prospecting", None, 4, 0, 0),
                ("prospecting", Some("EUR"), 2, 500, 110),
                ("prospecting", Some("USD"), 2, 500, 50),
                ("negotiation", Some("EUR"), 1, 1000, 800),
            ]
        );
    }

    #[test]
    fn sums_that_do_not_fit_are_refused() {
        let groups = vec![
            PipelineGroup {
                stage: OpportunityStage::Proposal,
                currency: Some(eur()),
                probability: 60,
                count: 1,
                amount: i128::from(i64::MAX),
            },
            PipelineGroup {
                stage: OpportunityStage::Proposal,
                currency: Some(eur()),
                probability: 80,
                count: 1,
                amount: i128::from(i64::MAX),
            },
        ];
        assert_eq!(pipeline(&groups).err(), Some(AmountOverflow));
    }

    #[test]
    fn a_forecast_lists_every_period_and_rolls_months_into_quarters() {
        let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap_or_default();
        let open = vec![
            ForecastOpenGroup { month: "2026-12".into(), currency: eur(), probability: 50, count: 1, amount: 1000 },
            ForecastOpenGroup { month: "2027-01".into(), currency: eur(), probability: 20, count: 2, amount: 3000 },
        ];
        let won = vec![ForecastWonGroup { month: "2026-11".into(), currency: eur(), count: 1, amount: 700 }];
        let monthly = forecast(from, to, Interval::Month, &open, &won).unwrap();
        let rows: Vec<(&str, i64, i64, i64)> =
            monthly.iter().map(|l| (l.period.as_str(), l.expected_amount, l.weighted_amount, l.won_amount)).collect();
        assert_eq!(
            rows,
            vec![("2026-11", 0, 0, 700), ("2026-12", 1000, 500, 0), ("2027-01", 3000, 600, 0), ("2027-02", 0, 0, 0)]
        );
        let quarterly = forecast(from, to, Interval::Quarter, &open, &won).unwrap();
        let rows: Vec<(&str, i64, i64)> =
            quarterly.iter().map(|l| (l.period.as_str(), l.expected_amount, l.won_amount)).collect();
        assert_eq!(rows, vec![("2026-Q4", 1000, 700), ("2027-Q1", 3000, 0)]);
    }
}
