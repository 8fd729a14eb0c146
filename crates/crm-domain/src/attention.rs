//! Attention by class of customer: how often each tier of account, and each lifecycle stage of a
//! person buying for themselves, should hear from the organisation; a customer whose last
//! interaction is older than that (or who never had one) is overdue.
//!
//! The due date is stored on each account and contact and kept by the database in the
//! transaction that moves the customer's last interaction or its class (migration 0021), so that
//! the overdue customers are one index range; this module holds the policy, its defaults and its
//! changes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::{AccountTier, LifecycleStage};
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;

/// The longest period a class may be given: ten years.
pub const MAX_DAYS: u32 = 3650;

/// A class of account: its tier, or none.
pub type TierClass = Option<AccountTier>;

/// Days between interactions a class of customer should not exceed; `None`: no expectation, the
/// class is never overdue.
pub type Period = Option<u32>;

/// The periods of the account tiers, and of accounts without a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierPeriods {
    pub a: Period,
    pub b: Period,
    pub c: Period,
    pub untiered: Period,
}

/// The periods of people buying for themselves (contacts without an account), by lifecycle
/// stage. A contact of an account is followed through its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePeriods {
    pub prospect: Period,
    pub customer: Period,
    pub former_customer: Period,
    pub partner: Period,
}

/// An organisation's attention policy: one per organisation, created with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionPolicy {
    pub organization_id: Uuid,
    pub tiers: TierPeriods,
    pub stages: StagePeriods,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// The documented defaults: tier a every 14 days, b 30, c 90, untiered accounts no expectation;
/// people buying for themselves: prospects 14, customers 30, partners 30, former customers 180.
pub const DEFAULT_TIERS: TierPeriods = TierPeriods { a: Some(14), b: Some(30), c: Some(90), untiered: None };
pub const DEFAULT_STAGES: StagePeriods =
    StagePeriods { prospect: Some(14), customer: Some(30), former_customer: Some(180), partner: Some(30) };

/// A change to the policy: the classes named get the period given (`None` clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttentionPatch {
    pub tiers: Vec<(TierClass, Period)>,
    pub stages: Vec<(LifecycleStage, Period)>,
}

/// What a policy change asks storage to bring up to date: the due dates of accounts, of people
/// buying for themselves, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recompute {
    pub accounts: bool,
    pub contacts: bool,
}

/// Where a customer without an expectation sorts by its attention date: 9999-12-31T23:59:59Z,
/// after every real one; storage uses the same instant.
pub const NEVER_DUE: DateTime<Utc> = match DateTime::from_timestamp(253_402_300_799, 0) {
    Some(at) => at,
    None => DateTime::<Utc>::MAX_UTC,
};

/// Parses a period in days: 1 to [`MAX_DAYS`].
///
/// # Errors
/// `out_of_range` on `field` otherwise.
pub fn parse_days(field: &str, days: i64) -> Result<u32, FieldError> {
    match u32::try_from(days) {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(d),
        _ => {
            Err(FieldError::new(field, "out_of_range", format!("must be a whole number of days from 1 to {MAX_DAYS}")))
        }
    }
}

/// The audit trail's name of a tier class: `tiers.a`, ..., `tiers.none`.
pub fn tier_key(tier: TierClass) -> &'static str {
    tier.map_or("none", AccountTier::as_str)
}

impl TierPeriods {
    pub fn get(&self, tier: TierClass) -> Period {
        match tier {
            Some(AccountTier::A) => self.a,
            Some(AccountTier::B) => self.b,
            Some(AccountTier::C) => self.c,
            None => self.untiered,
        }
    }

    fn slot(&mut self, tier: TierClass) -> &mut Period {
        match tier {
            Some(AccountTier::A) => &mut self.a,
            Some(AccountTier::B) => &mut self.b,
            Some(AccountTier::C) => &mut self.c,
            None => &mut self.untiered,
        }
    }
}

impl StagePeriods {
    pub fn get(&self, stage: LifecycleStage) -> Period {
        match stage {
            LifecycleStage::Prospect => self.prospect,
            LifecycleStage::Customer => self.customer,
            LifecycleStage::FormerCustomer => self.former_customer,
            LifecycleStage::Partner => self.partner,
        }
    }

    fn slot(&mut self, stage: LifecycleStage) -> &mut Period {
        match stage {
            LifecycleStage::Prospect => &mut self.prospect,
            LifecycleStage::Customer => &mut self.customer,
            LifecycleStage::FormerCustomer => &mut self.former_customer,
            LifecycleStage::Partner => &mut self.partner,
        }
    }
}

fn period_value(period: Period) -> AuditValue {
    period.map_or(AuditValue::Null, |d| AuditValue::Integer(i64::from(d)))
}

impl AttentionPolicy {
    /// The policy of a new organisation: the defaults, at version 1.
    pub fn defaults(organization_id: Uuid, now: DateTime<Utc>) -> Self {
        Self { organization_id, tiers: DEFAULT_TIERS, stages: DEFAULT_STAGES, version: 1, updated_at: now }
    }

    /// The policy after `patch`, the changes for the audit trail (empty when nothing changed:
    /// the version then stays) and which due dates storage must bring up to date.
    pub fn apply(&self, patch: &AttentionPatch, now: DateTime<Utc>) -> (AttentionPolicy, Vec<FieldChange>, Recompute) {
        let mut next = self.clone();
        let mut changes = Vec::new();
        let mut recompute = Recompute::default();
        for &(tier, period) in &patch.tiers {
            let slot = next.tiers.slot(tier);
            if *slot != period {
                changes.push(FieldChange::new(
                    &format!("tiers.{}", tier_key(tier)),
                    period_value(*slot),
                    period_value(period),
                ));
                *slot = period;
                recompute.accounts = true;
            }
        }
        for &(stage, period) in &patch.stages {
            let slot = next.stages.slot(stage);
            if *slot != period {
                changes.push(FieldChange::new(
                    &format!("lifecycle_stages.{}", stage.as_str()),
                    period_value(*slot),
                    period_value(period),
                ));
                *slot = period;
                recompute.contacts = true;
            }
        }
        if !changes.is_empty() {
            next.version += 1;
            next.updated_at = now;
        }
        (next, changes, recompute)
    }
}

/// When a customer of a class with `period` is due: its last interaction plus the period; a
/// customer never reached is due from its creation (the "or who never had one": nobody
/// has talked to it yet); `None` without an expectation. This is the rule migration 0021's
/// triggers apply in SQL; the tests through HTTP pin the two together.
pub fn due_at(
    last_interaction: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    period: Period,
) -> Option<DateTime<Utc>> {
    let days = period?;
    match last_interaction {
        Some(last) => last.checked_add_signed(chrono::Duration::days(i64::from(days))),
        None => Some(created_at),
    }
}

/// The overdue customers of one class and owner: what `GET /reports/attention` counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueGroup {
    /// `a`, `b`, `c` or `None` for accounts; a lifecycle stage for people.
    pub class: Option<String>,
    pub owner_id: Uuid,
    pub overdue: i64,
    /// The due date of the most overdue of them.
    pub oldest_due_at: DateTime<Utc>,
}

/// The overdue accounts and people buying for themselves, by class and owner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttentionReport {
    pub accounts: Vec<OverdueGroup>,
    pub contacts: Vec<OverdueGroup>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_change_lists_what_moved_and_bumps_the_version_once() {
        let policy = AttentionPolicy::defaults(Uuid::nil(), at("2026-01-01T00:00:00Z"));
        let patch = AttentionPatch {
            tiers: vec![(Some(AccountTier::A), Some(7)), (Some(AccountTier::B), Some(30)), (None, Some(365))],
            stages: vec![],
        };
        let (next, changes, recompute) = policy.apply(&patch, at("2026-02-01T00:00:00Z"));
        assert_eq!(next.tiers, TierPeriods { a: Some(7), b: Some(30), c: Some(90), untiered: Some(365) });
        assert_eq!(next.version, 2);
        assert_eq!(
            changes,
            vec![
                FieldChange::new("tiers.a", AuditValue::Integer(14), AuditValue::Integer(7)),
                FieldChange::new("tiers.none", AuditValue::Null, AuditValue::Integer(365)),
            ]
        );
        assert_eq!(recompute, Recompute { accounts: true, contacts: false });
        let (same, changes, recompute) = next.apply(&patch, at("2026-03-01T00:00:00Z"));
        assert_eq!((same.version, changes.len(), recompute), (2, 0, Recompute::default()));
    }

    #[test]
    fn the_due_date_counts_from_the_last_interaction_and_a_customer_never_reached_is_due() {
        let created = at("2026-01-01T08:00:00Z");
        assert_eq!(due_at(None, created, Some(14)), Some(created), "never reached: due since its creation");
        assert_eq!(due_at(Some(at("2026-03-30T10:30:00Z")), created, Some(3)), Some(at("2026-04-02T10:30:00Z")));
        assert_eq!(due_at(Some(at("2026-03-30T10:30:00Z")), created, None), None);
    }

    #[test]
    fn periods_are_whole_days_up_to_ten_years() {
        assert_eq!(parse_days("tiers.a", 1), Ok(1));
        assert_eq!(parse_days("tiers.a", 3650), Ok(3650));
        assert_eq!(parse_days("tiers.a", 0).unwrap_err().code, "out_of_range");
        assert_eq!(parse_days("tiers.a", 3651).unwrap_err().field, "tiers.a");
    }
}
