//! Contacts: the people the organisation deals with. A person who buys for themselves is a
//! contact without an account.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::{LifecycleStage, tags_audit};
use crate::address::Tags;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::{ArchivedFilter, LeadSource};
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::record::{Changes, Record};
use crate::string_enum;
use crate::value::{CustomFields, Email, LongText, Name, Phone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: Option<Name>,
    pub last_name: Name,
    /// Unique among the organisation's active contacts.
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub mobile: Option<Phone>,
    pub title: Option<Name>,
    pub account_id: Option<Uuid>,
    pub lifecycle_stage: LifecycleStage,
    pub source: Option<LeadSource>,
    pub tags: Tags,
    pub do_not_contact: bool,
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
    /// When the customer is due for attention by its class ([`crate::attention::due_at`]),
    /// kept by the store; the domain never sets it.
    pub attention_due_at: Option<DateTime<Utc>>,
    /// Its open complaints (active, unarchived tickets of category `complaint`), kept by the
    /// store; the domain never sets it.
    pub open_complaints: i64,
}

crate::record::impl_record!(Contact);

/// A new contact's fields, already parsed. `owner_id` `None` means the creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDraft {
    pub first_name: Option<Name>,
    pub last_name: Name,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub mobile: Option<Phone>,
    pub title: Option<Name>,
    pub account_id: Option<Uuid>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<LeadSource>,
    pub tags: Tags,
    pub do_not_contact: Option<bool>,
    pub owner_id: Option<Uuid>,
    pub description: Option<LongText>,
    pub custom_fields: Option<CustomFields>,
}

/// A partial update: the outer `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPatch {
    pub first_name: Option<Option<Name>>,
    pub last_name: Option<Name>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<Phone>>,
    pub mobile: Option<Option<Phone>>,
    pub title: Option<Option<Name>>,
    pub account_id: Option<Option<Uuid>>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<Option<LeadSource>>,
    pub tags: Option<Tags>,
    pub do_not_contact: Option<bool>,
    pub owner_id: Option<Uuid>,
    pub description: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
}

/// Why a contact cannot be changed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactRuleError {
    #[error("the contact is archived; restore it first")]
    Archived,
}

impl Contact {
    pub fn create(id: Uuid, organization_id: Uuid, actor_id: Uuid, draft: ContactDraft, now: DateTime<Utc>) -> Contact {
        Contact {
            id,
            organization_id,
            first_name: draft.first_name,
            last_name: draft.last_name,
            email: draft.email,
            phone: draft.phone,
            mobile: draft.mobile,
            title: draft.title,
            account_id: draft.account_id,
            lifecycle_stage: draft.lifecycle_stage.unwrap_or(LifecycleStage::Prospect),
            source: draft.source,
            tags: draft.tags,
            do_not_contact: draft.do_not_contact.unwrap_or(false),
            owner_id: draft.owner_id.unwrap_or(actor_id),
            description: draft.description,
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
            interactions: crate::activity::Interactions::default(),
            attention_due_at: None,
            open_complaints: 0,
        }
    }

    /// The contact after `patch`, with the changed fields for the audit trail.
    ///
    /// # Errors
    /// [`ContactRuleError::Archived`] when the contact is archived.
    pub fn apply(
        &self,
        patch: &ContactPatch,
        now: DateTime<Utc>,
    ) -> Result<(Contact, Vec<FieldChange>), ContactRuleError> {
        if self.archived_at.is_some() {
            return Err(ContactRuleError::Archived);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        let text = |v: &Option<Name>| AuditValue::optional(v.as_ref());
        let phone = |v: &Option<Phone>| AuditValue::optional(v.as_ref());
        c.set("first_name", &mut next.first_name, &patch.first_name, text);
        c.set("last_name", &mut next.last_name, &patch.last_name, |v: &Name| AuditValue::text(v));
        c.set("email", &mut next.email, &patch.email, |v| AuditValue::optional(v.as_ref().map(Email::as_str).as_ref()));
        c.set("phone", &mut next.phone, &patch.phone, phone);
        c.set("mobile", &mut next.mobile, &patch.mobile, phone);
        c.set("title", &mut next.title, &patch.title, text);
        c.set("account_id", &mut next.account_id, &patch.account_id, |v| AuditValue::optional(v.as_ref()));
        c.set("lifecycle_stage", &mut next.lifecycle_stage, &patch.lifecycle_stage, |v: &LifecycleStage| {
            AuditValue::text(v)
        });
        c.set("source", &mut next.source, &patch.source, |v| AuditValue::optional(v.as_ref()));
        c.set("tags", &mut next.tags, &patch.tags, tags_audit);
        c.set("do_not_contact", &mut next.do_not_contact, &patch.do_not_contact, |v: &bool| AuditValue::Bool(*v));
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
        put("email", AuditValue::optional(self.email.as_ref().map(Email::as_str).as_ref()));
        put("phone", AuditValue::optional(self.phone.as_ref()));
        put("mobile", AuditValue::optional(self.mobile.as_ref()));
        put("title", AuditValue::optional(self.title.as_ref()));
        put("account_id", AuditValue::optional(self.account_id.as_ref()));
        put("lifecycle_stage", AuditValue::text(self.lifecycle_stage));
        put("source", AuditValue::optional(self.source.as_ref()));
        put("tags", tags_audit(&self.tags));
        put("do_not_contact", AuditValue::Bool(self.do_not_contact));
        put("owner_id", AuditValue::text(self.owner_id));
        put("description", AuditValue::optional(self.description.as_ref()));
        put("custom_fields", AuditValue::Json(self.custom_fields.as_json_text().to_owned()));
        changes
    }

    pub fn position(&self, field: ContactSortField) -> KeysetPosition {
        let text = |v: Option<&str>| SortValue::Text(v.unwrap_or("").to_owned());
        let value = match field {
            ContactSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            ContactSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            ContactSortField::LastName => SortValue::Text(self.last_name.as_str().to_owned()),
            ContactSortField::FirstName => text(self.first_name.as_ref().map(Name::as_str)),
            ContactSortField::Email => text(self.email.as_ref().map(Email::as_str)),
            ContactSortField::LastInteractionAt => SortValue::Timestamp(self.interactions.last_sort_key()),
            ContactSortField::AttentionDueAt => {
                SortValue::Timestamp(self.attention_due_at.unwrap_or(crate::attention::NEVER_DUE))
            }
        };
        KeysetPosition { value, id: self.id }
    }
}

string_enum!(
    ContactSortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        LastName => "last_name",
        FirstName => "first_name",
        Email => "email",
        LastInteractionAt => "last_interaction_at",
        AttentionDueAt => "attention_due_at",
    }
);

impl SortField for ContactSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        ContactSortField::parse("sort", name)
    }
}

/// Which contacts of an account, or of none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFilter {
    Any,
    /// Contacts of this account.
    Of(Uuid),
    /// People buying for themselves (`account_id=none`).
    NoAccount,
}

/// A contact list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactQuery {
    pub account: AccountFilter,
    pub lifecycle_stages: Vec<LifecycleStage>,
    pub owner_ids: Vec<Uuid>,
    pub do_not_contact: Option<bool>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Exact emails (stored emails are lowercase, and so are these); empty for any.
    pub emails: Vec<Email>,
    /// Case-insensitive text searched in names and email.
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub interactions: crate::activity::InteractionFilter,
    /// `attention=overdue`: only the customers due for attention before this instant (now).
    pub attention_overdue_at: Option<DateTime<Utc>>,
    pub sort: Sort<ContactSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        let draft = ContactDraft {
            first_name: None,
            last_name: Name::from_trusted("Hopper".into()),
            email: Some(Email::from_trusted("grace@navy.example".into())),
            phone: None,
            mobile: None,
            title: None,
            account_id: None,
            lifecycle_stage: None,
            source: None,
            tags: Tags::default(),
            do_not_contact: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        Contact::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now())
    }

    #[test]
    fn a_new_contact_may_be_contacted_and_is_a_prospect() {
        let c = contact();
        assert!(!c.do_not_contact);
        assert_eq!(c.lifecycle_stage, LifecycleStage::Prospect);
        assert_eq!(c.account_id, None, "a person buying for themselves has no account");
    }

    #[test]
    fn a_patch_records_what_changed() {
        let c = contact();
        let patch = ContactPatch { do_not_contact: Some(true), email: Some(None), ..ContactPatch::default() };
        let (next, changes) = c.apply(&patch, Utc::now()).unwrap();
        assert!(next.do_not_contact);
        assert_eq!(next.email, None);
        assert_eq!(changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["email", "do_not_contact"]);
        assert_eq!(next.version, 2);
    }
}
