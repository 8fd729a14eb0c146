//! The competitor report, assembled from the few grouped rows the database returns: one row of
//! deal counts per competitor, the lost deals per competitor and currency, and the price gap of
//! each competitor's products to ours.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::money::{Currency, Money};
use crate::reports::AmountOverflow;
use crate::value::Name;

/// Which deals the report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompetitorReportQuery {
    /// Only deals owned by these users (any when empty).
    pub owner_ids: Vec<Uuid>,
    /// Won and lost count only deals closed on or after this day (UTC).
    pub closed_after: Option<NaiveDate>,
    /// Won and lost count only deals closed on or before this day (UTC).
    pub closed_before: Option<NaiveDate>,
}

/// One active competitor with the active deals it is linked to, counted by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorDealGroup {
    pub competitor_id: Uuid,
    pub name: Name,
    pub opportunities: i64,
    pub won: i64,
    pub open: i64,
}

/// The deals lost to one competitor in one currency (`None`: deals without an amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorLossGroup {
    pub competitor_id: Uuid,
    pub currency: Option<Currency>,
    pub count: i64,
    /// The sum of the lost deals' amounts, in minor units (128 bits: a sum can exceed 64).
    pub amount: i128,
}

/// The price gap of one competitor's products to the products of ours they are compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceGapGroup {
    pub competitor_id: Uuid,
    pub compared: i64,
    /// The mean of (their price − our price) / our price × 100, unrounded.
    pub average_percent: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceGap {
    /// How many of its products have a compared product of ours in the same currency.
    pub compared: i64,
    /// The average gap in percent of our price, rounded to two decimals; negative when they are
    /// cheaper; `None` when nothing is compared.
    pub average_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompetitorReportLine {
    pub competitor_id: Uuid,
    pub name: Name,
    pub opportunities: i64,
    pub won: i64,
    pub lost: i64,
    /// Per currency, in code order.
    pub lost_amount: Vec<Money>,
    pub open: i64,
    pub price_gap: PriceGap,
}

/// A percentage rounded to two decimals, half away from zero.
pub fn round_percent(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// One line per competitor, in the order of `deals` (the database sorts them by name).
///
/// # Errors
/// [`AmountOverflow`] when a lost amount does not fit the API's 64-bit amounts.
pub fn competitor_report(
    deals: &[CompetitorDealGroup],
    losses: &[CompetitorLossGroup],
    gaps: &[PriceGapGroup],
) -> Result<Vec<CompetitorReportLine>, AmountOverflow> {
    deals
        .iter()
        .map(|d| {
            let mine: Vec<&CompetitorLossGroup> =
                losses.iter().filter(|l| l.competitor_id == d.competitor_id).collect();
            let mut lost_amount = mine
                .iter()
                .filter_map(|l| {
                    l.currency.map(|currency| {
                        i64::try_from(l.amount).map(|amount| Money { amount, currency }).map_err(|_| AmountOverflow)
                    })
                })
                .collect::<Result<Vec<Money>, AmountOverflow>>()?;
            lost_amount.sort_by_key(|m| m.currency.code());
            let gap = gaps.iter().find(|g| g.competitor_id == d.competitor_id && g.compared > 0);
            Ok(CompetitorReportLine {
                competitor_id: d.competitor_id,
                name: d.name.clone(),
                opportunities: d.opportunities,
                won: d.won,
                lost: mine.iter().map(|l| l.count).sum(),
                lost_amount,
                open: d.open,
                price_gap: PriceGap {
                    compared: gap.map_or(0, |g| g.compared),
                    average_percent: gap.map(|g| round_percent(g.average_percent)),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_to_two_decimals_away_from_zero() {
        assert_eq!(round_percent(-0.833_333), -0.83);
        assert_eq!(round_percent(8.336), 8.34);
        assert_eq!(round_percent(-12.5), -12.5);
        assert_eq!(round_percent(0.0), 0.0);
    }

    #[test]
    fn lines_gather_losses_per_currency_and_the_price_gap() {
        let eur = Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
        let usd = Currency::parse("c", "USD").unwrap_or_else(|e| panic!("{e:?}"));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let deals = [
            CompetitorDealGroup {
                competitor_id: a,
                name: Name::from_trusted("A".into()),
                opportunities: 4,
                won: 1,
                open: 1,
            },
            CompetitorDealGroup {
                competitor_id: b,
                name: Name::from_trusted("B".into()),
                opportunities: 0,
                won: 0,
                open: 0,
            },
        ];
        let losses = [
            CompetitorLossGroup { competitor_id: a, currency: Some(usd), count: 1, amount: 300 },
            CompetitorLossGroup { competitor_id: a, currency: None, count: 1, amount: 0 },
            CompetitorLossGroup { competitor_id: a, currency: Some(eur), count: 2, amount: 1500 },
        ];
        let gaps = [PriceGapGroup { competitor_id: a, compared: 2, average_percent: -0.833_333 }];
        let lines = competitor_report(&deals, &losses, &gaps).unwrap_or_default();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].lost, 4, "deals without an amount count as lost too");
        assert_eq!(
            lines[0].lost_amount,
            vec![Money { amount: 1500, currency: eur }, Money { amount: 300, currency: usd }]
        );
        assert_eq!(lines[0].price_gap, PriceGap { compared: 2, average_percent: Some(-0.83) });
        assert_eq!((lines[1].lost, lines[1].lost_amount.len()), (0, 0));
        assert_eq!(lines[1].price_gap, PriceGap { compared: 0, average_percent: None });
    }
}
