//! The organisation's SLA policy as a setting (`/settings/sla`): the targets of each priority,
//! the business calendar and the reopen window, with its version, the changes a patch makes
//! (for the audit trail), and the text forms the database keeps them in. Changing the policy
//! applies to tickets created after the change; existing tickets keep their deadlines.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::sla::{BusinessCalendar, BusinessHours, CalendarError, SlaClock, SlaPolicy, SlaPriority, SlaTarget};
use crate::string_enum;

/// The longest target: a year, in minutes.
pub const MAX_TARGET_MINUTES: u32 = 525_600;
/// The longest reopen window, in days.
pub const MAX_REOPEN_WINDOW_DAYS: u32 = 365;
/// The most business-hours intervals in one day.
pub const MAX_INTERVALS_PER_DAY: usize = 4;
/// The most holidays a calendar lists.
pub const MAX_HOLIDAYS: usize = 400;

string_enum!(
    /// The two steps an SLA times.
    SlaStep {
        FirstResponse => "first_response",
        Resolution => "resolution",
    }
);

string_enum!(
    /// The clock of a target, as the API names it.
    SlaClockName {
        Calendar => "calendar",
        Business => "business",
    }
);

impl From<SlaClockName> for SlaClock {
    fn from(c: SlaClockName) -> Self {
        match c {
            SlaClockName::Calendar => SlaClock::Calendar,
            SlaClockName::Business => SlaClock::Business,
        }
    }
}

/// The API's name of `clock`.
pub fn clock_name(clock: SlaClock) -> &'static str {
    match clock {
        SlaClock::Calendar => "calendar",
        SlaClock::Business => "business",
    }
}

/// The days of the week, Monday first, with their API names.
pub const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "monday"),
    (Weekday::Tue, "tuesday"),
    (Weekday::Wed, "wednesday"),
    (Weekday::Thu, "thursday"),
    (Weekday::Fri, "friday"),
    (Weekday::Sat, "saturday"),
    (Weekday::Sun, "sunday"),
];

/// An organisation's SLA policy with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaSettings {
    pub organization_id: Uuid,
    pub policy: SlaPolicy,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// A change of the policy; what is absent keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaPatch {
    /// Targets replaced, each whole.
    pub targets: Vec<(SlaPriority, SlaStep, SlaTarget)>,
    pub time_zone: Option<Tz>,
    /// Days whose business hours are replaced (an empty list: closed that day).
    pub hours: Vec<(Weekday, Vec<BusinessHours>)>,
    pub holidays: Option<Vec<NaiveDate>>,
    pub reopen_window_days: Option<u32>,
}

/// `minutes` of a target, 1 to [`MAX_TARGET_MINUTES`].
///
/// # Errors
/// A [`FieldError`] `out_of_range` naming `field`.
pub fn parse_minutes(field: &str, minutes: i64) -> Result<u32, FieldError> {
    u32::try_from(minutes).ok().filter(|m| (1..=MAX_TARGET_MINUTES).contains(m)).ok_or_else(|| {
        FieldError::new(field, "out_of_range", format!("must be between 1 and {MAX_TARGET_MINUTES} minutes"))
    })
}

/// A reopen window of 0 to [`MAX_REOPEN_WINDOW_DAYS`] days.
///
/// # Errors
/// A [`FieldError`] `out_of_range` naming `field`.
pub fn parse_reopen_window(field: &str, days: i64) -> Result<u32, FieldError> {
    u32::try_from(days).ok().filter(|d| *d <= MAX_REOPEN_WINDOW_DAYS).ok_or_else(|| {
        FieldError::new(field, "out_of_range", format!("must be between 0 and {MAX_REOPEN_WINDOW_DAYS} days"))
    })
}

/// An IANA time zone name such as `Europe/Paris`.
///
/// # Errors
/// A [`FieldError`] `unknown_time_zone` naming `field`.
pub fn parse_time_zone(field: &str, raw: &str) -> Result<Tz, FieldError> {
    raw.parse::<Tz>()
        .map_err(|_| FieldError::new(field, "unknown_time_zone", "must be an IANA time zone such as Europe/Paris"))
}

/// A local time `HH:MM`; as an end, `24:00` is the midnight that ends the day.
///
/// # Errors
/// A [`FieldError`] `invalid_time` naming `field`.
pub fn parse_clock_time(field: &str, raw: &str, end: bool) -> Result<NaiveTime, FieldError> {
    if end && raw == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    let ok = raw.len() == 5 && raw.as_bytes().get(2) == Some(&b':');
    ok.then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| FieldError::new(field, "invalid_time", "must be a local time HH:MM (an end may be 24:00)"))
}

/// A local time as the API writes it; an end at midnight is `24:00`.
pub fn clock_time_text(time: NaiveTime, end: bool) -> String {
    if end && time == NaiveTime::MIN { "24:00".to_owned() } else { time.format("%H:%M").to_string() }
}

/// A target as its column keeps it: `"480 business"`.
pub fn target_text(target: SlaTarget) -> String {
    format!("{} {}", target.minutes, clock_name(target.clock))
}

/// A target from its column; `None` when the text is not one [`target_text`] writes.
pub fn parse_target_text(text: &str) -> Option<SlaTarget> {
    let (minutes, clock) = text.split_once(' ')?;
    let minutes = minutes.parse::<u32>().ok().filter(|m| (1..=MAX_TARGET_MINUTES).contains(m))?;
    let clock = SlaClockName::parse("clock", clock).ok()?;
    Some(SlaTarget { minutes, clock: clock.into() })
}

/// A day's hours as its column keeps them: `"09:00-12:00,13:00-17:00"` (empty: closed).
pub fn hours_text(hours: &[BusinessHours]) -> String {
    hours
        .iter()
        .map(|h| format!("{}-{}", clock_time_text(h.start, false), clock_time_text(h.end, true)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A day's hours from its column; `None` when the text is not one [`hours_text`] writes.
pub fn parse_hours_text(text: &str) -> Option<Vec<BusinessHours>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|interval| {
            let (start, end) = interval.split_once('-')?;
            Some(BusinessHours::new(parse_clock_time("", start, false).ok()?, parse_clock_time("", end, true).ok()?))
        })
        .collect()
}

/// Holidays as their column keeps them: `"2026-12-25,2027-01-01"`.
pub fn holidays_text(holidays: &BTreeSet<NaiveDate>) -> String {
    holidays.iter().map(NaiveDate::to_string).collect::<Vec<_>>().join(",")
}

/// Holidays from their column; `None` when the text is not one [`holidays_text`] writes.
pub fn parse_holidays_text(text: &str) -> Option<Vec<NaiveDate>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',').map(|d| d.parse().ok()).collect()
}

/// Where `error` lies in a patch's body.
pub fn calendar_error_field(error: CalendarError) -> FieldError {
    let day = |weekday: Weekday| WEEKDAYS.iter().find(|(d, _)| *d == weekday).map_or("monday", |(_, n)| n);
    let (field, message) = match error {
        CalendarError::EmptyHours { weekday } => {
            (format!("calendar.hours.{}", day(weekday)), "each interval must start before it ends")
        }
        CalendarError::Unordered { weekday } => {
            (format!("calendar.hours.{}", day(weekday)), "intervals must be listed in order of their start")
        }
        CalendarError::Overlapping { weekday } => (format!("calendar.hours.{}", day(weekday)), "intervals overlap"),
        CalendarError::NoBusinessHours => {
            ("calendar.hours".to_owned(), "at least one day of the week needs business hours")
        }
    };
    FieldError::new(&field, error.code(), message)
}

fn targets_audit(policy: &SlaPolicy, priority: SlaPriority, step: SlaStep) -> AuditValue {
    let targets = policy.targets(priority);
    let target = match step {
        SlaStep::FirstResponse => targets.first_response,
        SlaStep::Resolution => targets.resolution,
    };
    AuditValue::text(target_text(target))
}

impl SlaSettings {
    /// A new organisation's policy: the default targets on Monday to Friday 09:00 to 17:30 in
    /// UTC, no holidays, a reopen window of 7 days.
    pub fn defaults(organization_id: Uuid, now: DateTime<Utc>) -> Self {
        Self { organization_id, policy: SlaPolicy::default(), version: 1, updated_at: now }
    }

    /// The policy after `patch`, with the changes for the audit trail (none, and the same
    /// version, when it changes nothing).
    ///
    /// # Errors
    /// The [`CalendarError`] of a calendar the patch makes invalid.
    pub fn apply(
        &self,
        patch: &SlaPatch,
        now: DateTime<Utc>,
    ) -> Result<(SlaSettings, Vec<FieldChange>), CalendarError> {
        let old = &self.policy;
        let mut policy = old.clone();
        let mut changes = Vec::new();
        for (priority, step, target) in &patch.targets {
            let targets = match priority {
                SlaPriority::Low => &mut policy.low,
                SlaPriority::Normal => &mut policy.normal,
                SlaPriority::High => &mut policy.high,
                SlaPriority::Urgent => &mut policy.urgent,
            };
            match step {
                SlaStep::FirstResponse => targets.first_response = *target,
                SlaStep::Resolution => targets.resolution = *target,
            }
        }
        for priority in SlaPriority::ALL {
            for step in SlaStep::ALL {
                let (before, after) = (targets_audit(old, *priority, *step), targets_audit(&policy, *priority, *step));
                if before != after {
                    changes.push(FieldChange::new(
                        &format!("targets.{}.{}", priority.as_str(), step.as_str()),
                        before,
                        after,
                    ));
                }
            }
        }
        let calendar = &old.calendar;
        let time_zone = patch.time_zone.unwrap_or(calendar.time_zone());
        let mut week: [Vec<BusinessHours>; 7] = Default::default();
        for (index, (weekday, _)) in WEEKDAYS.iter().enumerate() {
            let hours = patch
                .hours
                .iter()
                .rev()
                .find(|(d, _)| d == weekday)
                .map_or_else(|| calendar.hours(*weekday).to_vec(), |(_, h)| h.clone());
            if let Some(slot) = week.get_mut(index) {
                *slot = hours;
            }
        }
        let holidays: Vec<NaiveDate> =
            patch.holidays.clone().unwrap_or_else(|| calendar.holidays().iter().copied().collect());
        policy.calendar = BusinessCalendar::new(time_zone, week, holidays)?;
        if time_zone != calendar.time_zone() {
            changes.push(FieldChange::new(
                "calendar.time_zone",
                AuditValue::text(calendar.time_zone().name()),
                AuditValue::text(time_zone.name()),
            ));
        }
        for (weekday, name) in WEEKDAYS {
            let (before, after) = (hours_text(calendar.hours(weekday)), hours_text(policy.calendar.hours(weekday)));
            if before != after {
                changes.push(FieldChange::new(
                    &format!("calendar.hours.{name}"),
                    AuditValue::text(before),
                    AuditValue::text(after),
                ));
            }
        }
        let (before, after) = (holidays_text(calendar.holidays()), holidays_text(policy.calendar.holidays()));
        if before != after {
            changes.push(FieldChange::new("calendar.holidays", AuditValue::text(before), AuditValue::text(after)));
        }
        if let Some(days) = patch.reopen_window_days {
            policy.reopen_window_days = days;
            if days != old.reopen_window_days {
                changes.push(FieldChange::new(
                    "reopen_window_days",
                    AuditValue::Integer(i64::from(old.reopen_window_days)),
                    AuditValue::Integer(i64::from(days)),
                ));
            }
        }
        if changes.is_empty() {
            return Ok((self.clone(), changes));
        }
        let next =
            SlaSettings { organization_id: self.organization_id, policy, version: self.version + 1, updated_at: now };
        Ok((next, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn the_columns_read_back_what_they_were_given() {
        let hours = vec![BusinessHours::new(t(9, 0), t(12, 0)), BusinessHours::new(t(13, 0), NaiveTime::MIN)];
        assert_eq!(hours_text(&hours), "09:00-12:00,13:00-24:00");
        assert_eq!(parse_hours_text(&hours_text(&hours)), Some(hours));
        assert_eq!(parse_hours_text(""), Some(vec![]));
        assert_eq!(parse_hours_text("9-12"), None);
        assert_eq!(parse_target_text(&target_text(SlaTarget::business(480))), Some(SlaTarget::business(480)));
        assert_eq!(parse_target_text("0 calendar"), None);
        let days: BTreeSet<NaiveDate> = ["2026-12-25", "2027-01-01"].iter().map(|d| d.parse().unwrap()).collect();
        assert_eq!(parse_holidays_text(&holidays_text(&days)), Some(days.into_iter().collect()));
    }

    #[test]
    fn inputs_are_checked() {
        assert_eq!(parse_minutes("m", 0).unwrap_err().code, "out_of_range");
        assert_eq!(parse_minutes("m", 525_601).unwrap_err().code, "out_of_range");
        assert_eq!(parse_minutes("m", 60), Ok(60));
        assert_eq!(parse_time_zone("tz", "Europe/Paris"), Ok(chrono_tz::Europe::Paris));
        assert_eq!(parse_time_zone("tz", "Mars/Olympus").unwrap_err().code, "unknown_time_zone");
        assert_eq!(parse_clock_time("x", "24:00", true), Ok(NaiveTime::MIN));
        assert!(parse_clock_time("x", "24:00", false).is_err());
        assert!(parse_clock_time("x", "9:00", false).is_err());
        assert_eq!(parse_reopen_window("r", 366).unwrap_err().code, "out_of_range");
    }

    #[test]
    fn a_patch_changes_what_it_names_and_says_so() {
        let now = Utc::now();
        let settings = SlaSettings::defaults(Uuid::now_v7(), now);
        let (same, changes) = settings.apply(&SlaPatch::default(), now).unwrap();
        assert_eq!((same.version, changes.len()), (1, 0));
        let patch = SlaPatch {
            targets: vec![(SlaPriority::Urgent, SlaStep::FirstResponse, SlaTarget::calendar(30))],
            time_zone: Some(chrono_tz::Europe::Paris),
            hours: vec![(Weekday::Sat, vec![BusinessHours::new(t(10, 0), t(14, 0))])],
            holidays: Some(vec!["2026-12-25".parse().unwrap()]),
            reopen_window_days: Some(3),
        };
        let (next, changes) = settings.apply(&patch, now).unwrap();
        assert_eq!(next.version, 2);
        assert_eq!(next.policy.urgent.first_response, SlaTarget::calendar(30));
        assert_eq!(next.policy.calendar.hours(Weekday::Sat), [BusinessHours::new(t(10, 0), t(14, 0))]);
        assert_eq!(next.policy.calendar.hours(Weekday::Mon), settings.policy.calendar.hours(Weekday::Mon));
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "targets.urgent.first_response",
                "calendar.time_zone",
                "calendar.hours.saturday",
                "calendar.holidays",
                "reopen_window_days"
            ]
        );
        let closed_week =
            SlaPatch { hours: WEEKDAYS.iter().map(|(d, _)| (*d, Vec::new())).collect(), ..SlaPatch::default() };
        let refused = settings.apply(&closed_week, now).unwrap_err();
        assert_eq!(calendar_error_field(refused).field, "calendar.hours");
    }
}
