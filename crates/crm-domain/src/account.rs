//! Accounts: the businesses the organisation sells to.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::address::{Address, Tags};
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::money::Money;
use crate::record::{Changes, Record};
use crate::string_enum;
use crate::value::{CustomFields, Email, LongText, Name, Phone, Url};

string_enum!(
    /// How much attention the customer gets: `a` the most.
    AccountTier {
        A => "a",
        B => "b",
        C => "c",
    }
);

string_enum!(
    /// Where a customer relationship stands; shared by accounts and contacts.
    LifecycleStage {
        Prospect => "prospect",
        Customer => "customer",
        FormerCustomer => "former_customer",
        Partner => "partner",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    pub industry: Option<Name>,
    pub website: Option<Url>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<Money>,
    pub tier: Option<AccountTier>,
    pub lifecycle_stage: LifecycleStage,
    pub tags: Tags,
    pub parent_account_id: Option<Uuid>,
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

crate::record::impl_record!(Account);

/// The most employees an account may declare.
pub const MAX_EMPLOYEES: i64 = 100_000_000;

/// # Errors
/// `out_of_range` unless 0 ≤ count ≤ 100,000,000.
pub fn employee_count(field: &str, count: i64) -> Result<i64, FieldError> {
    if (0..=MAX_EMPLOYEES).contains(&count) {
        Ok(count)
    } else {
        Err(FieldError::new(field, "out_of_range", "must be between 0 and 100000000"))
    }
}

/// A new account's fields, already parsed. `owner_id` `None` means the creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDraft {
    pub name: Name,
    pub industry: Option<Name>,
    pub website: Option<Url>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub employee_count: Option<i64>,
    pub annual_revenue: Option<Money>,
    pub tier: Option<AccountTier>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub tags: Tags,
    pub parent_account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub description: Option<LongText>,
    pub custom_fields: Option<CustomFields>,
}

/// A partial update: the outer `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPatch {
    pub name: Option<Name>,
    pub industry: Option<Option<Name>>,
    pub website: Option<Option<Url>>,
    pub phone: Option<Option<Phone>>,
    pub email: Option<Option<Email>>,
    pub billing_address: Option<Option<Address>>,
    pub shipping_address: Option<Option<Address>>,
    pub employee_count: Option<Option<i64>>,
    pub annual_revenue: Option<Option<Money>>,
    pub tier: Option<Option<AccountTier>>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub tags: Option<Tags>,
    pub parent_account_id: Option<Option<Uuid>>,
    pub owner_id: Option<Uuid>,
    pub description: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
}

/// Why an account cannot be changed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRuleError {
    #[error("the account is archived; restore it first")]
    Archived,
    #[error("an account cannot be its own parent, directly or through its parents")]
    ParentCycle,
}

impl AccountRuleError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Archived => "archived",
            Self::ParentCycle => "parent_cycle",
        }
    }
}

pub fn address_audit(address: Option<&Address>) -> AuditValue {
    let Some(address) = address else { return AuditValue::Null };
    let text = |v: &Option<Name>| AuditValue::optional(v.as_ref());
    AuditValue::Object(vec![
        ("street".to_owned(), text(&address.street)),
        ("city".to_owned(), text(&address.city)),
        ("region".to_owned(), text(&address.region)),
        ("postal_code".to_owned(), text(&address.postal_code)),
        ("country".to_owned(), address.country.map_or(AuditValue::Null, |c| AuditValue::Text(c.code()))),
    ])
}

pub fn money_audit(money: Option<&Money>) -> AuditValue {
    money.map_or(AuditValue::Null, |m| {
        AuditValue::Object(vec![
            ("amount".to_owned(), AuditValue::Integer(m.amount)),
            ("currency".to_owned(), AuditValue::text(m.currency)),
        ])
    })
}

pub fn tags_audit(tags: &Tags) -> AuditValue {
    AuditValue::List(tags.as_slice().iter().map(|t| AuditValue::Text(t.clone())).collect())
}

impl Account {
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        actor_id: Uuid,
        draft: AccountDraft,
        now: DateTime<Utc>,
    ) -> Result<Account, AccountRuleError> {
        if draft.parent_account_id == Some(id) {
            return Err(AccountRuleError::ParentCycle);
        }
        Ok(Account {
            id,
            organization_id,
            name: draft.name,
            industry: draft.industry,
            website: draft.website,
            phone: draft.phone,
            email: draft.email,
            billing_address: draft.billing_address,
            shipping_address: draft.shipping_address,
            employee_count: draft.employee_count,
            annual_revenue: draft.annual_revenue,
            tier: draft.tier,
            lifecycle_stage: draft.lifecycle_stage.unwrap_or(LifecycleStage::Prospect),
            tags: draft.tags,
            parent_account_id: draft.parent_account_id,
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
        })
    }

    /// The account after `patch`. `ancestors_of_new_parent` lists the parent chain of the new
    /// parent (when the patch sets one), so that a cycle can be refused.
    ///
    /// # Errors
    /// [`AccountRuleError`] when the account is archived or the parent would make a cycle.
    pub fn apply(
        &self,
        patch: &AccountPatch,
        ancestors_of_new_parent: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(Account, Vec<FieldChange>), AccountRuleError> {
        if self.archived_at.is_some() {
            return Err(AccountRuleError::Archived);
        }
        if let Some(Some(parent)) = patch.parent_account_id
            && (parent == self.id || ancestors_of_new_parent.contains(&self.id))
        {
            return Err(AccountRuleError::ParentCycle);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        let text = |v: &Option<Name>| AuditValue::optional(v.as_ref());
        c.set("name", &mut next.name, &patch.name, |v: &Name| AuditValue::text(v));
        c.set("industry", &mut next.industry, &patch.industry, text);
        c.set("website", &mut next.website, &patch.website, |v| AuditValue::optional(v.as_ref()));
        c.set("phone", &mut next.phone, &patch.phone, |v| AuditValue::optional(v.as_ref()));
        c.set("email", &mut next.email, &patch.email, |v| AuditValue::optional(v.as_ref().map(Email::as_str).as_ref()));
        c.set("billing_address", &mut next.billing_address, &patch.billing_address, |v| address_audit(v.as_ref()));
        c.set("shipping_address", &mut next.shipping_address, &patch.shipping_address, |v| address_audit(v.as_ref()));
        c.set("employee_count", &mut next.employee_count, &patch.employee_count, |v| {
            v.map_or(AuditValue::Null, AuditValue::Integer)
        });
        c.set("annual_revenue", &mut next.annual_revenue, &patch.annual_revenue, |v| money_audit(v.as_ref()));
        c.set("tier", &mut next.tier, &patch.tier, |v| AuditValue::optional(v.as_ref()));
        c.set("lifecycle_stage", &mut next.lifecycle_stage, &patch.lifecycle_stage, |v: &LifecycleStage| {
            AuditValue::text(v)
        });
        c.set("tags", &mut next.tags, &patch.tags, tags_audit);
        c.set("parent_account_id", &mut next.parent_account_id, &patch.parent_account_id, |v| {
            AuditValue::optional(v.as_ref())
        });
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
        let blank = Account { tags: Tags::default(), ..self.clone() };
        let mut changes = Vec::new();
        let mut put = |field: &str, value: AuditValue| {
            if value != AuditValue::Null {
                changes.push(FieldChange::new(field, AuditValue::Null, value));
            }
        };
        put("name", AuditValue::text(&blank.name));
        put("industry", AuditValue::optional(self.industry.as_ref()));
        put("website", AuditValue::optional(self.website.as_ref()));
        put("phone", AuditValue::optional(self.phone.as_ref()));
        put("email", AuditValue::optional(self.email.as_ref().map(Email::as_str).as_ref()));
        put("billing_address", address_audit(self.billing_address.as_ref()));
        put("shipping_address", address_audit(self.shipping_address.as_ref()));
        put("employee_count", self.employee_count.map_or(AuditValue::Null, AuditValue::Integer));
        put("annual_revenue", money_audit(self.annual_revenue.as_ref()));
        put("tier", AuditValue::optional(self.tier.as_ref()));
        put("lifecycle_stage", AuditValue::text(self.lifecycle_stage));
        put("tags", tags_audit(&self.tags));
        put("parent_account_id", AuditValue::optional(self.parent_account_id.as_ref()));
        put("owner_id", AuditValue::text(self.owner_id));
        put("description", AuditValue::optional(self.description.as_ref()));
        put("custom_fields", AuditValue::Json(self.custom_fields.as_json_text().to_owned()));
        changes
    }

    pub fn position(&self, field: AccountSortField) -> KeysetPosition {
        let value = match field {
            AccountSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            AccountSortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            AccountSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
            AccountSortField::LastInteractionAt => SortValue::Timestamp(self.interactions.last_sort_key()),
            AccountSortField::AttentionDueAt => {
                SortValue::Timestamp(self.attention_due_at.unwrap_or(crate::attention::NEVER_DUE))
            }
        };
        KeysetPosition { value, id: self.id }
    }
}

string_enum!(
    AccountSortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        Name => "name",
        LastInteractionAt => "last_interaction_at",
        AttentionDueAt => "attention_due_at",
    }
);

impl SortField for AccountSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        AccountSortField::parse("sort", name)
    }
}

/// An account list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountQuery {
    pub tiers: Vec<AccountTier>,
    pub lifecycle_stages: Vec<LifecycleStage>,
    pub owner_ids: Vec<Uuid>,
    pub parent_account_id: Option<Uuid>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Case-insensitive text searched in name, email and website.
    pub search: Option<String>,
    pub archived: crate::lead::ArchivedFilter,
    pub interactions: crate::activity::InteractionFilter,
    /// `attention=overdue`: only the customers due for attention before this instant (now).
    pub attention_overdue_at: Option<DateTime<Utc>>,
    pub sort: Sort<AccountSortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: Uuid) -> Account {
        let draft = AccountDraft {
            name: Name::from_trusted("Acme".into()),
            industry: None,
            website: None,
            phone: None,
            email: None,
            billing_address: None,
            shipping_address: None,
            employee_count: Some(10),
            annual_revenue: None,
            tier: Some(AccountTier::B),
            lifecycle_stage: None,
            tags: Tags::default(),
            parent_account_id: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        Account::create(id, Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now()).unwrap()
    }

    #[test]
    fn a_new_account_is_a_prospect_owned_by_its_creator() {
        let a = account(Uuid::now_v7());
        assert_eq!(a.lifecycle_stage, LifecycleStage::Prospect);
        assert_eq!(a.owner_id, a.created_by);
        assert_eq!(a.version, 1);
    }

    #[test]
    fn a_parent_that_descends_from_the_account_is_refused() {
        let a = account(Uuid::now_v7());
        let child = Uuid::now_v7();
        let patch = AccountPatch { parent_account_id: Some(Some(child)), ..AccountPatch::default() };
        assert_eq!(a.apply(&patch, &[a.id], Utc::now()).err(), Some(AccountRuleError::ParentCycle));
        let own = AccountPatch { parent_account_id: Some(Some(a.id)), ..AccountPatch::default() };
        assert_eq!(a.apply(&own, &[], Utc::now()).err(), Some(AccountRuleError::ParentCycle));
        let (next, changes) = a.apply(&patch, &[Uuid::now_v7()], Utc::now()).unwrap();
        assert_eq!(next.parent_account_id, Some(child));
        assert_eq!(changes[0].field, "parent_account_id");
    }

    #[test]
    fn archived_accounts_refuse_edits_and_archive_is_shared() {
        let a = account(Uuid::now_v7());
        let (archived, _) = crate::record::archive(&a, Utc::now()).unwrap();
        assert_eq!(archived.version, 2);
        assert_eq!(archived.apply(&AccountPatch::default(), &[], Utc::now()).err(), Some(AccountRuleError::Archived));
        assert_eq!(crate::record::archive(&archived, Utc::now()).err(), Some(crate::record::ArchiveError::Archived));
    }
}
