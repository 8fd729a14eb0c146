//! Service level agreements of support tickets: when a ticket must have its first response and
//! its resolution, counted either in real elapsed time or in business time.
//!
//! Business time is the time inside the opening hours of a [`BusinessCalendar`]: a weekly
//! schedule of local wall-clock intervals in an IANA time zone, minus holidays. Every interval is
//! turned into UTC instants for its own concrete date, so a deadline stays right across daylight
//! saving changes: a local time that falls in a spring-forward gap stands for the first instant
//! after the gap, and a local time that occurs twice in a fall-back overlap stands for the
//! earlier of the two. The arithmetic walks the calendar one local day at a time, never minute
//! by minute, and gives up after [`SEARCH_HORIZON_DAYS`] days in a row without business time.
//!
//! Like the rest of the domain this module does no IO: "now" and every other instant are
//! parameters, always in UTC.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::string_enum;

/// How many local days in a row without any business time the arithmetic walks through before
/// it gives up with [`SlaError::NoBusinessTime`]: ten years and a few days. A valid calendar has
/// business hours every week, so only holidays covering years on end can get there.
pub const SEARCH_HORIZON_DAYS: u32 = 3660;

/// The length of one business day of the default calendar, Monday to Friday 09:00 to 17:30:
/// 8 h 30 min. The default policy writes "n business days" as n times this many business
/// minutes, so a day-long target is the same amount of business time whichever hour the ticket
/// arrives at (a ticket opened Tuesday 15:00 with one business day is due Wednesday 15:00).
pub const BUSINESS_DAY_MINUTES: u32 = 510;

const fn time(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    }
}

/// The opening time of the standard calendar, 09:00.
const STANDARD_OPEN: NaiveTime = time(9, 0);
/// The closing time of the standard calendar, 17:30.
const STANDARD_CLOSE: NaiveTime = time(17, 30);

/// Why a business calendar was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// An interval that does not start before it ends (an end of 00:00 is midnight at the end
    /// of the day, so only a start of 00:00 with an end of 00:00 is the whole day).
    #[error("business hours on {weekday} must start before they end")]
    EmptyHours {
        /// The day of the week the interval belongs to.
        weekday: Weekday,
    },
    /// Intervals of one day listed out of order of their start.
    #[error("business hours on {weekday} must be listed in order of their start")]
    Unordered {
        /// The day of the week the intervals belong to.
        weekday: Weekday,
    },
    /// Intervals of one day that overlap (touching ones, such as 09:00-12:00 and 12:00-17:00,
    /// are fine).
    #[error("business hours on {weekday} overlap")]
    Overlapping {
        /// The day of the week the intervals belong to.
        weekday: Weekday,
    },
    /// A week without any business hours: no business deadline could ever be reached.
    #[error("a business calendar needs business hours on at least one day of the week")]
    NoBusinessHours,
}

impl CalendarError {
    /// The stable machine code of the error.
    pub fn code(self) -> &'static str {
        match self {
            CalendarError::EmptyHours { .. } => "empty_business_hours",
            CalendarError::Unordered { .. } => "unordered_business_hours",
            CalendarError::Overlapping { .. } => "overlapping_business_hours",
            CalendarError::NoBusinessHours => "no_business_hours",
        }
    }
}

/// Why a deadline could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    /// [`SEARCH_HORIZON_DAYS`] local days in a row passed without business time (holidays
    /// covering years on end).
    #[error("the business calendar has no business time within 3660 days")]
    NoBusinessTime,
    /// The instant sought lies outside the dates chrono can represent.
    #[error("the deadline lies beyond the representable dates")]
    OutOfRange,
}

impl SlaError {
    /// The stable machine code of the error.
    pub fn code(self) -> &'static str {
        match self {
            SlaError::NoBusinessTime => "no_business_time",
            SlaError::OutOfRange => "out_of_range",
        }
    }
}

/// One local wall-clock interval `[start, end)` of business hours on a day of the week. An end
/// of 00:00 means midnight at the end of the day, so `00:00-00:00` is the whole day and
/// `18:00-00:00` the evening up to midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// The local time business starts, included.
    pub start: NaiveTime,
    /// The local time business stops, excluded; 00:00 is the midnight that ends the day.
    pub end: NaiveTime,
}

impl BusinessHours {
    /// The interval from `start` to `end`, not yet checked: [`BusinessCalendar::new`] checks it.
    pub const fn new(start: NaiveTime, end: NaiveTime) -> Self {
        Self { start, end }
    }

    /// Whether the interval starts before it ends, an end of 00:00 being the midnight after.
    fn is_empty(self) -> bool {
        self.end != NaiveTime::MIN && self.end <= self.start
    }

    /// Whether the interval ends at or after `time` in its day.
    fn ends_after(self, time: NaiveTime) -> bool {
        self.end == NaiveTime::MIN || self.end > time
    }
}

/// When business time counts: a time zone, the business hours of each day of the week, and
/// holidays (local dates without business time). Built only through [`BusinessCalendar::new`]
/// or [`BusinessCalendar::standard`], so every calendar has well-formed hours and business
/// time in every week without holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    time_zone: Tz,
    week: [Vec<BusinessHours>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// A calendar in `time_zone` with `week[i]` the business hours of the i-th day of the week,
    /// Monday first (the index of [`Weekday::num_days_from_monday`]), and `holidays`.
    ///
    /// # Errors
    /// [`CalendarError::EmptyHours`] for an interval that does not start before it ends,
    /// [`CalendarError::Unordered`] and [`CalendarError::Overlapping`] for the intervals of a
    /// day listed out of order or overlapping, and [`CalendarError::NoBusinessHours`] when no
    /// day has any interval.
    pub fn new(
        time_zone: Tz,
        week: [Vec<BusinessHours>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        let mut weekday = Weekday::Mon;
        for day in &week {
            for (index, hours) in day.iter().enumerate() {
                if hours.is_empty() {
                    return Err(CalendarError::EmptyHours { weekday });
                }
                if let Some(previous) = index.checked_sub(1).and_then(|i| day.get(i)) {
                    if hours.start < previous.start {
                        return Err(CalendarError::Unordered { weekday });
                    }
                    if previous.ends_after(hours.start) {
                        return Err(CalendarError::Overlapping { weekday });
                    }
                }
            }
            weekday = weekday.succ();
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoBusinessHours);
        }
        Ok(Self { time_zone, week, holidays: holidays.into_iter().collect() })
    }

    /// The standard calendar in `time_zone`: Monday to Friday 09:00 to 17:30, no holidays.
    pub fn standard(time_zone: Tz) -> Self {
        let day = || vec![BusinessHours::new(STANDARD_OPEN, STANDARD_CLOSE)];
        Self { time_zone, week: [day(), day(), day(), day(), day(), Vec::new(), Vec::new()], holidays: BTreeSet::new() }
    }

    /// The time zone the business hours and holidays are read in.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// The business hours of `weekday`, in order.
    pub fn hours(&self, weekday: Weekday) -> &[BusinessHours] {
        self.week.get(weekday.num_days_from_monday() as usize).map_or(&[], Vec::as_slice)
    }

    /// The holidays, in order.
    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// The local date of `instant` in the calendar's time zone.
    fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.time_zone).date_naive()
    }

    /// The business intervals of the local `date` as UTC instants, in order: none on a holiday,
    /// and none for an interval that lies wholly in a spring-forward gap.
    fn intervals_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        self.hours(date.weekday())
            .iter()
            .filter_map(|hours| {
                let end_local = if hours.end == NaiveTime::MIN {
                    date.succ_opt()?.and_time(NaiveTime::MIN)
                } else {
                    date.and_time(hours.end)
                };
                let open = resolve_local(self.time_zone, date.and_time(hours.start))?;
                let close = resolve_local(self.time_zone, end_local)?;
                (open < close).then_some((open, close))
            })
            .collect()
    }
}

/// The UTC instant of the local wall-clock time `local` in `time_zone`: the earlier one when it
/// occurs twice (fall back), the first instant after the gap when it does not occur (spring
/// forward). `None` only at the edges of the representable dates.
fn resolve_local(time_zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(instant) = time_zone.from_local_datetime(&local).earliest() {
        return Some(instant.with_timezone(&Utc));
    }
    // In a gap. Let `before` and `after` be the offsets either side of the transition; the
    // transition instant T is then in (local - after, local - before], and it is the first
    // whole second whose local time is at or past `local`. Transitions are weeks apart in
    // practice, so the offsets two days away are the ones either side of this gap; when they are
    // not, the check below falls back to an instant past the gap.
    let offset_at = |utc: NaiveDateTime| {
        Duration::seconds(i64::from(time_zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()))
    };
    let before = offset_at(local.checked_sub_signed(Duration::days(2))?);
    let after = offset_at(local.checked_add_signed(Duration::days(2))?);
    let reaches = |second: i64| {
        DateTime::from_timestamp(second, 0)
            .map(|utc| utc.with_timezone(&time_zone).naive_local() >= local)
            .unwrap_or(true)
    };
    let mut low = local.checked_sub_signed(after)?.and_utc().timestamp();
    let mut high = local.checked_sub_signed(before)?.and_utc().timestamp().checked_add(1)?;
    if reaches(low) || !reaches(high) {
        // Not the gap the offsets describe: read the time with the offset before it, which is
        // an instant past the gap.
        return Some(local.checked_sub_signed(before)?.and_utc());
    }
    // Invariant: `low` does not reach `local`, `high` does.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if reaches(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    DateTime::from_timestamp(high, 0)
}

/// The instant at which `amount` of business time has elapsed since `start`.
///
/// Counting begins at the first business instant at or after `start`, so an `amount` of zero
/// (or less: a negative amount counts as zero) gives that instant: `start` itself during
/// business hours, the next opening otherwise. A positive amount gives the earliest instant
/// that completes it, so an amount that ends exactly at a closing time gives that closing time,
/// not the next opening.
///
/// # Errors
/// [`SlaError::NoBusinessTime`] after [`SEARCH_HORIZON_DAYS`] local days in a row without
/// business time, [`SlaError::OutOfRange`] past the representable dates.
pub fn add_business_time(
    calendar: &BusinessCalendar,
    start: DateTime<Utc>,
    amount: Duration,
) -> Result<DateTime<Utc>, SlaError> {
    let mut remaining = amount.max(Duration::zero());
    let mut cursor = start;
    // The day before: with DST an interval of the previous local date can still be running.
    let mut date = calendar.local_date(start).pred_opt().ok_or(SlaError::OutOfRange)?;
    let mut idle_days = 0u32;
    loop {
        let mut worked = false;
        for (open, close) in calendar.intervals_on(date) {
            let from = open.max(cursor);
            if from >= close {
                continue;
            }
            worked = true;
            let available = close - from;
            if remaining <= available {
                return from.checked_add_signed(remaining).ok_or(SlaError::OutOfRange);
            }
            remaining -= available;
            cursor = close;
        }
        idle_days = if worked { 0 } else { idle_days + 1 };
        if idle_days > SEARCH_HORIZON_DAYS {
            return Err(SlaError::NoBusinessTime);
        }
        date = date.succ_opt().ok_or(SlaError::OutOfRange)?;
    }
}

/// The earliest instant `t`, not before `floor`, such that the business time in `[t, end)` is
/// `amount`; `floor` when there is not that much business time between `floor` and `end`.
fn subtract_business_time(
    calendar: &BusinessCalendar,
    end: DateTime<Utc>,
    amount: Duration,
    floor: DateTime<Utc>,
) -> Result<DateTime<Utc>, SlaError> {
    if end <= floor {
        return Ok(floor);
    }
    let mut remaining = amount.max(Duration::zero());
    let mut cursor = end;
    let first_date = calendar.local_date(floor).pred_opt().ok_or(SlaError::OutOfRange)?;
    // The day after: with DST an interval of the next local date can already have started.
    let mut date = calendar.local_date(end).succ_opt().ok_or(SlaError::OutOfRange)?;
    while date >= first_date {
        for (open, close) in calendar.intervals_on(date).into_iter().rev() {
            let until = close.min(cursor);
            let from = open.max(floor);
            if from >= until {
                continue;
            }
            let available = until - from;
            if remaining < available {
                return until.checked_sub_signed(remaining).ok_or(SlaError::OutOfRange);
            }
            // Exactly used up: go on, the earliest such instant is the previous closing time.
            remaining -= available;
            cursor = from;
        }
        date = date.pred_opt().ok_or(SlaError::OutOfRange)?;
    }
    Ok(floor)
}

/// The business time in `[from, to)`; zero when `to` is not after `from`. The cost grows with
/// the number of local days between the two.
pub fn business_time_between(calendar: &BusinessCalendar, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    let mut total = Duration::zero();
    if to <= from {
        return total;
    }
    let mut cursor = from;
    let last_date = calendar.local_date(to).succ_opt();
    let mut date = calendar.local_date(from).pred_opt();
    while let Some(day) = date.filter(|d| last_date.is_none_or(|last| *d <= last)) {
        for (open, close) in calendar.intervals_on(day) {
            let start = open.max(cursor);
            let end = close.min(to);
            if start < end {
                total += end - start;
                cursor = end;
            }
        }
        date = day.succ_opt();
    }
    total
}

/// The clock an SLA target is counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlaClock {
    /// Real elapsed time, nights, weekends and holidays included.
    Calendar,
    /// Business time of the policy's calendar only.
    Business,
}

/// How long a ticket may take for one step (first response or resolution), and on which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlaTarget {
    /// The allowed time in minutes of the clock: elapsed minutes or business minutes.
    pub minutes: u32,
    /// The clock the minutes are counted on.
    pub clock: SlaClock,
}

impl SlaTarget {
    /// A target of `minutes` elapsed minutes.
    pub const fn calendar(minutes: u32) -> Self {
        Self { minutes, clock: SlaClock::Calendar }
    }

    /// A target of `minutes` business minutes.
    pub const fn business(minutes: u32) -> Self {
        Self { minutes, clock: SlaClock::Business }
    }

    /// The allowed time as a duration on the target's clock.
    pub fn duration(self) -> Duration {
        Duration::minutes(i64::from(self.minutes))
    }
}

/// `amount` after `start` on `clock` (no time for a negative amount).
///
/// # Errors
/// Those of [`add_business_time`]; [`SlaError::OutOfRange`] past the representable dates.
pub fn add_on_clock(
    calendar: &BusinessCalendar,
    clock: SlaClock,
    start: DateTime<Utc>,
    amount: Duration,
) -> Result<DateTime<Utc>, SlaError> {
    match clock {
        SlaClock::Calendar => start.checked_add_signed(amount.max(Duration::zero())).ok_or(SlaError::OutOfRange),
        SlaClock::Business => add_business_time(calendar, start, amount),
    }
}

/// When a step of a ticket started at `start` is due under `target`: `start` plus the minutes
/// on a calendar clock, [`add_business_time`] on a business clock (so a business target
/// started outside business hours counts from the next opening).
///
/// # Errors
/// Those of [`add_business_time`]; [`SlaError::OutOfRange`] past the representable dates.
pub fn deadline(
    calendar: &BusinessCalendar,
    target: SlaTarget,
    start: DateTime<Utc>,
) -> Result<DateTime<Utc>, SlaError> {
    add_on_clock(calendar, target.clock, start, target.duration())
}

/// When a step due at `deadline` under `target` becomes at risk: once 80 % of the allowed time
/// is spent, that is when 20 % of the target's minutes (12 seconds per minute, so always whole
/// seconds) remain before `deadline` on the target's clock. For a deadline straight from
/// [`deadline`] this is exactly the deadline of 80 % of the minutes from `start`; counting back
/// from the deadline keeps it right after [`push_for_pause`] moved the deadline. Never before
/// `start`; a target of zero minutes is at risk at its deadline.
///
/// # Errors
/// [`SlaError::OutOfRange`] past the representable dates.
pub fn at_risk_instant(
    calendar: &BusinessCalendar,
    target: SlaTarget,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Result<DateTime<Utc>, SlaError> {
    let margin = Duration::seconds(i64::from(target.minutes) * 12);
    if margin.is_zero() {
        return Ok(deadline);
    }
    match target.clock {
        SlaClock::Calendar => Ok(deadline.checked_sub_signed(margin).ok_or(SlaError::OutOfRange)?.max(start)),
        SlaClock::Business => subtract_business_time(calendar, deadline, margin, start),
    }
}

/// The deadline of a ticket that waited on the customer from `paused_from` to `paused_until`:
/// `deadline` moved later by the time spent waiting measured on the target's `clock` (business
/// time between the two on a business clock, elapsed time on a calendar clock), added to the
/// old deadline on the same clock. A pause of no time on that clock (an empty or reversed
/// range, or one wholly outside business hours) leaves the deadline as it is. Whether a pause
/// after a breach may still move the deadline is the caller's rule: this only does the sum.
///
/// # Errors
/// Those of [`add_business_time`]; [`SlaError::OutOfRange`] past the representable dates.
pub fn push_for_pause(
    calendar: &BusinessCalendar,
    clock: SlaClock,
    deadline: DateTime<Utc>,
    paused_from: DateTime<Utc>,
    paused_until: DateTime<Utc>,
) -> Result<DateTime<Utc>, SlaError> {
    let paused = match clock {
        SlaClock::Calendar => (paused_until - paused_from).max(Duration::zero()),
        SlaClock::Business => business_time_between(calendar, paused_from, paused_until),
    };
    if paused.is_zero() {
        return Ok(deadline);
    }
    add_on_clock(calendar, clock, deadline, paused)
}

string_enum!(
    /// The priority of a ticket, which picks its targets in the SLA policy.
    SlaPriority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

/// The two targets of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlaTargets {
    /// From the opening of the ticket to its first response.
    pub first_response: SlaTarget,
    /// From the opening of the ticket to its resolution.
    pub resolution: SlaTarget,
}

/// An organisation's SLA policy: the targets of each priority and the calendar business time
/// is counted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// The calendar of the business clock.
    pub calendar: BusinessCalendar,
    /// The targets of low-priority tickets.
    pub low: SlaTargets,
    /// The targets of normal-priority tickets.
    pub normal: SlaTargets,
    /// The targets of high-priority tickets.
    pub high: SlaTargets,
    /// The targets of urgent tickets.
    pub urgent: SlaTargets,
    /// How many days after it is solved a ticket may still be reopened; after them it is
    /// closed by itself.
    pub reopen_window_days: u32,
}

/// The default reopen window: 7 days.
pub const DEFAULT_REOPEN_WINDOW_DAYS: u32 = 7;

/// The default targets of urgent tickets: first response in 1 hour, resolution in 4 hours,
/// both in elapsed time.
pub const DEFAULT_URGENT: SlaTargets =
    SlaTargets { first_response: SlaTarget::calendar(60), resolution: SlaTarget::calendar(240) };
/// The default targets of high-priority tickets: first response in 4 elapsed hours, resolution
/// in 1 business day ([`BUSINESS_DAY_MINUTES`] business minutes).
pub const DEFAULT_HIGH: SlaTargets =
    SlaTargets { first_response: SlaTarget::calendar(240), resolution: SlaTarget::business(BUSINESS_DAY_MINUTES) };
/// The default targets of normal-priority tickets: first response in 8 business hours,
/// resolution in 3 business days (1530 business minutes).
pub const DEFAULT_NORMAL: SlaTargets = SlaTargets {
    first_response: SlaTarget::business(8 * 60),
    resolution: SlaTarget::business(3 * BUSINESS_DAY_MINUTES),
};
/// The default targets of low-priority tickets: first response in 2 business days (1020
/// business minutes), resolution in 5 business days (2550 business minutes).
pub const DEFAULT_LOW: SlaTargets = SlaTargets {
    first_response: SlaTarget::business(2 * BUSINESS_DAY_MINUTES),
    resolution: SlaTarget::business(5 * BUSINESS_DAY_MINUTES),
};

/// A new organisation's policy: the defaults on the standard calendar in UTC.
impl Default for SlaPolicy {
    fn default() -> Self {
        Self::default_for(Tz::UTC)
    }
}

impl SlaPolicy {
    /// The default policy on the standard calendar of `time_zone`: urgent 1 h / 4 h elapsed;
    /// high 4 h elapsed / 1 business day; normal 8 business hours / 3 business days; low 2 / 5
    /// business days. A business day is [`BUSINESS_DAY_MINUTES`] business minutes.
    pub fn default_for(time_zone: Tz) -> Self {
        Self {
            calendar: BusinessCalendar::standard(time_zone),
            low: DEFAULT_LOW,
            normal: DEFAULT_NORMAL,
            high: DEFAULT_HIGH,
            urgent: DEFAULT_URGENT,
            reopen_window_days: DEFAULT_REOPEN_WINDOW_DAYS,
        }
    }

    /// How long after it is solved a ticket may still be reopened.
    pub fn reopen_window(&self) -> Duration {
        Duration::days(i64::from(self.reopen_window_days))
    }

    /// The targets of `priority`.
    pub fn targets(&self, priority: SlaPriority) -> SlaTargets {
        match priority {
            SlaPriority::Low => self.low,
            SlaPriority::Normal => self.normal,
            SlaPriority::High => self.high,
            SlaPriority::Urgent => self.urgent,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;

    use super::*;

    /// A UTC instant written in RFC 3339.
    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A Paris wall-clock time ("2026-01-09 17:00") that occurs exactly once.
    fn paris(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        Paris.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn hours(start: (u32, u32), end: (u32, u32)) -> BusinessHours {
        BusinessHours::new(time(start.0, start.1), time(end.0, end.1))
    }

    fn hm(h: i64, m: i64) -> Duration {
        Duration::hours(h) + Duration::minutes(m)
    }

    /// Monday to Friday 09:00-12:00 and 13:00-17:00 in Paris.
    fn lunch_calendar() -> BusinessCalendar {
        let day = || vec![hours((9, 0), (12, 0)), hours((13, 0), (17, 0))];
        BusinessCalendar::new(Paris, [day(), day(), day(), day(), day(), vec![], vec![]], []).unwrap()
    }

    /// Every hour of every day in Paris: business time is then elapsed time.
    fn around_the_clock() -> BusinessCalendar {
        let day = || vec![hours((0, 0), (0, 0))];
        BusinessCalendar::new(Paris, [day(), day(), day(), day(), day(), day(), day()], []).unwrap()
    }

    /// Sundays only, 02:30-04:00 in Paris: on 2026-03-29 02:30 does not exist (02:00 CET jumps
    /// to 03:00 CEST), on 2026-10-25 it occurs twice (03:00 CEST falls back to 02:00 CET).
    fn sunday_night_calendar() -> BusinessCalendar {
        BusinessCalendar::new(Paris, [vec![], vec![], vec![], vec![], vec![], vec![], vec![hours((2, 30), (4, 0))]], [])
            .unwrap()
    }

    #[test]
    fn a_ticket_opened_late_friday_is_due_on_monday_morning() {
        // Friday 2026-01-09 17:00 CET (UTC+1) = 16:00 UTC. 4 business hours: 17:00-17:30 Friday
        // uses 0.5 h, the weekend has none, Monday 09:00 + the 3.5 h left = 12:30 CET = 11:30 UTC.
        let calendar = BusinessCalendar::standard(Paris);
        let start = paris("2026-01-09 17:00");
        assert_eq!(start, utc("2026-01-09T16:00:00Z"));
        assert_eq!(add_business_time(&calendar, start, Duration::hours(4)), Ok(utc("2026-01-12T11:30:00Z")));
    }

    #[test]
    fn business_hours_stay_on_the_wall_clock_across_the_spring_change() {
        // Friday 2026-03-27 17:00 CET = 16:00 UTC; Paris moves to CEST (UTC+2) on Sunday 03-29.
        // 0.5 h Friday, then Monday 09:00 CEST + 3.5 h = 12:30 CEST = 10:30 UTC (not 11:30 UTC,
        // which a fixed UTC+1 would give).
        let calendar = BusinessCalendar::standard(Paris);
        let start = paris("2026-03-27 17:00");
        assert_eq!(start, utc("2026-03-27T16:00:00Z"));
        assert_eq!(add_business_time(&calendar, start, Duration::hours(4)), Ok(utc("2026-03-30T10:30:00Z")));
    }

    #[test]
    fn a_calendar_clock_counts_real_elapsed_time_across_the_spring_change() {
        // Saturday 2026-03-28 12:00 CET = 11:00 UTC; 48 elapsed hours later is Monday 11:00 UTC,
        // which is 13:00 CEST: the wall clock shows 49 hours because 02:00-03:00 on Sunday never
        // happened.
        let calendar = BusinessCalendar::standard(Paris);
        let start = paris("2026-03-28 12:00");
        assert_eq!(start, utc("2026-03-28T11:00:00Z"));
        let due = deadline(&calendar, SlaTarget::calendar(48 * 60), start).unwrap();
        assert_eq!(due, utc("2026-03-30T11:00:00Z"));
        assert_eq!(due, paris("2026-03-30 13:00"));
    }

    #[test]
    fn a_holiday_has_no_business_time() {
        // Easter Monday 2026-04-06 is a holiday. Friday 2026-04-03 17:00 CEST = 15:00 UTC:
        // 0.5 h Friday, nothing Saturday to Monday, Tuesday 09:00 + 3.5 h = 12:30 CEST = 10:30 UTC.
        let standard = BusinessCalendar::standard(Paris);
        let calendar = BusinessCalendar::new(Paris, standard.week.clone(), [date("2026-04-06")]).unwrap();
        let start = paris("2026-04-03 17:00");
        assert_eq!(start, utc("2026-04-03T15:00:00Z"));
        assert_eq!(add_business_time(&calendar, start, Duration::hours(4)), Ok(utc("2026-04-07T10:30:00Z")));
        assert_eq!(add_business_time(&standard, start, Duration::hours(4)), Ok(utc("2026-04-06T10:30:00Z")));
    }

    #[test]
    fn a_pause_moves_a_business_deadline_by_the_business_time_spent_waiting() {
        // Pending from Tuesday 2026-01-13 10:00 to Wednesday 01-14 15:00 (CET): Tuesday
        // 10:00-17:30 is 7.5 h, Wednesday 09:00-15:00 is 6 h, so 13.5 h of business time.
        // The deadline, Thursday 01-15 12:00, moves by 13.5 business hours: Thursday 12:00-17:30
        // uses 5.5 h, leaving 8 h from Friday 09:00: Friday 01-16 17:00 CET = 16:00 UTC.
        let calendar = BusinessCalendar::standard(Paris);
        let (from, until) = (paris("2026-01-13 10:00"), paris("2026-01-14 15:00"));
        assert_eq!(business_time_between(&calendar, from, until), hm(13, 30));
        let pushed = push_for_pause(&calendar, SlaClock::Business, paris("2026-01-15 12:00"), from, until);
        assert_eq!(pushed, Ok(utc("2026-01-16T16:00:00Z")));
    }

    #[test]
    fn a_pause_moves_a_calendar_deadline_by_the_elapsed_time_spent_waiting() {
        // The same pause is 29 elapsed hours; Thursday 12:00 CET + 29 h = Friday 17:00 CET.
        let calendar = BusinessCalendar::standard(Paris);
        let (from, until) = (paris("2026-01-13 10:00"), paris("2026-01-14 15:00"));
        let pushed = push_for_pause(&calendar, SlaClock::Calendar, paris("2026-01-15 12:00"), from, until);
        assert_eq!(pushed, Ok(utc("2026-01-16T16:00:00Z")));
    }

    #[test]
    fn a_pause_without_business_time_leaves_the_deadline_alone() {
        // Pending over the weekend of 2026-01-10/11 is no business time. A deadline at a closing
        // time (Friday 17:30) must then stay there, not jump to the next opening; a reversed
        // range is no pause at all.
        let calendar = BusinessCalendar::standard(Paris);
        let due = paris("2026-01-16 17:30");
        let weekend = (paris("2026-01-10 08:00"), paris("2026-01-11 20:00"));
        assert_eq!(push_for_pause(&calendar, SlaClock::Business, due, weekend.0, weekend.1), Ok(due));
        assert_eq!(push_for_pause(&calendar, SlaClock::Calendar, due, weekend.1, weekend.0), Ok(due));
    }

    #[test]
    fn a_ticket_opened_on_saturday_counts_from_monday_morning() {
        // Saturday 2026-01-10 11:00 CET: counting starts Monday 01-12 09:00, + 4 h = 13:00 CET
        // = 12:00 UTC. Zero business time from Saturday is the opening itself, Monday 09:00.
        let calendar = BusinessCalendar::standard(Paris);
        let start = paris("2026-01-10 11:00");
        assert_eq!(add_business_time(&calendar, start, Duration::hours(4)), Ok(utc("2026-01-12T12:00:00Z")));
        assert_eq!(add_business_time(&calendar, start, Duration::zero()), Ok(utc("2026-01-12T08:00:00Z")));
        assert_eq!(add_business_time(&calendar, start, Duration::minutes(-5)), Ok(utc("2026-01-12T08:00:00Z")));
    }

    #[test]
    fn zero_business_time_during_business_hours_is_the_start_itself() {
        let calendar = BusinessCalendar::standard(Paris);
        let start = paris("2026-01-12 10:17");
        assert_eq!(add_business_time(&calendar, start, Duration::zero()), Ok(start));
    }

    #[test]
    fn an_amount_that_ends_at_closing_time_is_due_at_closing_time() {
        // Monday 2026-01-12 09:00 + 8.5 h = Monday 17:30 CET = 16:30 UTC, not Tuesday 09:00.
        let calendar = BusinessCalendar::standard(Paris);
        let due = add_business_time(&calendar, paris("2026-01-12 09:00"), Duration::minutes(510));
        assert_eq!(due, Ok(utc("2026-01-12T16:30:00Z")));
    }

    #[test]
    fn a_ticket_opened_during_lunch_counts_from_the_afternoon_opening() {
        // Hours 09:00-12:00 and 13:00-17:00. Monday 2026-01-12 12:20 CET: counting starts at
        // 13:00, + 2 h = 15:00 CET = 14:00 UTC. From 11:00, 2 h are 11:00-12:00 and 13:00-14:00:
        // 14:00 CET = 13:00 UTC. From Friday 01-09 16:00, 5 h are 1 h Friday, then Monday
        // 09:00-12:00 (3 h) and 13:00-14:00: Monday 14:00 CET = 13:00 UTC.
        let calendar = lunch_calendar();
        let two_hours = Duration::hours(2);
        assert_eq!(add_business_time(&calendar, paris("2026-01-12 12:20"), two_hours), Ok(utc("2026-01-12T14:00:00Z")));
        assert_eq!(add_business_time(&calendar, paris("2026-01-12 11:00"), two_hours), Ok(utc("2026-01-12T13:00:00Z")));
        let five_hours = Duration::hours(5);
        assert_eq!(
            add_business_time(&calendar, paris("2026-01-09 16:00"), five_hours),
            Ok(utc("2026-01-12T13:00:00Z"))
        );
        // The lunch hour itself counts for nothing.
        assert_eq!(business_time_between(&calendar, paris("2026-01-12 11:30"), paris("2026-01-12 13:30")), hm(1, 0));
    }

    #[test]
    fn business_time_between_skips_the_weekend() {
        // Friday 2026-01-09 16:00 to Monday 01-12 10:00 CET: 16:00-17:30 Friday (1.5 h) and
        // 09:00-10:00 Monday (1 h) = 2.5 h.
        let calendar = BusinessCalendar::standard(Paris);
        assert_eq!(business_time_between(&calendar, paris("2026-01-09 16:00"), paris("2026-01-12 10:00")), hm(2, 30));
        // A whole week, Monday 00:00 to the next Monday 00:00, is 5 x 8.5 h = 42.5 h.
        assert_eq!(business_time_between(&calendar, paris("2026-01-12 00:00"), paris("2026-01-19 00:00")), hm(42, 30));
    }

    #[test]
    fn business_time_between_follows_the_wall_clock_across_daylight_saving_changes() {
        // Friday 2026-03-27 17:00 CET to Monday 03-30 10:00 CEST: 0.5 h + 1 h = 1.5 h, although
        // 65 real hours passed and the offset changed in between.
        let standard = BusinessCalendar::standard(Paris);
        assert_eq!(business_time_between(&standard, paris("2026-03-27 17:00"), paris("2026-03-30 10:00")), hm(1, 30));
        // Around the clock, Sunday 03-29 00:00 to Monday 00:00 is the 23 real hours of that day,
        // and Sunday 10-25 (back to CET) has 25.
        let always = around_the_clock();
        assert_eq!(business_time_between(&always, paris("2026-03-29 00:00"), paris("2026-03-30 00:00")), hm(23, 0));
        assert_eq!(business_time_between(&always, paris("2026-10-25 00:00"), paris("2026-10-26 00:00")), hm(25, 0));
        // And 24 business hours from Saturday 03-28 12:00 CET (11:00 UTC) is 24 real hours:
        // Sunday 11:00 UTC = 13:00 CEST.
        assert_eq!(
            add_business_time(&always, paris("2026-03-28 12:00"), Duration::hours(24)),
            Ok(utc("2026-03-29T11:00:00Z"))
        );
    }

    #[test]
    fn business_time_between_is_zero_for_empty_and_reversed_ranges() {
        let calendar = BusinessCalendar::standard(Paris);
        let (monday, tuesday) = (paris("2026-01-12 10:00"), paris("2026-01-13 10:00"));
        assert_eq!(business_time_between(&calendar, monday, monday), Duration::zero());
        assert_eq!(business_time_between(&calendar, tuesday, monday), Duration::zero());
        assert_eq!(business_time_between(&calendar, monday, tuesday), hm(8, 30));
    }

    #[test]
    fn a_local_time_in_the_spring_gap_starts_after_the_gap() {
        // Sunday 2026-03-29 02:30 does not exist in Paris: 02:00 CET (01:00 UTC) is followed by
        // 03:00 CEST. The hours 02:30-04:00 therefore start at 03:00 CEST = 01:00 UTC and end at
        // 04:00 CEST = 02:00 UTC: one business hour. 30 min from Saturday are due 01:30 UTC.
        let calendar = sunday_night_calendar();
        let whole_sunday = (paris("2026-03-29 00:00"), paris("2026-03-30 00:00"));
        assert_eq!(business_time_between(&calendar, whole_sunday.0, whole_sunday.1), hm(1, 0));
        let due = add_business_time(&calendar, paris("2026-03-28 12:00"), Duration::minutes(30));
        assert_eq!(due, Ok(utc("2026-03-29T01:30:00Z")));
        assert_eq!(resolve_local(Paris, "2026-03-29T02:30:00".parse().unwrap()), Some(utc("2026-03-29T01:00:00Z")));
        // Samoa skipped the whole of 2011-12-30 (UTC-10 to UTC+14): noon that day stands for
        // the first instant after it, 2011-12-31 00:00 local = 2011-12-30T10:00Z.
        let apia = chrono_tz::Pacific::Apia;
        assert_eq!(resolve_local(apia, "2011-12-30T12:00:00".parse().unwrap()), Some(utc("2011-12-30T10:00:00Z")));
    }

    #[test]
    fn an_ambiguous_local_time_in_the_fall_overlap_takes_the_earlier_instant() {
        // Sunday 2026-10-25 02:30 happens twice in Paris: 00:30 UTC (CEST) and 01:30 UTC (CET).
        // The hours 02:30-04:00 start at the earlier, 00:30 UTC, and end at 04:00 CET = 03:00
        // UTC: 2.5 business hours.
        let calendar = sunday_night_calendar();
        let whole_sunday = (paris("2026-10-25 00:00"), paris("2026-10-26 00:00"));
        assert_eq!(business_time_between(&calendar, whole_sunday.0, whole_sunday.1), hm(2, 30));
        let due = add_business_time(&calendar, paris("2026-10-24 12:00"), Duration::zero());
        assert_eq!(due, Ok(utc("2026-10-25T00:30:00Z")));
    }

    #[test]
    fn at_risk_is_when_80_percent_of_the_allowed_time_is_spent() {
        // 8 business hours from Monday 2026-01-12 09:00 CET are due 17:00; 80 % of 480 min is
        // 384 min = 6 h 24 min, so at risk at 15:24 CET = 14:24 UTC (20 % = 96 min before 17:00).
        let calendar = BusinessCalendar::standard(Paris);
        let target = SlaTarget::business(480);
        let start = paris("2026-01-12 09:00");
        let due = deadline(&calendar, target, start).unwrap();
        assert_eq!(due, paris("2026-01-12 17:00"));
        assert_eq!(at_risk_instant(&calendar, target, start, due), Ok(utc("2026-01-12T14:24:00Z")));
    }

    #[test]
    fn at_risk_counts_back_across_days_and_agrees_with_80_percent_forward() {
        // 3 business days (1530 min) from Monday 2026-01-12 09:00: due Wednesday 17:30. 80 % is
        // 1224 min = 20 h 24 min: Monday 8.5 h, Tuesday 8.5 h, then 3 h 24 min from Wednesday
        // 09:00 = 12:24 CET = 11:24 UTC, which is also 306 min (20 %) before Wednesday 17:30.
        let calendar = BusinessCalendar::standard(Paris);
        let target = DEFAULT_NORMAL.resolution;
        let start = paris("2026-01-12 09:00");
        let due = deadline(&calendar, target, start).unwrap();
        assert_eq!(due, paris("2026-01-14 17:30"));
        let at_risk = at_risk_instant(&calendar, target, start, due).unwrap();
        assert_eq!(at_risk, utc("2026-01-14T11:24:00Z"));
        assert_eq!(Ok(at_risk), deadline(&calendar, SlaTarget::business(1530 * 4 / 5), start));
        // Elapsed time: 60 min from 10:00 are at risk at 10:48.
        let urgent = DEFAULT_URGENT.first_response;
        let opened = paris("2026-01-10 10:00");
        let due = deadline(&calendar, urgent, opened).unwrap();
        assert_eq!(at_risk_instant(&calendar, urgent, opened, due), Ok(paris("2026-01-10 10:48")));
    }

    #[test]
    fn at_risk_follows_a_deadline_pushed_by_a_pause() {
        // 8 business hours from Monday 2026-01-12 09:00, due 17:00; pending Monday 10:00 to
        // Tuesday 10:00 (7.5 h + 1 h = 8.5 business hours) pushes the deadline: Monday
        // 17:00-17:30 (0.5 h), then 8 h from Tuesday 09:00 = Tuesday 17:00. At risk 96 business
        // minutes before: Tuesday 15:24 CET = 14:24 UTC, when the ticket has used 1 h on Monday
        // and 5 h 24 min on Tuesday, 384 min = 80 % of its 480.
        let calendar = BusinessCalendar::standard(Paris);
        let target = SlaTarget::business(480);
        let start = paris("2026-01-12 09:00");
        let due = deadline(&calendar, target, start).unwrap();
        let pushed =
            push_for_pause(&calendar, target.clock, due, paris("2026-01-12 10:00"), paris("2026-01-13 10:00")).unwrap();
        assert_eq!(pushed, paris("2026-01-13 17:00"));
        assert_eq!(at_risk_instant(&calendar, target, start, pushed), Ok(utc("2026-01-13T14:24:00Z")));
    }

    #[test]
    fn the_default_policy_matches_the_documented_targets() {
        let policy = SlaPolicy::default_for(Paris);
        assert_eq!(policy.calendar, BusinessCalendar::standard(Paris));
        let minutes = |t: SlaTargets| {
            (t.first_response.minutes, t.first_response.clock, t.resolution.minutes, t.resolution.clock)
        };
        use SlaClock::{Business, Calendar};
        assert_eq!(minutes(policy.targets(SlaPriority::Urgent)), (60, Calendar, 240, Calendar));
        assert_eq!(minutes(policy.targets(SlaPriority::High)), (240, Calendar, 510, Business));
        assert_eq!(minutes(policy.targets(SlaPriority::Normal)), (480, Business, 1530, Business));
        assert_eq!(minutes(policy.targets(SlaPriority::Low)), (1020, Business, 2550, Business));
        // One business day is a full standard day: Tuesday 15:00 + 510 min = Wednesday 15:00.
        let high = policy.targets(SlaPriority::High).resolution;
        assert_eq!(deadline(&policy.calendar, high, paris("2026-01-13 15:00")), Ok(paris("2026-01-14 15:00")));
    }

    #[test]
    fn priorities_have_stable_names() {
        for priority in SlaPriority::ALL {
            assert_eq!(SlaPriority::parse("priority", priority.as_str()), Ok(*priority));
        }
        assert_eq!(SlaPriority::NAMES, ["low", "normal", "high", "urgent"]);
        assert_eq!(SlaPriority::parse("priority", "critical").unwrap_err().code, "invalid_value");
    }

    #[test]
    fn the_standard_calendar_is_monday_to_friday_nine_to_half_past_five() {
        let calendar = BusinessCalendar::standard(Paris);
        assert_eq!(calendar.time_zone(), Paris);
        assert_eq!(calendar.hours(Weekday::Mon), [hours((9, 0), (17, 30))]);
        assert_eq!(calendar.hours(Weekday::Fri), [hours((9, 0), (17, 30))]);
        assert!(calendar.hours(Weekday::Sat).is_empty() && calendar.hours(Weekday::Sun).is_empty());
        assert!(calendar.holidays().is_empty());
    }

    #[test]
    fn malformed_business_hours_are_refused() {
        let week = |monday: Vec<BusinessHours>| [monday, vec![], vec![], vec![], vec![], vec![], vec![]];
        let build = |monday| BusinessCalendar::new(Paris, week(monday), []);
        let refused = |monday| build(monday).err();
        assert_eq!(refused(vec![hours((9, 0), (9, 0))]), Some(CalendarError::EmptyHours { weekday: Weekday::Mon }));
        assert_eq!(refused(vec![hours((17, 0), (9, 0))]), Some(CalendarError::EmptyHours { weekday: Weekday::Mon }));
        assert_eq!(
            refused(vec![hours((13, 0), (17, 0)), hours((9, 0), (12, 0))]),
            Some(CalendarError::Unordered { weekday: Weekday::Mon })
        );
        assert_eq!(
            refused(vec![hours((9, 0), (13, 0)), hours((12, 0), (17, 0))]),
            Some(CalendarError::Overlapping { weekday: Weekday::Mon })
        );
        assert_eq!(
            refused(vec![hours((9, 0), (0, 0)), hours((18, 0), (19, 0))]),
            Some(CalendarError::Overlapping { weekday: Weekday::Mon })
        );
        let tuesday = BusinessCalendar::new(
            Paris,
            [vec![], vec![hours((9, 0), (9, 0))], vec![], vec![], vec![], vec![], vec![]],
            [],
        );
        assert_eq!(tuesday.err(), Some(CalendarError::EmptyHours { weekday: Weekday::Tue }));
        let empty = BusinessCalendar::new(Paris, Default::default(), []);
        assert_eq!(empty.err().map(CalendarError::code), Some("no_business_hours"));
        // Touching intervals and an end at midnight are fine.
        assert!(build(vec![hours((9, 0), (12, 0)), hours((12, 0), (17, 0))]).is_ok());
        assert!(build(vec![hours((18, 0), (0, 0))]).is_ok());
    }

    #[test]
    fn holidays_covering_the_search_horizon_give_up_rather_than_loop() {
        // Mondays only, and every Monday of eleven years a holiday: no business time within
        // SEARCH_HORIZON_DAYS days.
        let mondays =
            (0..(52 * 11)).filter_map(|week| date("2026-01-12").checked_add_days(chrono::Days::new(7 * week)));
        let week = [vec![hours((9, 0), (17, 0))], vec![], vec![], vec![], vec![], vec![], vec![]];
        let calendar = BusinessCalendar::new(Paris, week, mondays).unwrap();
        let result = add_business_time(&calendar, paris("2026-01-10 12:00"), Duration::hours(1));
        assert_eq!(result, Err(SlaError::NoBusinessTime));
    }
}
