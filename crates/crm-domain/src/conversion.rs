//! Lead conversion: a qualified lead becomes an account (for a company), a contact and, unless
//! asked otherwise, an opportunity, all in one transaction. Merging into an existing account or
//! contact only fills the target's empty fields.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::account::{Account, AccountDraft};
use crate::activity::Links;
use crate::address::Tags;
use crate::audit::{AuditValue, FieldChange};
use crate::contact::{Contact, ContactDraft};
use crate::lead::{Lead, LeadRuleError, LeadStatus};
use crate::money::Money;
use crate::opportunity::{Opportunity, OpportunityDraft, OpportunityRuleError, OpportunityStage, StageChange};
use crate::record::{Changes, Record, rfc3339};
use crate::value::Name;

/// What the caller asks the conversion to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionRequest {
    /// Merge into this account instead of creating one.
    pub account: Option<Account>,
    /// Merge into this contact instead of creating one.
    pub contact: Option<Contact>,
    /// `None`: no opportunity (`"opportunity": null`).
    pub opportunity: Option<OpportunityRequest>,
}

/// The opportunity to create; absent fields take defaults from the lead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityRequest {
    pub name: Option<Name>,
    pub amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    pub stage: Option<OpportunityStage>,
}

/// A record the conversion creates, or merges into (with its version before and the changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Created(T),
    Merged { record: T, expected_version: i64, changes: Vec<FieldChange> },
}

impl<T> Outcome<T> {
    pub fn record(&self) -> &T {
        match self {
            Outcome::Created(record) | Outcome::Merged { record, .. } => record,
        }
    }
}

/// Everything a conversion writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionPlan {
    pub lead: Lead,
    pub lead_expected_version: i64,
    pub lead_changes: Vec<FieldChange>,
    pub account: Option<Outcome<Account>>,
    pub contact: Outcome<Contact>,
    pub opportunity: Option<(Opportunity, StageChange)>,
}

impl ConversionPlan {
    /// Where the lead's history goes: its activities that name no contact and no deal, and no
    /// account or this conversion's account, gain the contact, the account and the deal the
    /// conversion produced (keeping `lead_id`, so the lead's history still shows them). The
    /// others already belong to another customer's story and keep their links.
    pub fn moved_activity_links(&self) -> Links {
        Links {
            lead_id: Some(self.lead.id),
            contact_id: Some(self.contact.record().id),
            account_id: self.account.as_ref().map(|a| a.record().id),
            opportunity_id: self.opportunity.as_ref().map(|(o, _)| o.id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error(transparent)]
    Lead(#[from] LeadRuleError),
    #[error(transparent)]
    Opportunity(#[from] OpportunityRuleError),
    #[error("the account to merge into is archived; restore it first")]
    AccountArchived,
    #[error("the contact to merge into is archived; restore it first")]
    ContactArchived,
}

/// Fills `slot` from `value` when `slot` is empty, recording the change.
fn fill<T: Clone + PartialEq>(
    changes: &mut Changes,
    field: &str,
    slot: &mut Option<T>,
    value: &Option<T>,
    audit: impl Fn(&Option<T>) -> AuditValue,
) {
    if slot.is_none() && value.is_some() {
        changes.set(field, slot, &Some(value.clone()), audit);
    }
}

/// The ids of the records a conversion may create, chosen by the caller (the domain does no IO,
/// and drawing ids is IO). An id whose record is merged into instead is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewIds {
    pub account: Uuid,
    pub contact: Uuid,
    pub opportunity: Uuid,
}

/// Plans the conversion of `lead` by `actor_id` at `now`, creating records under `ids`.
///
/// # Errors
/// [`ConversionError`] when the lead is converted or archived, a merge target is archived, or
/// the opportunity cannot be created.
pub fn plan(
    lead: &Lead,
    request: ConversionRequest,
    actor_id: Uuid,
    ids: NewIds,
    now: DateTime<Utc>,
) -> Result<ConversionPlan, ConversionError> {
    if lead.status == LeadStatus::Converted {
        return Err(LeadRuleError::Converted.into());
    }
    if lead.archived_at.is_some() {
        return Err(LeadRuleError::Archived.into());
    }
    let organization_id = lead.organization_id;
    let text = |v: &Option<Name>| AuditValue::optional(v.as_ref());

    let account = match (request.account, &lead.company) {
        (Some(existing), _) => {
            if existing.archived_at.is_some() {
                return Err(ConversionError::AccountArchived);
            }
            let mut next = existing.clone();
            let mut changes = Changes::new();
            fill(&mut changes, "website", &mut next.website, &lead.website, |v| AuditValue::optional(v.as_ref()));
            fill(&mut changes, "phone", &mut next.phone, &lead.phone, |v| AuditValue::optional(v.as_ref()));
            if !changes.0.is_empty() {
                next.touch(now);
            }
            Some(Outcome::Merged { record: next, expected_version: existing.version, changes: changes.0 })
        }
        (None, Some(company)) => {
            let draft = AccountDraft {
                name: company.clone(),
                industry: None,
                website: lead.website.clone(),
                phone: lead.phone.clone(),
                email: None,
                billing_address: None,
                shipping_address: None,
                employee_count: None,
                annual_revenue: None,
                tier: None,
                lifecycle_stage: None,
                tags: Tags::default(),
                parent_account_id: None,
                owner_id: Some(lead.owner_id),
                description: None,
                custom_fields: None,
            };
            let created = Account::create(ids.account, organization_id, actor_id, draft, now)
                .map_err(|_| ConversionError::AccountArchived)?;
            Some(Outcome::Created(created))
        }
        (None, None) => None,
    };
    let account_id = account.as_ref().map(|a| a.record().id);

    let contact = match request.contact {
        Some(existing) => {
            if existing.archived_at.is_some() {
                return Err(ConversionError::ContactArchived);
            }
            let mut next = existing.clone();
            let mut changes = Changes::new();
            fill(&mut changes, "first_name", &mut next.first_name, &lead.first_name, text);
            fill(&mut changes, "email", &mut next.email, &lead.email, |v| {
                AuditValue::optional(v.as_ref().map(|e| e.as_str()).as_ref())
            });
            fill(&mut changes, "phone", &mut next.phone, &lead.phone, |v| AuditValue::optional(v.as_ref()));
            fill(&mut changes, "title", &mut next.title, &lead.title, text);
            fill(&mut changes, "account_id", &mut next.account_id, &account_id, |v| AuditValue::optional(v.as_ref()));
            fill(&mut changes, "source", &mut next.source, &lead.source, |v| AuditValue::optional(v.as_ref()));
            if !changes.0.is_empty() {
                next.touch(now);
            }
            Outcome::Merged { record: next, expected_version: existing.version, changes: changes.0 }
        }
        None => {
            let draft = ContactDraft {
                first_name: lead.first_name.clone(),
                last_name: lead.last_name.clone(),
                email: lead.email.clone(),
                phone: lead.phone.clone(),
                mobile: None,
                title: lead.title.clone(),
                account_id,
                lifecycle_stage: None,
                source: lead.source,
                tags: Tags::default(),
                do_not_contact: None,
                owner_id: Some(lead.owner_id),
                description: None,
                custom_fields: None,
            };
            Outcome::Created(Contact::create(ids.contact, organization_id, actor_id, draft, now))
        }
    };
    let contact_id = contact.record().id;

    let opportunity = match request.opportunity {
        None => None,
        Some(wanted) => {
            let default_name = match (&lead.company, &lead.first_name) {
                (Some(company), _) => company.as_str().to_owned(),
                (None, Some(first)) => format!("{} {}", first.as_str(), lead.last_name.as_str()),
                (None, None) => lead.last_name.as_str().to_owned(),
            };
            let draft = OpportunityDraft {
                name: wanted
                    .name
                    .unwrap_or_else(|| Name::from_trusted(default_name.chars().take(Name::MAX_CHARS).collect())),
                account_id,
                contact_id: Some(contact_id),
                amount: wanted.amount,
                stage: wanted.stage,
                probability: None,
                expected_close_date: wanted.expected_close_date,
                kind: None,
                lead_source: lead.source,
                next_step: None,
                owner_id: Some(lead.owner_id),
                description: None,
                custom_fields: None,
            };
            Some(Opportunity::create(ids.opportunity, organization_id, actor_id, draft, now)?)
        }
    };

    let mut next = lead.clone();
    let mut changes = Changes::new();
    changes.set("status", &mut next.status, &Some(LeadStatus::Converted), |v: &LeadStatus| AuditValue::text(v));
    changes.set("converted_at", &mut next.converted_at, &Some(Some(now)), |v| {
        v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
    });
    changes.set("converted_account_id", &mut next.converted_account_id, &Some(account_id), |v| {
        AuditValue::optional(v.as_ref())
    });
    changes.set("converted_contact_id", &mut next.converted_contact_id, &Some(Some(contact_id)), |v| {
        AuditValue::optional(v.as_ref())
    });
    let opportunity_id = opportunity.as_ref().map(|(o, _)| o.id);
    changes.set("converted_opportunity_id", &mut next.converted_opportunity_id, &Some(opportunity_id), |v| {
        AuditValue::optional(v.as_ref())
    });
    next.version += 1;
    next.updated_at = now;

    Ok(ConversionPlan {
        lead: next,
        lead_expected_version: lead.version,
        lead_changes: changes.0,
        account,
        contact,
        opportunity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{LeadDraft, LeadSource};
    use crate::value::{Email, Url};

    fn new_ids() -> NewIds {
        NewIds { account: Uuid::now_v7(), contact: Uuid::now_v7(), opportunity: Uuid::now_v7() }
    }

    fn lead(company: Option<&str>) -> Lead {
        let draft = LeadDraft {
            first_name: Some(Name::from_trusted("Grace".into())),
            last_name: Name::from_trusted("Hopper".into()),
            company: company.map(|c| Name::from_trusted(c.into())),
            title: Some(Name::from_trusted("Admiral".into())),
            email: Some(Email::from_trusted("grace@navy.example".into())),
            phone: None,
            website: Some(Url::from_trusted("https://navy.example".into())),
            source: Some(LeadSource::TradeShow),
            source_detail: None,
            status: Some(LeadStatus::Qualified),
            rating: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        Lead::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now())
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_company_lead_becomes_an_account_a_contact_under_it_and_a_deal() {
        let lead = lead(Some("Navy"));
        let request =
            ConversionRequest { account: None, contact: None, opportunity: Some(OpportunityRequest::default()) };
        let plan = plan(&lead, request, lead.owner_id, new_ids(), Utc::now()).unwrap();
        let account = plan.account.as_ref().map(|a| a.record().clone()).unwrap_or_else(|| panic!("no account"));
        assert_eq!(account.name.as_str(), "Navy");
        assert_eq!(account.website.as_ref().map(Url::as_str), Some("https://navy.example"));
        let contact = plan.contact.record();
        assert_eq!(contact.account_id, Some(account.id));
        assert_eq!(contact.source, Some(LeadSource::TradeShow));
        let (deal, first) = plan.opportunity.clone().unwrap_or_else(|| panic!("no deal"));
        assert_eq!(
            (deal.name.as_str(), deal.account_id, deal.contact_id),
            ("Navy", Some(account.id), Some(contact.id))
        );
        assert_eq!(deal.lead_source, Some(LeadSource::TradeShow));
        assert_eq!(first.to_stage, OpportunityStage::Prospecting);
        assert_eq!(plan.lead.status, LeadStatus::Converted);
        assert_eq!(plan.lead.converted_opportunity_id, Some(deal.id));
    }

    #[test]
    fn a_person_lead_becomes_a_contact_alone_and_merges_fill_only_empty_fields() {
        let lead = lead(None);
        let target = Contact::create(
            Uuid::now_v7(),
            lead.organization_id,
            lead.owner_id,
            ContactDraft {
                first_name: None,
                last_name: Name::from_trusted("Hopper-Existing".into()),
                email: None,
                phone: None,
                mobile: None,
                title: Some(Name::from_trusted("Commodore".into())),
                account_id: None,
                lifecycle_stage: None,
                source: None,
                tags: Tags::default(),
                do_not_contact: None,
                owner_id: None,
                description: None,
                custom_fields: None,
            },
            Utc::now(),
        );
        let request = ConversionRequest { account: None, contact: Some(target.clone()), opportunity: None };
        let plan = plan(&lead, request, lead.owner_id, new_ids(), Utc::now()).unwrap();
        assert!(plan.account.is_none());
        assert!(plan.opportunity.is_none());
        let Outcome::Merged { record, expected_version, changes } = &plan.contact else { panic!("not merged") };
        assert_eq!(*expected_version, 1);
        assert_eq!(record.last_name.as_str(), "Hopper-Existing", "a merge keeps what the target has");
        assert_eq!(record.title.as_ref().map(Name::as_str), Some("Commodore"));
        assert_eq!(record.first_name.as_ref().map(Name::as_str), Some("Grace"), "and fills what it lacks");
        assert_eq!(changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["first_name", "email", "source"]);
    }

    #[test]
    fn converted_and_archived_leads_are_refused() {
        let mut converted = lead(None);
        converted.status = LeadStatus::Converted;
        let request = ConversionRequest { account: None, contact: None, opportunity: None };
        assert_eq!(
            plan(&converted, request.clone(), Uuid::now_v7(), new_ids(), Utc::now()).err(),
            Some(ConversionError::Lead(LeadRuleError::Converted))
        );
        let mut archived = lead(None);
        archived.archived_at = Some(Utc::now());
        assert_eq!(
            plan(&archived, request, Uuid::now_v7(), new_ids(), Utc::now()).err(),
            Some(ConversionError::Lead(LeadRuleError::Archived))
        );
    }
}
