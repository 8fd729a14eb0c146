//! Leads: people or companies that might buy, before they are qualified and converted.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::record::{Changes, Record};
use crate::string_enum;
use crate::value::{CustomFields, Email, LongText, Name, Phone, Url};

string_enum!(
    /// Where a lead came from, for the lead-source statistics.
    LeadSource {
        Web => "web",
        ColdCall => "cold_call",
        Advertising => "advertising",
        Social => "social",
        EmailCampaign => "email_campaign",
        Seminar => "seminar",
        TradeShow => "trade_show",
        Webinar => "webinar",
        Referral => "referral",
        Partner => "partner",
        Other => "other",
    }
);

string_enum!(
    LeadStatus {
        New => "new",
        Contacted => "contacted",
        Qualified => "qualified",
        Unqualified => "unqualified",
        Converted => "converted",
    }
);

string_enum!(
    LeadRating {
        Hot => "hot",
        Warm => "warm",
        Cold => "cold",
    }
);

impl LeadStatus {
    /// The status machine. Staying in the same status is always allowed. `converted` is
    /// terminal and reached only through conversion, never by an edit.
    ///
    /// ```text
    /// new ──► contacted ──► qualified
    ///  │          ▲  │          │ ▲
    ///  │          │  ▼          ▼ │
    ///  └──────► unqualified ◄─────┘
    /// ```
    /// new may also go straight to qualified; qualified may go back to contacted; unqualified
    /// may be reopened as contacted or qualified.
    pub fn may_change_to(self, next: LeadStatus) -> bool {
        use LeadStatus::*;
        if self == next {
            return self != Converted || next == Converted;
        }
        matches!(
            (self, next),
            (New, Contacted | Qualified | Unqualified)
                | (Contacted, Qualified | Unqualified)
                | (Qualified, Contacted | Unqualified)
                | (Unqualified, Contacted | Qualified)
        )
    }

    /// The statuses an edit may move to from this one.
    pub fn edit_targets(self) -> Vec<&'static str> {
        LeadStatus::ALL.iter().filter(|s| **s != self && self.may_change_to(**s)).map(|s| s.as_str()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: Option<Name>,
    pub last_name: Name,
    pub company: Option<Name>,
    pub title: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub website: Option<Url>,
    pub source: Option<LeadSource>,
    pub source_detail: Option<Name>,
    pub status: LeadStatus,
    pub rating: Option<LeadRating>,
    pub owner_id: Uuid,
    pub description: Option<LongText>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
    /// The last and the next interaction, kept by the store.
    pub interactions: crate::activity::Interactions,
    pub converted_at: Option<DateTime<Utc>>,
    /// What the conversion produced or merged into.
    pub converted_account_id: Option<Uuid>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_opportunity_id: Option<Uuid>,
}

/// A new lead's fields, already parsed. `owner_id` `None` means the creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadDraft {
    pub first_name: Option<Name>,
    pub last_name: Name,
    pub company: Option<Name>,
    pub title: Option<Name>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub website: Option<Url>,
    pub source: Option<LeadSource>,
    pub source_detail: Option<Name>,
    pub status: Option<LeadStatus>,
    pub rating: Option<LeadRating>,
    pub owner_id: Option<Uuid>,
    pub description: Option<LongText>,
    pub custom_fields: Option<CustomFields>,
}

/// A partial update: the outer `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadPatch {
    pub first_name: Option<Option<Name>>,
    pub last_name: Option<Name>,
    pub company: Option<Option<Name>>,
    pub title: Option<Option<Name>>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<Phone>>,
    pub website: Option<Option<Url>>,
    pub source: Option<Option<LeadSource>>,
    pub source_detail: Option<Option<Name>>,
    pub status: Option<LeadStatus>,
    pub rating: Option<Option<LeadRating>>,
    pub owner_id: Option<Uuid>,
    pub description: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
}

/// Why a lead cannot be changed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadRuleError {
    #[error("a lead cannot go from {from} to {to}")]
    IllegalStatusChange { from: LeadStatus, to: LeadStatus, allowed: Vec<&'static str> },
    #[error("a converted lead cannot be changed")]
    Converted,
    #[error("the lead is archived; restore it first")]
    Archived,
    #[error("the lead is not archived")]
    NotArchived,
}

impl LeadRuleError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::IllegalStatusChange { .. } => "illegal_status_change",
            Self::Converted => "lead_converted",
            Self::Archived => "lead_archived",
            Self::NotArchived => "lead_not_archived",
        }
    }
}

crate::record::impl_record!(Lead);

impl Lead {
    /// A new lead from `draft`, created by `actor_id` in `organization_id` at `now`.
    ///
    /// # Errors
    /// A field error on `status` when the draft asks for `converted`.
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        actor_id: Uuid,
        draft: LeadDraft,
        now: DateTime<Utc>,
    ) -> Result<Lead, FieldError> {
        let status = draft.status.unwrap_or(LeadStatus::New);
        if status == LeadStatus::Converted {
            return Err(FieldError::new(
                "status",
                "invalid_value",
                "a lead cannot be created as converted; a lead becomes converted only by conversion",
            ));
        }
        Ok(Lead {
            id,
            organization_id,
            first_name: draft.first_name,
            last_name: draft.last_name,
            company: draft.company,
            title: draft.title,
            email: draft.email,
            phone: draft.phone,
            website: draft.website,
            source: draft.source,
            source_detail: draft.source_detail,
            status,
            rating: draft.rating,
            owner_id: draft.owner_id.unwrap_or(actor_id),
            description: draft.description,
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
            interactions: crate::activity::Interactions::default(),
            converted_at: None,
            converted_account_id: None,
            converted_contact_id: None,
            converted_opportunity_id: None,
        })
    }

    /// The lead after `patch`, with its version and `updated_at` bumped when anything changed,
    /// and the list of changed fields for the audit trail.
    ///
    /// # Errors
    /// [`LeadRuleError`] when the lead is converted or archived, or the status change is illegal.
    pub fn apply(&self, patch: &LeadPatch, now: DateTime<Utc>) -> Result<(Lead, Vec<FieldChange>), LeadRuleError> {
        if self.status == LeadStatus::Converted {
            return Err(LeadRuleError::Converted);
        }
        if self.archived_at.is_some() {
            return Err(LeadRuleError::Archived);
        }
        if let Some(next) = patch.status
            && !self.status.may_change_to(next)
        {
            return Err(LeadRuleError::IllegalStatusChange {
                from: self.status,
                to: next,
                allowed: self.status.edit_targets(),
            });
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        let text = |v: &Option<Name>| AuditValue::optional(v.as_ref());
        c.set("first_name", &mut next.first_name, &patch.first_name, text);
        c.set("last_name", &mut next.last_name, &patch.last_name, |v: &Name| AuditValue::text(v));
        c.set("company", &mut next.company, &patch.company, text);
        c.set("title", &mut next.title, &patch.title, text);
        c.set("email", &mut next.email, &patch.email, |v| AuditValue::optional(v.as_ref().map(Email::as_str).as_ref()));
        c.set("phone", &mut next.phone, &patch.phone, |v| AuditValue::optional(v.as_ref()));
        c.set("website", &mut next.website, &patch.website, |v| AuditValue::optional(v.as_ref()));
        c.set("source", &mut next.source, &patch.source, |v| AuditValue::optional(v.as_ref()));
        c.set("source_detail", &mut next.source_detail, &patch.source_detail, text);
        c.set("status", &mut next.status, &patch.status, |v: &LeadStatus| AuditValue::text(v));
        c.set("rating", &mut next.rating, &patch.rating, |v| AuditValue::optional(v.as_ref()));
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v: &Uuid| AuditValue::text(v));
        c.set("description", &mut next.description, &patch.description, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v| {
            AuditValue::Json(v.as_json_text().to_owned())
        });
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    /// The lead archived at `now`.
    ///
    /// # Errors
    /// [`LeadRuleError::Archived`] when it already is.
    pub fn archive(&self, now: DateTime<Utc>) -> Result<(Lead, Vec<FieldChange>), LeadRuleError> {
        crate::record::archive(self, now).map_err(|_| LeadRuleError::Archived)
    }

    /// The lead brought back from the archive.
    ///
    /// # Errors
    /// [`LeadRuleError::NotArchived`] when it is not archived.
    pub fn restore(&self, now: DateTime<Utc>) -> Result<(Lead, Vec<FieldChange>), LeadRuleError> {
        crate::record::restore(self, now).map_err(|_| LeadRuleError::NotArchived)
    }

    /// Where this lead sits in a list sorted by `field`.
    pub fn position(&self, field: LeadSortField) -> KeysetPosition {
        let text = |v: Option<&str>| SortValue::Text(v.unwrap_or("").to_owned());
        let value = match field {
            LeadSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            LeadSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            LeadSortField::LastName => SortValue::Text(self.last_name.as_str().to_owned()),
            LeadSortField::FirstName => text(self.first_name.as_ref().map(Name::as_str)),
            LeadSortField::Company => text(self.company.as_ref().map(Name::as_str)),
            LeadSortField::Email => text(self.email.as_ref().map(Email::as_str)),
            LeadSortField::LastInteractionAt => SortValue::Timestamp(self.interactions.last_sort_key()),
        };
        KeysetPosition { value, id: self.id }
    }

    /// The audit entry of a creation: every field that has a value.
    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let mut put = |field: &str, value: AuditValue| {
            if value != AuditValue::Null {
                changes.push(FieldChange::new(field, AuditValue::Null, value));
            }
        };
        put("first_name", AuditValue::optional(self.first_name.as_ref()));
        put("last_name", AuditValue::text(&self.last_name));
        put("company", AuditValue::optional(self.company.as_ref()));
        put("title", AuditValue::optional(self.title.as_ref()));
        put("email", AuditValue::optional(self.email.as_ref().map(Email::as_str).as_ref()));
        put("phone", AuditValue::optional(self.phone.as_ref()));
        put("website", AuditValue::optional(self.website.as_ref()));
        put("source", AuditValue::optional(self.source.as_ref()));
        put("source_detail", AuditValue::optional(self.source_detail.as_ref()));
        put("status", AuditValue::text(self.status));
        put("rating", AuditValue::optional(self.rating.as_ref()));
        put("owner_id", AuditValue::text(self.owner_id));
        put("description", AuditValue::optional(self.description.as_ref()));
        put("custom_fields", AuditValue::Json(self.custom_fields.as_json_text().to_owned()));
        changes
    }
}

string_enum!(
    /// The fields a lead list may be sorted by.
    LeadSortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        LastName => "last_name",
        FirstName => "first_name",
        Company => "company",
        Email => "email",
        LastInteractionAt => "last_interaction_at",
    }
);

impl SortField for LeadSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }

    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }

    fn parse(name: &str) -> Result<Self, FieldError> {
        LeadSortField::parse("sort", name)
    }
}

/// Which archived leads a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedFilter {
    /// Only active leads (the default).
    #[default]
    Exclude,
    /// Active and archived leads (`archived=true`).
    Include,
    /// Only archived leads (`archived=only`).
    Only,
}

/// A lead list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadQuery {
    pub statuses: Vec<LeadStatus>,
    pub sources: Vec<LeadSource>,
    pub ratings: Vec<LeadRating>,
    pub owner_ids: Vec<Uuid>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Exact emails (stored emails are lowercase, and so are these); empty for any.
    pub emails: Vec<Email>,
    /// Case-insensitive text searched in names, company and email.
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub interactions: crate::activity::InteractionFilter,
    pub sort: Sort<LeadSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::SortDirection;

    fn lead() -> Lead {
        let now = Utc::now();
        let draft = LeadDraft {
            first_name: Some(Name::from_trusted("Ada".into())),
            last_name: Name::from_trusted("Lovelace".into()),
            company: None,
            title: None,
            email: None,
            phone: None,
            website: None,
            source: Some(LeadSource::Web),
            source_detail: None,
            status: None,
            rating: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        match Lead::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, now) {
            Ok(lead) => lead,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_new_lead_is_new_owned_by_its_creator_at_version_one() {
        let lead = lead();
        assert_eq!(lead.status, LeadStatus::New);
        assert_eq!(lead.owner_id, lead.created_by);
        assert_eq!(lead.version, 1);
        assert_eq!(lead.custom_fields.as_json_text(), "{}");
    }

    #[test]
    fn the_status_machine_allows_the_documented_moves_only() {
        use LeadStatus::*;
        let allowed = [
            (New, Contacted),
            (New, Qualified),
            (New, Unqualified),
            (Contacted, Qualified),
            (Contacted, Unqualified),
            (Qualified, Contacted),
            (Qualified, Unqualified),
            (Unqualified, Contacted),
            (Unqualified, Qualified),
        ];
        for from in LeadStatus::ALL {
            for to in LeadStatus::ALL {
                let expected = from == to || allowed.contains(&(*from, *to));
                assert_eq!(from.may_change_to(*to), expected, "{from} -> {to}");
            }
        }
        assert!(!Qualified.may_change_to(Converted));
        assert!(!Contacted.may_change_to(New));
    }

    #[test]
    fn a_patch_changes_only_given_fields_and_clears_nulls() {
        let lead = lead();
        let patch = LeadPatch { first_name: Some(None), status: Some(LeadStatus::Contacted), ..LeadPatch::default() };
        let (next, changes) = lead.apply(&patch, Utc::now()).unwrap();
        assert_eq!(next.first_name, None);
        assert_eq!(next.last_name, lead.last_name);
        assert_eq!(next.status, LeadStatus::Contacted);
        assert_eq!(next.version, 2);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["first_name", "status"]);
        assert_eq!(changes[0].old, AuditValue::Text("Ada".into()));
        assert_eq!(changes[0].new, AuditValue::Null);
    }

    #[test]
    fn an_empty_patch_does_not_bump_the_version() {
        let lead = lead();
        let (next, changes) = lead.apply(&LeadPatch::default(), Utc::now()).unwrap();
        assert!(changes.is_empty());
        assert_eq!(next.version, 1);
    }

    #[test]
    fn an_illegal_status_change_names_the_allowed_ones() {
        let mut lead = lead();
        lead.status = LeadStatus::Contacted;
        let patch = LeadPatch { status: Some(LeadStatus::New), ..LeadPatch::default() };
        match lead.apply(&patch, Utc::now()) {
            Err(LeadRuleError::IllegalStatusChange { allowed, .. }) => {
                assert_eq!(allowed, vec!["qualified", "unqualified"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn archived_and_converted_leads_refuse_edits() {
        let lead = lead();
        let (archived, _) = lead.archive(Utc::now()).unwrap();
        assert_eq!(archived.apply(&LeadPatch::default(), Utc::now()), Err(LeadRuleError::Archived));
        assert_eq!(archived.archive(Utc::now()).err(), Some(LeadRuleError::Archived));
        let (restored, _) = archived.restore(Utc::now()).unwrap();
        assert_eq!(restored.archived_at, None);
        assert_eq!(restored.version, 3);
        assert_eq!(restored.restore(Utc::now()).err(), Some(LeadRuleError::NotArchived));
        let mut converted = lead.clone();
        converted.status = LeadStatus::Converted;
        assert_eq!(converted.apply(&LeadPatch::default(), Utc::now()), Err(LeadRuleError::Converted));
    }

    #[test]
    fn a_lead_cannot_be_created_converted() {
        let draft_status = Some(LeadStatus::Converted);
        let lead = lead();
        let draft = LeadDraft {
            first_name: None,
            last_name: lead.last_name,
            company: None,
            title: None,
            email: None,
            phone: None,
            website: None,
            source: None,
            source_detail: None,
            status: draft_status,
            rating: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        assert!(Lead::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now()).is_err());
    }

    #[test]
    fn sorting_by_a_nullable_field_treats_null_as_empty() {
        let lead = lead();
        assert_eq!(lead.position(LeadSortField::Company).value, SortValue::Text(String::new()));
        let sort = Sort::<LeadSortField>::parse("-created_at").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(sort.direction, SortDirection::Descending);
        assert_eq!(sort.to_wire(), "-created_at");
        assert!(Sort::<LeadSortField>::parse("password").is_err());
    }
}
