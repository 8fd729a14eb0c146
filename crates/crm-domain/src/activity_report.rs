//! The activity report: what was done (failed attempts apart), how often it reached the
//! customer, whether planned work was done on time, and how fast new leads were first reached.
//! The database counts by `GROUP BY`; this module holds the query, the rates and the median.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::activity::{ActivityKind, ActivityOutcome};
use crate::error::FieldError;
use crate::string_enum;

string_enum!(
    /// What the report's lines are grouped by: one or two of them, at most one period.
    ActivityGrouping {
        Owner => "owner",
        Kind => "kind",
        Outcome => "outcome",
        Day => "day",
        Week => "week",
        Month => "month",
    }
);

impl ActivityGrouping {
    pub fn is_period(self) -> bool {
        matches!(self, Self::Day | Self::Week | Self::Month)
    }
}

/// The groupings of one report, checked: none, one, or two different ones of which at most one
/// is a period.
///
/// # Errors
/// `out_of_range` on `group_by` otherwise.
pub fn check_grouping(groups: &[ActivityGrouping]) -> Result<(), FieldError> {
    let periods = groups.iter().filter(|g| g.is_period()).count();
    let repeated = groups.len() == 2 && groups[0] == groups[1];
    if groups.len() > 2 || periods > 1 || repeated {
        return Err(FieldError::new(
            "group_by",
            "out_of_range",
            "at most two different groupings, of which at most one of day, week and month",
        ));
    }
    Ok(())
}

/// The outcomes that count as failed attempts, as stored.
pub fn failed_outcomes() -> Vec<&'static str> {
    ActivityOutcome::ALL.iter().filter(|o| o.is_failed_attempt()).map(|o| o.as_str()).collect()
}

/// What the report counts: done activities that happened in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityReportQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Vec<ActivityGrouping>,
    pub owner_ids: Vec<Uuid>,
    pub kinds: Vec<ActivityKind>,
    pub account_id: Option<Uuid>,
}

/// One group as the database counts it; a key is `None` when the report is not grouped by it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    pub owner_id: Option<Uuid>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    /// `2026-05-01` (day), `2026-04-27` (the Monday of the week), `2026-05` (month).
    pub period: Option<String>,
    /// Done activities.
    pub done: i64,
    /// Of them, failed attempts.
    pub failed: i64,
    /// Of the done ones that had a due date, those done by it and those done after it.
    pub on_time: i64,
    pub late: i64,
}

/// The share of `part` in `whole` as a percentage rounded half up to two decimals; `None` when
/// `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    if whole <= 0 {
        return None;
    }
    let hundredths = crate::lines::round_half_up(i128::from(part) * 10_000, i128::from(whole));
    // At most 10,000 hundredths for a part of the whole: exact as a float.
    Some(f64::from(i32::try_from(hundredths).unwrap_or(i32::MAX)) / 100.0)
}

/// The sum of every line.
pub fn totals(lines: &[ActivityCounts]) -> ActivityCounts {
    lines.iter().fold(ActivityCounts::default(), |t, l| ActivityCounts {
        done: t.done + l.done,
        failed: t.failed + l.failed,
        on_time: t.on_time + l.on_time,
        late: t.late + l.late,
        ..t
    })
}

/// How fast the leads created in the range were first reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadResponse {
    pub leads_created: i64,
    pub leads_reached: i64,
    /// The median of the seconds (rounded to whole ones) from creation to the first interaction (failed attempts
    /// included) over the leads reached; an interaction logged before the lead was created
    /// counts as zero; for an even count, the mean of the two middle values, rounded down.
    pub median_seconds: Option<i64>,
}

/// Where the median lies among `reached` waits sorted in increasing order: how many to skip
/// and how many to read (the middle one, or the middle two for an even count), so that the
/// database hands over one or two values, never the list.
pub fn median_window(reached: i64) -> Option<(i64, i64)> {
    match reached {
        n if n <= 0 => None,
        n if n % 2 == 1 => Some(((n - 1) / 2, 1)),
        n => Some((n / 2 - 1, 2)),
    }
}

/// The median from the values [`median_window`] named.
pub fn median_of(middle: &[i64]) -> Option<i64> {
    match middle {
        [m] => Some(*m),
        [a, b] => Some((a + b).div_euclid(2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_to_two_decimals() {
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(1, 8), Some(12.5));
        assert_eq!(percent(1, 200_000), Some(0.0));
        assert_eq!(percent(1, 40_000), Some(0.0), "0.0025% rounds to 0.00");
        assert_eq!(percent(1, 400), Some(0.25));
        assert_eq!(percent(3, 3), Some(100.0));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn groupings_are_at_most_two_with_one_period() {
        use ActivityGrouping::*;
        assert!(check_grouping(&[]).is_ok());
        assert!(check_grouping(&[Owner, Month]).is_ok());
        assert!(check_grouping(&[Day, Month]).is_err());
        assert!(check_grouping(&[Kind, Kind]).is_err());
        assert!(check_grouping(&[Owner, Kind, Outcome]).is_err());
    }

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_middle_two_rounded_down() {
        // Waits 0, 1,801, 3,600, 86,400 s: skip one, read two, 2,700.5 rounds down.
        assert_eq!(median_window(4), Some((1, 2)));
        assert_eq!(median_of(&[1_801, 3_600]), Some(2_700));
        assert_eq!(median_window(5), Some((2, 1)));
        assert_eq!(median_of(&[3_600]), Some(3_600));
        assert_eq!(median_window(0), None);
        assert_eq!(median_of(&[]), None);
    }

    #[test]
    fn the_failed_outcomes_are_the_five_that_did_not_reach_the_customer() {
        assert_eq!(failed_outcomes(), ["no_answer", "busy", "left_voicemail", "wrong_number", "bounced"]);
    }
}
