//! Activities: every interaction with a customer or prospect (a call, an email, a meeting, the
//! call nobody answered too) and what is planned next (a task, a call to make), with its
//! reminder. One record for both, the way a salesperson thinks of them: a planned activity is
//! completed (it becomes done, with its outcome) or cancelled.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{AuditValue, FieldChange};
use crate::error::{FieldError, ValidationErrors};
use crate::lead::ArchivedFilter;
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::record::{Changes, Record, rfc3339};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name};

string_enum!(
    /// What kind of interaction it is.
    ActivityKind {
        Call => "call",
        Email => "email",
        Meeting => "meeting",
        Visit => "visit",
        Sms => "sms",
        Chat => "chat",
        Note => "note",
        Task => "task",
    }
);

impl ActivityKind {
    /// Whether an activity of this kind goes one way between the organisation and the customer:
    /// notes and tasks have no direction.
    pub fn has_direction(self) -> bool {
        !matches!(self, Self::Note | Self::Task)
    }
}

string_enum!(
    /// Who started the interaction.
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
    }
);

string_enum!(
    ActivityStatus {
        Planned => "planned",
        Done => "done",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// How an interaction went.
    ActivityOutcome {
        Completed => "completed",
        NoAnswer => "no_answer",
        Busy => "busy",
        LeftVoicemail => "left_voicemail",
        WrongNumber => "wrong_number",
        Bounced => "bounced",
        Declined => "declined",
        Rescheduled => "rescheduled",
    }
);

impl ActivityOutcome {
    /// An attempt that did not reach the customer: it is stored, counted and shown like any
    /// other interaction, and counted apart in the reports.
    pub fn is_failed_attempt(self) -> bool {
        matches!(self, Self::NoAnswer | Self::Busy | Self::LeftVoicemail | Self::WrongNumber | Self::Bounced)
    }
}

string_enum!(
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
    }
);

/// The last and the next interaction of a lead, contact, account or deal: the latest done
/// activity about it (failed attempts included) and its kind, and the earliest planned one. The
/// store keeps them in the transaction of every activity change; the domain never sets them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interactions {
    pub last_at: Option<DateTime<Utc>>,
    pub last_kind: Option<ActivityKind>,
    pub next_at: Option<DateTime<Utc>>,
}

impl Interactions {
    /// Where a record sorts by its last interaction: a record never reached sorts before every
    /// real interaction, at 0001-01-01T00:00:00Z, which storage uses for it too.
    pub fn last_sort_key(&self) -> DateTime<Utc> {
        self.last_at.unwrap_or(NEVER_REACHED)
    }
}

/// The sort position of a record never reached: 0001-01-01T00:00:00Z, before any interaction.
pub const NEVER_REACHED: DateTime<Utc> = match DateTime::from_timestamp(-62_135_596_800, 0) {
    Some(at) => at,
    None => DateTime::<Utc>::MIN_UTC,
};

/// Which leads, contacts, accounts or deals a list keeps by their interactions; every part
/// narrows the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InteractionFilter {
    /// The last interaction strictly before this instant.
    pub last_before: Option<DateTime<Utc>>,
    /// The last interaction strictly after this instant.
    pub last_after: Option<DateTime<Utc>>,
    /// `Some(false)`: never any interaction; `Some(true)`: at least one.
    pub interacted: Option<bool>,
    /// `Some(false)`: nothing planned (the records nobody follows up); `Some(true)`: something.
    pub planned: Option<bool>,
}

/// What the records an activity names are, read in one query: for each link, whether it names
/// an active record of the organisation, and for a contact and a deal, their account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkTargets {
    pub lead: bool,
    /// `Some(account)` when the contact is active (`Some(None)`: it has no account).
    pub contact: Option<Option<Uuid>>,
    pub account: bool,
    pub opportunity: Option<Option<Uuid>>,
}

/// What an activity is about: at least one of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Links {
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
}

impl Links {
    pub fn is_empty(&self) -> bool {
        self.lead_id.is_none()
            && self.contact_id.is_none()
            && self.account_id.is_none()
            && self.opportunity_id.is_none()
    }

    /// The links with the account filled in from the contact's account and the deal's account,
    /// as read from storage (`contact_account`, `opportunity_account`).
    ///
    /// # Errors
    /// `account_mismatch` on `account_id` when a named account contradicts them, or when the
    /// contact and the deal belong to two different accounts.
    pub fn with_account(
        self,
        contact_account: Option<Uuid>,
        opportunity_account: Option<Uuid>,
    ) -> Result<Links, FieldError> {
        let mut account = self.account_id;
        for (implied, source) in [(contact_account, "contact"), (opportunity_account, "opportunity")] {
            match (account, implied) {
                (Some(named), Some(implied)) if named != implied => {
                    return Err(FieldError::new(
                        "account_id",
                        "account_mismatch",
                        format!("the {source} belongs to account {implied}, not to {named}"),
                    ));
                }
                (None, Some(implied)) => account = Some(implied),
                _ => {}
            }
        }
        Ok(Links { account_id: account, ..self })
    }
}

/// At most this many participants besides the linked contact.
pub const MAX_PARTICIPANTS: usize = 50;
/// The longest duration: a week, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 7 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: ActivityKind,
    pub direction: Option<Direction>,
    pub subject: Name,
    pub body: Option<LongText>,
    pub status: ActivityStatus,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_at: Option<DateTime<Utc>>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<u32>,
    pub outcome: Option<ActivityOutcome>,
    pub priority: Priority,
    pub owner_id: Uuid,
    pub links: Links,
    /// The support ticket it was logged against (a call about the ticket); its customer is
    /// among the links.
    pub ticket_id: Option<Uuid>,
    /// The other people who took part, contacts of the organisation, without repeats.
    pub participant_contact_ids: Vec<Uuid>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
}

crate::record::impl_record!(Activity);

/// A new activity, parsed. `status` absent means planned when `due_at` is given, done otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDraft {
    pub kind: ActivityKind,
    pub direction: Option<Direction>,
    pub subject: Name,
    pub body: Option<LongText>,
    pub status: Option<ActivityStatus>,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_at: Option<DateTime<Utc>>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<u32>,
    pub outcome: Option<ActivityOutcome>,
    pub priority: Option<Priority>,
    pub owner_id: Option<Uuid>,
    pub links: Links,
    pub ticket_id: Option<Uuid>,
    pub participant_contact_ids: Vec<Uuid>,
    pub custom_fields: Option<CustomFields>,
}

/// A change of an activity; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityPatch {
    pub kind: Option<ActivityKind>,
    pub direction: Option<Option<Direction>>,
    pub subject: Option<Name>,
    pub body: Option<Option<LongText>>,
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub remind_at: Option<Option<DateTime<Utc>>>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<Option<u32>>,
    pub outcome: Option<Option<ActivityOutcome>>,
    pub priority: Option<Priority>,
    pub owner_id: Option<Uuid>,
    pub lead_id: Option<Option<Uuid>>,
    pub contact_id: Option<Option<Uuid>>,
    pub account_id: Option<Option<Uuid>>,
    pub opportunity_id: Option<Option<Uuid>>,
    pub ticket_id: Option<Option<Uuid>>,
    pub participant_contact_ids: Option<Vec<Uuid>>,
    pub custom_fields: Option<CustomFields>,
}

impl ActivityPatch {
    /// The links after this patch.
    pub fn links(&self, current: Links) -> Links {
        Links {
            lead_id: self.lead_id.unwrap_or(current.lead_id),
            contact_id: self.contact_id.unwrap_or(current.contact_id),
            account_id: self.account_id.unwrap_or(current.account_id),
            opportunity_id: self.opportunity_id.unwrap_or(current.opportunity_id),
        }
    }
}

/// Why an activity cannot change as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActivityRuleError {
    #[error("the activity is archived; restore it first")]
    Archived,
    #[error(
        "only a planned activity can be completed, cancelled, rescheduled or snoozed, or have its due date, reminder or kind changed"
    )]
    NotPlanned,
}

impl ActivityRuleError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Archived => "activity_archived",
            Self::NotPlanned => "activity_not_planned",
        }
    }
}

/// Checks the rules that tie an activity's fields together, collecting every broken one. The
/// reminder is held at or before the due date when either is set (`scheduling`): a snoozed
/// reminder may have moved past it, and a later edit of something else leaves it there.
fn check(activity: &Activity, scheduling: bool, errors: &mut ValidationErrors) {
    if activity.direction.is_some() && !activity.kind.has_direction() {
        errors.push(FieldError::new("direction", "not_allowed", "notes and tasks have no direction"));
    }
    if activity.links.is_empty() {
        errors.push(FieldError::new(
            "lead_id",
            "required",
            "an activity is about at least one of lead_id, contact_id, account_id, opportunity_id",
        ));
    }
    match activity.status {
        ActivityStatus::Planned => {
            if activity.due_at.is_none() {
                errors.push(FieldError::new("due_at", "required", "a planned activity needs a due date"));
            }
            if activity.outcome.is_some() {
                errors.push(FieldError::new("outcome", "not_allowed", "a planned activity has no outcome yet"));
            }
            if activity.occurred_at.is_some() {
                errors.push(FieldError::new("occurred_at", "not_allowed", "a planned activity has not happened yet"));
            }
        }
        ActivityStatus::Done | ActivityStatus::Cancelled => {
            if activity.remind_at.is_some() {
                errors.push(FieldError::new("remind_at", "not_allowed", "only a planned activity has a reminder"));
            }
        }
    }
    if let (Some(remind), Some(due)) = (activity.remind_at, activity.due_at)
        && scheduling
        && activity.status == ActivityStatus::Planned
        && remind > due
    {
        errors.push(FieldError::new("remind_at", "after_due", "must be at or before due_at"));
    }
    if activity.duration_minutes.is_some_and(|d| d > MAX_DURATION_MINUTES) {
        errors.push(FieldError::new(
            "duration_minutes",
            "out_of_range",
            format!("must be between 0 and {MAX_DURATION_MINUTES}"),
        ));
    }
    if activity.participant_contact_ids.len() > MAX_PARTICIPANTS {
        errors.push(FieldError::new(
            "participant_contact_ids",
            "too_many",
            format!("at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !activity.participant_contact_ids.iter().all(|id| seen.insert(*id)) {
        errors.push(FieldError::new("participant_contact_ids", "duplicate", "names a contact twice"));
    }
}

fn opt_time(v: &Option<DateTime<Utc>>) -> AuditValue {
    v.map_or(AuditValue::Null, |t| AuditValue::text(rfc3339(t)))
}

fn opt_str<T: Copy>(v: &Option<T>, name: impl Fn(T) -> &'static str) -> AuditValue {
    v.map_or(AuditValue::Null, |v| AuditValue::text(name(v)))
}

fn opt_id(v: &Option<Uuid>) -> AuditValue {
    v.map_or(AuditValue::Null, |id| AuditValue::text(id.to_string()))
}

fn ids(v: &[Uuid]) -> AuditValue {
    AuditValue::List(v.iter().map(AuditValue::text).collect())
}

impl Activity {
    /// A new activity by `actor_id` at `now`.
    ///
    /// # Errors
    /// Every broken rule, each naming its field: a direction on a note or task, no link, a
    /// planned activity without `due_at` or with an outcome, a reminder after the due date, a
    /// status other than planned or done, too many or repeated participants.
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        actor_id: Uuid,
        draft: ActivityDraft,
        now: DateTime<Utc>,
    ) -> Result<Activity, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let status =
            draft.status.unwrap_or(if draft.due_at.is_some() { ActivityStatus::Planned } else { ActivityStatus::Done });
        if status == ActivityStatus::Cancelled {
            errors.push(FieldError::new("status", "invalid_value", "a new activity is planned or done"));
        }
        let done = status == ActivityStatus::Done;
        let activity = Activity {
            id,
            organization_id,
            kind: draft.kind,
            direction: draft.direction,
            subject: draft.subject,
            body: draft.body,
            status,
            due_at: draft.due_at,
            remind_at: draft.remind_at,
            occurred_at: if done { Some(draft.occurred_at.unwrap_or(now)) } else { draft.occurred_at },
            duration_minutes: draft.duration_minutes,
            outcome: draft.outcome,
            priority: draft.priority.unwrap_or(Priority::Normal),
            owner_id: draft.owner_id.unwrap_or(actor_id),
            links: draft.links,
            ticket_id: draft.ticket_id,
            participant_contact_ids: draft.participant_contact_ids,
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
        };
        check(&activity, true, &mut errors);
        errors.into_result().map(|()| activity)
    }

    /// Whether it is planned and its due date has passed at `now`: a state the date gives it,
    /// which its entity tag carries.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == ActivityStatus::Planned && self.due_at.is_some_and(|due| due < now)
    }

    /// When its owner should be reminded of it: the reminder, else the due date; `None` unless
    /// it is planned. Stored, so that the reminders of a user are one index range.
    pub fn alert_at(&self) -> Option<DateTime<Utc>> {
        if self.status == ActivityStatus::Planned { self.remind_at.or(self.due_at) } else { None }
    }

    /// # Errors
    /// [`ActivityRuleError::Archived`].
    pub fn ensure_active(&self) -> Result<(), ActivityRuleError> {
        if self.archived_at.is_some() { Err(ActivityRuleError::Archived) } else { Ok(()) }
    }

    fn ensure_planned(&self) -> Result<(), ActivityRuleError> {
        self.ensure_active()?;
        if self.status == ActivityStatus::Planned { Ok(()) } else { Err(ActivityRuleError::NotPlanned) }
    }

    /// The activity after an edit, with the audit changes; no change keeps the version. Its
    /// kind, due date and reminder change only while it is planned; `occurred_at` only once it
    /// is done.
    ///
    /// # Errors
    /// [`ActivityEditError::Rule`] for an archived activity, or a planning field changed on one
    /// that is not planned; [`ActivityEditError::Invalid`] for fields that no longer fit together.
    pub fn apply(
        &self,
        patch: &ActivityPatch,
        now: DateTime<Utc>,
    ) -> Result<(Activity, Vec<FieldChange>), ActivityEditError> {
        self.ensure_active()?;
        let planning = patch.kind.is_some() || patch.due_at.is_some() || patch.remind_at.is_some();
        if planning && self.status != ActivityStatus::Planned {
            return Err(ActivityRuleError::NotPlanned.into());
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("kind", &mut next.kind, &patch.kind, |v| AuditValue::text(v.as_str()));
        c.set("direction", &mut next.direction, &patch.direction, |v| opt_str(v, Direction::as_str));
        c.set("subject", &mut next.subject, &patch.subject, |v: &Name| AuditValue::text(v));
        c.set("body", &mut next.body, &patch.body, |v| AuditValue::optional(v.as_ref()));
        c.set("due_at", &mut next.due_at, &patch.due_at, opt_time);
        c.set("remind_at", &mut next.remind_at, &patch.remind_at, opt_time);
        if patch.occurred_at.is_some() && self.status != ActivityStatus::Done {
            return Err(ActivityEditError::Invalid(ValidationErrors::from(FieldError::new(
                "occurred_at",
                "not_allowed",
                "only a done activity has happened; complete it instead",
            ))));
        }
        c.set("occurred_at", &mut next.occurred_at, &patch.occurred_at.map(Some), opt_time);
        c.set("duration_minutes", &mut next.duration_minutes, &patch.duration_minutes, |v| {
            v.map_or(AuditValue::Null, |d| AuditValue::Integer(i64::from(d)))
        });
        c.set("outcome", &mut next.outcome, &patch.outcome, |v| opt_str(v, ActivityOutcome::as_str));
        c.set("priority", &mut next.priority, &patch.priority, |v| AuditValue::text(v.as_str()));
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v| AuditValue::text(v.to_string()));
        c.set("lead_id", &mut next.links.lead_id, &patch.lead_id, opt_id);
        c.set("contact_id", &mut next.links.contact_id, &patch.contact_id, opt_id);
        c.set("account_id", &mut next.links.account_id, &patch.account_id, opt_id);
        c.set("opportunity_id", &mut next.links.opportunity_id, &patch.opportunity_id, opt_id);
        c.set("ticket_id", &mut next.ticket_id, &patch.ticket_id, opt_id);
        c.set(
            "participant_contact_ids",
            &mut next.participant_contact_ids,
            &patch.participant_contact_ids,
            |v: &Vec<Uuid>| ids(v),
        );
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v| {
            AuditValue::Json(v.as_json_text().to_owned())
        });
        let mut errors = ValidationErrors::new();
        check(&next, patch.due_at.is_some() || patch.remind_at.is_some(), &mut errors);
        errors.into_result().map_err(ActivityEditError::Invalid)?;
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    /// The planned activity done: when it happened (default `now`), how it went, and optionally
    /// what was said. Its reminder goes.
    ///
    /// # Errors
    /// [`ActivityRuleError::NotPlanned`] unless it is planned; archived.
    pub fn complete(
        &self,
        outcome: Option<ActivityOutcome>,
        occurred_at: Option<DateTime<Utc>>,
        body: Option<LongText>,
        now: DateTime<Utc>,
    ) -> Result<(Activity, Vec<FieldChange>), ActivityRuleError> {
        self.ensure_planned()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("status", &mut next.status, &Some(ActivityStatus::Done), |v| AuditValue::text(v.as_str()));
        c.set("occurred_at", &mut next.occurred_at, &Some(Some(occurred_at.unwrap_or(now))), opt_time);
        c.set("outcome", &mut next.outcome, &Some(outcome), |v| opt_str(v, ActivityOutcome::as_str));
        c.set("remind_at", &mut next.remind_at, &Some(None), opt_time);
        if body.is_some() {
            c.set("body", &mut next.body, &Some(body), |v| AuditValue::optional(v.as_ref()));
        }
        next.touch(now);
        Ok((next, c.0))
    }

    /// The planned activity cancelled; its reminder goes.
    ///
    /// # Errors
    /// [`ActivityRuleError::NotPlanned`] unless it is planned; archived.
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<(Activity, Vec<FieldChange>), ActivityRuleError> {
        self.ensure_planned()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("status", &mut next.status, &Some(ActivityStatus::Cancelled), |v| AuditValue::text(v.as_str()));
        c.set("remind_at", &mut next.remind_at, &Some(None), opt_time);
        next.touch(now);
        Ok((next, c.0))
    }

    /// The planned activity moved to `due_at`, with a new reminder (or none).
    ///
    /// # Errors
    /// [`ActivityEditError::Rule`] unless it is planned; [`ActivityEditError::Invalid`] for a
    /// reminder after the due date.
    pub fn reschedule(
        &self,
        due_at: DateTime<Utc>,
        remind_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Activity, Vec<FieldChange>), ActivityEditError> {
        self.apply(&ActivityPatch { due_at: Some(Some(due_at)), remind_at: Some(remind_at), ..Default::default() }, now)
    }

    /// The reminder of a planned activity moved to `remind_at`, which may fall after the due
    /// date (snoozing an overdue task until tomorrow).
    ///
    /// # Errors
    /// [`ActivityRuleError::NotPlanned`] unless it is planned; archived.
    pub fn snooze(
        &self,
        remind_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(Activity, Vec<FieldChange>), ActivityRuleError> {
        self.ensure_planned()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("remind_at", &mut next.remind_at, &Some(Some(remind_at)), opt_time);
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let mut put = |field: &str, value: AuditValue| {
            if value != AuditValue::Null {
                changes.push(FieldChange::new(field, AuditValue::Null, value));
            }
        };
        put("kind", AuditValue::text(self.kind.as_str()));
        put("direction", opt_str(&self.direction, Direction::as_str));
        put("subject", AuditValue::text(&self.subject));
        put("body", AuditValue::optional(self.body.as_ref()));
        put("status", AuditValue::text(self.status.as_str()));
        put("due_at", opt_time(&self.due_at));
        put("remind_at", opt_time(&self.remind_at));
        put("occurred_at", opt_time(&self.occurred_at));
        put("duration_minutes", self.duration_minutes.map_or(AuditValue::Null, |d| AuditValue::Integer(i64::from(d))));
        put("outcome", opt_str(&self.outcome, ActivityOutcome::as_str));
        put("priority", AuditValue::text(self.priority.as_str()));
        put("owner_id", AuditValue::text(self.owner_id.to_string()));
        put("lead_id", opt_id(&self.links.lead_id));
        put("contact_id", opt_id(&self.links.contact_id));
        put("account_id", opt_id(&self.links.account_id));
        put("opportunity_id", opt_id(&self.links.opportunity_id));
        put("ticket_id", opt_id(&self.ticket_id));
        if !self.participant_contact_ids.is_empty() {
            put("participant_contact_ids", ids(&self.participant_contact_ids));
        }
        if self.custom_fields != CustomFields::empty() {
            put("custom_fields", AuditValue::Json(self.custom_fields.as_json_text().to_owned()));
        }
        changes
    }

    /// Where it stands in a list. `due_at` orders by when it is or was due, and an activity
    /// logged as done without a due date by when it happened; `occurred_at` by when it happened,
    /// and one that has not by when it is due. Every activity has one or the other (a planned one
    /// a due date, a done one the time it happened, a cancelled one the due date it had), so
    /// neither order has a gap.
    pub fn position(&self, field: ActivitySortField) -> KeysetPosition {
        let value = match field {
            ActivitySortField::CreatedAt => self.created_at,
            ActivitySortField::DueAt => self.due_at.or(self.occurred_at).unwrap_or(self.created_at),
            ActivitySortField::OccurredAt => self.occurred_at.or(self.due_at).unwrap_or(self.created_at),
        };
        KeysetPosition { value: SortValue::Timestamp(value), id: self.id }
    }
}

/// Why an edit of an activity is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityEditError {
    Rule(ActivityRuleError),
    Invalid(ValidationErrors),
}

impl From<ActivityRuleError> for ActivityEditError {
    fn from(error: ActivityRuleError) -> Self {
        Self::Rule(error)
    }
}

string_enum!(
    ActivitySortField {
        DueAt => "due_at",
        OccurredAt => "occurred_at",
        CreatedAt => "created_at",
    }
);

impl SortField for ActivitySortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        ActivitySortField::parse("sort", name)
    }
}

/// An activity list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityQuery {
    pub kinds: Vec<ActivityKind>,
    pub statuses: Vec<ActivityStatus>,
    pub outcomes: Vec<ActivityOutcome>,
    pub owner_ids: Vec<Uuid>,
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    /// The activities this contact took part in (one of `participant_contact_ids`).
    pub participant_contact_id: Option<Uuid>,
    pub due_after: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub occurred_after: Option<DateTime<Utc>>,
    pub occurred_before: Option<DateTime<Utc>>,
    /// Planned ones whose due date passed before this instant (`overdue=true`: now).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Case-insensitive text searched in the subject and the body.
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub sort: Sort<ActivitySortField>,
    pub window: Window,
}

/// The kind of record an activity is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AboutKind {
    Lead,
    Contact,
    Account,
    Opportunity,
}

impl AboutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Contact => "contact",
            Self::Account => "account",
            Self::Opportunity => "opportunity",
        }
    }
}

/// A record an activity is about, with the name a person reads ("Ada Lovelace", "Babbage & Co").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    pub kind: AboutKind,
    pub id: Uuid,
    pub name: String,
}

/// A planned activity whose owner should be reminded of it now, with what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub activity: Activity,
    pub about: Vec<About>,
}

/// The most reminders one answer holds.
pub const MAX_REMINDERS: u32 = 200;

/// Whose reminders, up to when, and how many at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderQuery {
    pub owner_id: Uuid,
    /// The reminders (or, without one, the due dates) at or before this instant.
    pub until: DateTime<Utc>,
    /// What counts as overdue: a due date before this instant.
    pub now: DateTime<Utc>,
    pub limit: u32,
}

/// The order of reminders: the overdue ones first, the longest overdue first; then the others by
/// when they asked to be reminded; then by id.
pub fn reminder_order(a: &Activity, b: &Activity, now: DateTime<Utc>) -> std::cmp::Ordering {
    let key = |x: &Activity| {
        let overdue = x.is_overdue(now);
        let at = if overdue { x.due_at } else { x.alert_at() };
        (!overdue, at, x.id)
    };
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).single().unwrap_or_default()
    }

    fn draft(kind: ActivityKind) -> ActivityDraft {
        ActivityDraft {
            kind,
            direction: None,
            subject: Name::from_trusted("Call Ada".into()),
            body: None,
            status: None,
            due_at: None,
            remind_at: None,
            occurred_at: None,
            duration_minutes: None,
            outcome: None,
            priority: None,
            owner_id: None,
            links: Links { contact_id: Some(Uuid::from_u128(1)), ..Links::default() },
            ticket_id: None,
            participant_contact_ids: Vec::new(),
            custom_fields: None,
        }
    }

    fn codes(result: Result<Activity, ValidationErrors>) -> Vec<(String, String)> {
        result.err().map(|e| e.0.into_iter().map(|f| (f.field, f.code.to_owned())).collect()).unwrap_or_default()
    }

    fn create(draft: ActivityDraft) -> Result<Activity, ValidationErrors> {
        Activity::create(Uuid::from_u128(9), Uuid::from_u128(8), Uuid::from_u128(7), draft, at(10))
    }

    #[test]
    fn a_call_nobody_answered_is_logged_as_done_now() {
        let call = create(ActivityDraft {
            direction: Some(Direction::Outbound),
            outcome: Some(ActivityOutcome::NoAnswer),
            ..draft(ActivityKind::Call)
        });
        let call = call.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(call.status, ActivityStatus::Done);
        assert_eq!(call.occurred_at, Some(at(10)));
        assert_eq!(call.owner_id, Uuid::from_u128(7), "the creator by default");
        assert_eq!(call.priority, Priority::Normal);
        assert!(call.outcome.is_some_and(ActivityOutcome::is_failed_attempt));
        assert_eq!(call.alert_at(), None);
    }

    #[test]
    fn a_due_date_makes_it_planned_and_the_rules_tie_the_fields() {
        let planned =
            create(ActivityDraft { due_at: Some(at(15)), remind_at: Some(at(14)), ..draft(ActivityKind::Task) });
        let planned = planned.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (planned.status, planned.occurred_at, planned.alert_at()),
            (ActivityStatus::Planned, None, Some(at(14)))
        );
        assert!(!planned.is_overdue(at(15)) && planned.is_overdue(at(15) + Duration::seconds(1)));

        let errors = codes(create(ActivityDraft {
            status: Some(ActivityStatus::Planned),
            direction: Some(Direction::Inbound),
            outcome: Some(ActivityOutcome::Completed),
            links: Links::default(),
            ..draft(ActivityKind::Note)
        }));
        let expected =
            [("direction", "not_allowed"), ("lead_id", "required"), ("due_at", "required"), ("outcome", "not_allowed")];
        assert_eq!(errors, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));
        assert_eq!(
            codes(create(ActivityDraft { due_at: Some(at(15)), remind_at: Some(at(16)), ..draft(ActivityKind::Call) })),
            vec![("remind_at".to_owned(), "after_due".to_owned())]
        );
        assert_eq!(
            codes(create(ActivityDraft {
                status: Some(ActivityStatus::Cancelled),
                due_at: Some(at(15)),
                ..draft(ActivityKind::Call)
            })),
            vec![("status".to_owned(), "invalid_value".to_owned())]
        );
        let twice = vec![Uuid::from_u128(3), Uuid::from_u128(3)];
        assert_eq!(
            codes(create(ActivityDraft { participant_contact_ids: twice, ..draft(ActivityKind::Meeting) })),
            vec![("participant_contact_ids".to_owned(), "duplicate".to_owned())]
        );
    }

    #[test]
    fn a_planned_activity_is_completed_cancelled_rescheduled_or_snoozed_once() {
        let planned =
            create(ActivityDraft { due_at: Some(at(15)), remind_at: Some(at(14)), ..draft(ActivityKind::Call) })
                .unwrap_or_else(|e| panic!("{e:?}"));
        let (done, changes) = planned
            .complete(Some(ActivityOutcome::LeftVoicemail), None, None, at(16))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (done.status, done.occurred_at, done.remind_at, done.version),
            (ActivityStatus::Done, Some(at(16)), None, 2)
        );
        assert_eq!(
            changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["status", "occurred_at", "outcome", "remind_at"]
        );
        assert_eq!(done.complete(None, None, None, at(17)).err(), Some(ActivityRuleError::NotPlanned));
        assert_eq!(done.cancel(at(17)).err(), Some(ActivityRuleError::NotPlanned));
        assert!(matches!(
            done.reschedule(at(20), None, at(17)),
            Err(ActivityEditError::Rule(ActivityRuleError::NotPlanned))
        ));
        assert_eq!(done.snooze(at(20), at(17)).err(), Some(ActivityRuleError::NotPlanned));

        let (cancelled, _) = planned.cancel(at(12)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (cancelled.status, cancelled.remind_at, cancelled.due_at),
            (ActivityStatus::Cancelled, None, Some(at(15)))
        );

        let (moved, _) = planned.reschedule(at(18), Some(at(17)), at(12)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((moved.due_at, moved.remind_at, moved.alert_at()), (Some(at(18)), Some(at(17)), Some(at(17))));
        assert!(matches!(planned.reschedule(at(18), Some(at(19)), at(12)), Err(ActivityEditError::Invalid(_))));

        // Snoozing an overdue task's reminder past its due date is allowed.
        let (snoozed, _) = planned.snooze(at(23), at(20)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(snoozed.alert_at(), Some(at(23)));
        // Another edit leaves the snoozed reminder where it is; setting one past the due date is
        // refused.
        let renamed =
            ActivityPatch { subject: Some(Name::from_trusted("Call Ada again".into())), ..Default::default() };
        assert!(snoozed.apply(&renamed, at(21)).is_ok());
        let late = ActivityPatch { remind_at: Some(Some(at(23))), ..Default::default() };
        assert!(matches!(planned.apply(&late, at(21)), Err(ActivityEditError::Invalid(_))));
    }

    #[test]
    fn an_edit_changes_planning_only_while_planned_and_keeps_the_rules() {
        let call = create(ActivityDraft { outcome: Some(ActivityOutcome::Busy), ..draft(ActivityKind::Call) })
            .unwrap_or_else(|e| panic!("{e:?}"));
        let patch = ActivityPatch { outcome: Some(Some(ActivityOutcome::Completed)), ..Default::default() };
        let (fixed, changes) = call.apply(&patch, at(11)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((fixed.outcome, fixed.version, changes.len()), (Some(ActivityOutcome::Completed), 2, 1));
        let (same, none) = call.apply(&ActivityPatch::default(), at(11)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((same.version, none.len()), (1, 0));
        assert!(matches!(
            call.apply(&ActivityPatch { due_at: Some(Some(at(20))), ..Default::default() }, at(11)),
            Err(ActivityEditError::Rule(ActivityRuleError::NotPlanned))
        ));
        let unlinked = ActivityPatch { contact_id: Some(None), ..Default::default() };
        assert!(matches!(call.apply(&unlinked, at(11)), Err(ActivityEditError::Invalid(_))));
    }

    #[test]
    fn reminders_put_the_overdue_first_then_go_by_their_time() {
        let plan = |due: u32, remind: Option<u32>, n: u128| {
            let mut a =
                create(ActivityDraft { due_at: Some(at(due)), remind_at: remind.map(at), ..draft(ActivityKind::Task) })
                    .unwrap_or_else(|e| panic!("{e:?}"));
            a.id = Uuid::from_u128(n);
            a
        };
        // At 11:00: C is overdue since 10:45 and D since 10:00; E reminds at 08:00 for 13:00, F at 10:30.
        let (c, d, e, f) = (plan(10, Some(9), 3), plan(10, None, 4), plan(13, Some(8), 5), plan(12, Some(10), 6));
        let c = Activity { due_at: Some(at(10) + chrono::Duration::minutes(45)), ..c };
        let mut all = [e, f, c, d];
        all.sort_by(|x, y| reminder_order(x, y, at(11)));
        assert_eq!(all.iter().map(|a| a.id.as_u128()).collect::<Vec<_>>(), [4, 3, 5, 6]);
    }

    #[test]
    fn the_account_follows_from_the_contact_and_the_deal() {
        let (account, other) = (Uuid::from_u128(50), Uuid::from_u128(51));
        let links = Links { contact_id: Some(Uuid::from_u128(1)), ..Links::default() };
        assert_eq!(links.with_account(Some(account), None).ok().and_then(|l| l.account_id), Some(account));
        assert_eq!(links.with_account(None, None).ok().and_then(|l| l.account_id), None);
        let named = Links { account_id: Some(other), ..links };
        assert_eq!(named.with_account(Some(account), None).err().map(|e| e.code), Some("account_mismatch"));
        assert_eq!(links.with_account(Some(account), Some(other)).err().map(|e| e.code), Some("account_mismatch"));
        assert_eq!(named.with_account(None, Some(other)).ok().and_then(|l| l.account_id), Some(other));
    }
}
