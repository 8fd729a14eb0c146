//! The tickets report: the backlog, the flow of tickets created and solved, SLA compliance,
//! the business time to the first response and to the resolution (median and 90th percentile),
//! the reopen rate, complaints per account and per product, and the deals support handed to
//! sales. The database counts by `GROUP BY` and hands over the one or two values a percentile
//! needs; this module names the query, the rows and the arithmetic over them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::string_enum;
use crate::ticket::{TicketPriority, TicketStatus};

string_enum!(
    /// The period the flow of tickets is counted by (UTC; a week starts on Monday).
    TicketPeriod {
        Day => "day",
        Week => "week",
        Month => "month",
    }
);

/// What the report covers: events from `from` (included) to `to` (excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketReportQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub period: TicketPeriod,
}

/// Active tickets of one status and priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogCount {
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub count: i64,
}

/// Tickets created and solved in one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowCount {
    /// `2026-05-01` (day), `2026-04-27` (the Monday of the week), `2026-05` (month).
    pub period: String,
    pub created: i64,
    pub solved: i64,
}

/// Events of one SLA target (first responses, or solves) in the range for one priority and
/// agent, and how many met their deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCount {
    pub priority: TicketPriority,
    pub owner_id: Option<Uuid>,
    pub total: i64,
    pub met: i64,
}

/// The count, median and 90th percentile of a duration in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DurationStats {
    pub count: i64,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

/// Deals support handed to sales in the range, in one currency (`None`: without an amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportSales {
    pub currency: Option<String>,
    pub created: i64,
    pub won: i64,
    pub won_amount: i64,
}

/// Everything the store counts for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketReportData {
    pub backlog: Vec<BacklogCount>,
    /// Created per period, in order of period.
    pub created: Vec<(String, i64)>,
    /// Solved per period, in order of period.
    pub solved: Vec<(String, i64)>,
    pub first_responses: Vec<TargetCount>,
    pub resolutions: Vec<TargetCount>,
    pub first_response_time: DurationStats,
    pub resolution_time: DurationStats,
    /// Tickets created in the range that were ever solved, and of them those reopened.
    pub ever_solved: i64,
    pub reopened: i64,
    /// Complaints created in the range.
    pub complaints: i64,
    /// The accounts and the products with the most complaints created in the range (at most
    /// [`TOP_COMPLAINTS`] each), most first.
    pub complaints_by_account: Vec<(Uuid, i64)>,
    pub complaints_by_product: Vec<(Uuid, i64)>,
    pub support_sales: Vec<SupportSales>,
}

/// How many accounts and products the complaint tables list.
pub const TOP_COMPLAINTS: i64 = 50;

/// The backlog in the order of the statuses, the most urgent first within each.
pub fn order_backlog(backlog: &mut [BacklogCount]) {
    let status = |s: TicketStatus| TicketStatus::ALL.iter().position(|x| *x == s).unwrap_or(usize::MAX);
    let priority = |p: TicketPriority| TicketPriority::ALL.iter().position(|x| *x == p).unwrap_or(0);
    backlog.sort_by_key(|b| (status(b.status), std::cmp::Reverse(priority(b.priority))));
}

/// The created and solved counts merged by period, in order.
pub fn flow(created: &[(String, i64)], solved: &[(String, i64)]) -> Vec<FlowCount> {
    let mut lines: std::collections::BTreeMap<&str, FlowCount> = std::collections::BTreeMap::new();
    for (period, n) in created {
        lines.entry(period).or_insert_with(|| FlowCount { period: period.clone(), ..FlowCount::default() }).created +=
            n;
    }
    for (period, n) in solved {
        lines.entry(period).or_insert_with(|| FlowCount { period: period.clone(), ..FlowCount::default() }).solved += n;
    }
    lines.into_values().collect()
}

/// The (total, met) of the counts grouped by `key`, in order of key.
pub fn compliance_by<K: Ord + Copy>(counts: &[TargetCount], key: impl Fn(&TargetCount) -> K) -> Vec<(K, i64, i64)> {
    let mut groups: std::collections::BTreeMap<K, (i64, i64)> = std::collections::BTreeMap::new();
    for c in counts {
        let entry = groups.entry(key(c)).or_default();
        entry.0 += c.total;
        entry.1 += c.met;
    }
    groups.into_iter().map(|(k, (total, met))| (k, total, met)).collect()
}

/// The offset of the 90th percentile among `n` sorted values, by nearest rank (the value at rank
/// ⌈0.9 n⌉); `None` for none.
pub fn p90_offset(n: i64) -> Option<i64> {
    if n <= 0 {
        return None;
    }
    Some((n * 9).div_euclid(10) + i64::from((n * 9).rem_euclid(10) != 0) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_90th_percentile_is_the_nearest_rank() {
        assert_eq!(p90_offset(0), None);
        // One value: itself. Ten values: the ninth. Eleven: rank ⌈9.9⌉ = 10.
        assert_eq!(p90_offset(1), Some(0));
        assert_eq!(p90_offset(10), Some(8));
        assert_eq!(p90_offset(11), Some(9));
        assert_eq!(p90_offset(20), Some(17));
        assert_eq!(p90_offset(3), Some(2));
    }

    #[test]
    fn the_flow_merges_both_counts_by_period() {
        let created = vec![("2026-04-13".to_owned(), 3), ("2026-04-15".to_owned(), 1)];
        let solved = vec![("2026-04-14".to_owned(), 2), ("2026-04-15".to_owned(), 1)];
        let lines = flow(&created, &solved);
        let got: Vec<(&str, i64, i64)> = lines.iter().map(|l| (l.period.as_str(), l.created, l.solved)).collect();
        assert_eq!(got, [("2026-04-13", 3, 0), ("2026-04-14", 0, 2), ("2026-04-15", 1, 1)]);
    }
}
