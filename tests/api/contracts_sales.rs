//! Contract tests of the sales repositories (accounts, contacts, opportunities, reports), called
//! directly on both backends.

use chrono::NaiveDate;
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountDraft, AccountQuery, AccountSortField};
use crm_domain::address::Tags;
use crm_domain::audit::AuditAction;
use crm_domain::contact::{AccountFilter, Contact, ContactDraft, ContactQuery, ContactSortField};
use crm_domain::lead::ArchivedFilter;
use crm_domain::list::{Sort, SortDirection, Window};
use crm_domain::money::{Currency, Money};
use crm_domain::opportunity::{
    Opportunity, OpportunityDraft, OpportunityPatch, OpportunityQuery, OpportunitySortField, OpportunityStage, Outcome,
};
use crm_domain::reports::PipelineQuery;
use crm_domain::value::{Email, Name};
use uuid::Uuid;

use crate::contracts::{ctx, first_page, now, open, seed};
use crate::helpers::Backend;
use crate::on_both_backends;

on_both_backends!(
    accounts_and_their_lineage,
    contacts_and_their_unique_emails,
    opportunities_and_their_stage_history,
    the_pipeline_as_of_a_day_follows_the_stage_history,
);

fn account_draft(name: &str, parent: Option<Uuid>) -> AccountDraft {
    AccountDraft {
        name: Name::from_trusted(name.to_owned()),
        industry: None,
        website: None,
        phone: None,
        email: None,
        billing_address: None,
        shipping_address: None,
        employee_count: None,
        annual_revenue: None,
        tier: None,
        lifecycle_stage: None,
        tags: Tags::from_trusted(vec!["a".to_owned()]),
        parent_account_id: parent,
        owner_id: None,
        description: None,
        custom_fields: None,
    }
}

fn contact_draft(name: &str, email: Option<&str>) -> ContactDraft {
    ContactDraft {
        first_name: None,
        last_name: Name::from_trusted(name.to_owned()),
        email: email.map(|e| Email::from_trusted(e.to_owned())),
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
    }
}

fn opportunity_draft(
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    amount: Option<Money>,
    close: Option<NaiveDate>,
) -> OpportunityDraft {
    OpportunityDraft {
        name: Name::from_trusted("Deal".to_owned()),
        account_id,
        contact_id,
        amount,
        stage: None,
        probability: None,
        expected_close_date: close,
        kind: None,
        lead_source: None,
        next_step: None,
        owner_id: None,
        description: None,
        custom_fields: None,
    }
}

async fn accounts_and_their_lineage(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, _) = seed(&store, "other@example.com").await;
    let create = |name: &str, parent: Option<Uuid>| {
        Account::create(Uuid::now_v7(), organization.id, admin.id, account_draft(name, parent), now()).unwrap()
    };
    let group = create("Group", None);
    store.insert_account(&group, &ctx(&admin)).await.unwrap();
    let child = create("Child", Some(group.id));
    store.insert_account(&child, &ctx(&admin)).await.unwrap();
    assert_eq!(store.get::<Account>(organization.id, child.id).await.ok(), Some(child.clone()));
    assert!(matches!(store.get::<Account>(other_org.id, child.id).await, Err(RepoError::NotFound)));
    assert_eq!(store.account_lineage(organization.id, child.id).await.ok(), Some(vec![child.id, group.id]));
    assert!(matches!(store.account_lineage(other_org.id, child.id).await, Err(RepoError::NotFound)));
    let mut orphan = create("Orphan", None);
    orphan.owner_id = Uuid::now_v7();
    assert!(matches!(
        store.insert_account(&orphan, &ctx(&admin)).await,
        Err(RepoError::MissingReference { field: "owner_id" })
    ));

    let (archived, changes) = crm_domain::record::archive(&group, now()).unwrap();
    store.save(&archived, 1, AuditAction::Archive, &changes, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.save(&archived, 1, AuditAction::Archive, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let query = AccountQuery {
        tiers: vec![],
        lifecycle_stages: vec![],
        owner_ids: vec![],
        parent_account_id: None,
        created_after: None,
        created_before: None,
        search: None,
        archived: ArchivedFilter::Exclude,
        interactions: Default::default(),
        attention_overdue_at: None,
        sort: Sort { field: AccountSortField::Name, direction: SortDirection::Ascending },
        window: Window { limit: 10, after: None },
    };
    assert_eq!(store.list_accounts(organization.id, &query).await.map(|p| p.items).ok(), Some(vec![child.clone()]));
    let all = AccountQuery { archived: ArchivedFilter::Include, ..query.clone() };
    assert_eq!(store.list_accounts(organization.id, &all).await.map(|p| p.items.len()).ok(), Some(2));
    assert_eq!(store.list_accounts(other_org.id, &all).await.map(|p| p.items.len()).ok(), Some(0));
    let by_name = store.find_accounts_by_name(organization.id, "CHILD").await.unwrap();
    assert_eq!(by_name.iter().map(|a| a.id).collect::<Vec<_>>(), vec![child.id]);
    assert!(
        store.find_accounts_by_name(organization.id, "Group").await.map(|a| a.is_empty()).unwrap_or(false),
        "archived accounts are left out"
    );
}

async fn contacts_and_their_unique_emails(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, _) = seed(&store, "other@example.com").await;
    let contact = |name: &str, email: Option<&str>| {
        Contact::create(Uuid::now_v7(), organization.id, admin.id, contact_draft(name, email), now())
    };
    let first = contact("First", Some("same@example.com"));
    store.insert_contact(&first, &ctx(&admin)).await.unwrap();
    let second = contact("Second", Some("same@example.com"));
    assert!(matches!(store.insert_contact(&second, &ctx(&admin)).await, Err(RepoError::Duplicate { field: "email" })));
    let email = Email::from_trusted("same@example.com".to_owned());
    assert_eq!(
        store.find_active_contact_by_email(organization.id, &email).await.ok().flatten().map(|c| c.id),
        Some(first.id)
    );
    assert!(store.find_active_contact_by_email(other_org.id, &email).await.ok().flatten().is_none());
    // The store keeps when the person is due for attention: never reached, since its creation.
    let stored = Contact { attention_due_at: Some(first.created_at), ..first.clone() };
    assert_eq!(store.get::<Contact>(organization.id, first.id).await.ok(), Some(stored));
    assert!(matches!(store.get::<Contact>(other_org.id, first.id).await, Err(RepoError::NotFound)));

    let (archived, changes) = crm_domain::record::archive(&first, now()).unwrap();
    store.save(&archived, 1, AuditAction::Archive, &changes, &ctx(&admin)).await.unwrap();
    store.insert_contact(&second, &ctx(&admin)).await.unwrap();
    let (restored, changes) = crm_domain::record::restore(&archived, now()).unwrap();
    assert!(matches!(
        store.save(&restored, 2, AuditAction::Restore, &changes, &ctx(&admin)).await,
        Err(RepoError::Duplicate { field: "email" })
    ));
    assert!(matches!(
        store.save(&restored, 1, AuditAction::Restore, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let query = ContactQuery {
        account: AccountFilter::NoAccount,
        lifecycle_stages: vec![],
        owner_ids: vec![],
        do_not_contact: None,
        created_after: None,
        created_before: None,
        emails: vec![],
        search: Some("SEC".to_owned()),
        archived: ArchivedFilter::Exclude,
        interactions: Default::default(),
        attention_overdue_at: None,
        sort: Sort { field: ContactSortField::LastName, direction: SortDirection::Ascending },
        window: Window { limit: 10, after: None },
    };
    let second_stored = Contact { attention_due_at: Some(second.created_at), ..second.clone() };
    assert_eq!(store.list_contacts(organization.id, &query).await.map(|p| p.items).ok(), Some(vec![second_stored]));
    assert_eq!(store.list_contacts(other_org.id, &query).await.map(|p| p.items.len()).ok(), Some(0));
}

async fn opportunities_and_their_stage_history(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, _) = seed(&store, "other@example.com").await;
    let account =
        Account::create(Uuid::now_v7(), organization.id, admin.id, account_draft("Buyer", None), now()).unwrap();
    store.insert_account(&account, &ctx(&admin)).await.unwrap();
    let draft = opportunity_draft(Some(account.id), None, None, NaiveDate::from_ymd_opt(2027, 3, 31));
    let (deal, first) = Opportunity::create(Uuid::now_v7(), organization.id, admin.id, draft, now()).unwrap();
    store.insert_opportunity(&deal, &first, &ctx(&admin)).await.unwrap();
    assert_eq!(store.get::<Opportunity>(organization.id, deal.id).await.ok(), Some(deal.clone()));
    assert!(matches!(store.get::<Opportunity>(other_org.id, deal.id).await, Err(RepoError::NotFound)));
    let patch = OpportunityPatch { stage: Some(OpportunityStage::Proposal), ..OpportunityPatch::default() };
    let (moved, changes, change) = deal.apply(&patch, admin.id, now()).unwrap();
    store.update_opportunity(&moved, 1, AuditAction::Update, &changes, change.as_ref(), &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.update_opportunity(&moved, 1, AuditAction::Update, &changes, change.as_ref(), &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let history = store.stage_history(organization.id, deal.id, &first_page()).await.unwrap().items;
    assert_eq!(
        history.iter().map(|h| h.change.clone()).collect::<Vec<_>>(),
        vec![first, change.unwrap_or_else(|| panic!("no change"))]
    );
    assert_eq!(store.stage_history(other_org.id, deal.id, &first_page()).await.map(|h| h.items.len()).ok(), Some(0));
    let query = OpportunityQuery {
        stages: vec![OpportunityStage::Proposal],
        account_id: Some(account.id),
        contact_id: None,
        owner_ids: vec![],
        competitor_ids: vec![],
        expected_close_after: NaiveDate::from_ymd_opt(2027, 3, 31),
        expected_close_before: None,
        search: None,
        archived: ArchivedFilter::Exclude,
        interactions: Default::default(),
        sort: Sort { field: OpportunitySortField::ExpectedCloseDate, direction: SortDirection::Ascending },
        window: Window { limit: 10, after: None },
    };
    assert_eq!(store.list_opportunities(organization.id, &query).await.map(|p| p.items).ok(), Some(vec![moved]));
    assert_eq!(store.list_opportunities(other_org.id, &query).await.map(|p| p.items.len()).ok(), Some(0));
}

async fn the_pipeline_as_of_a_day_follows_the_stage_history(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let buyer = Contact::create(Uuid::now_v7(), organization.id, admin.id, contact_draft("Buyer", None), now());
    store.insert_contact(&buyer, &ctx(&admin)).await.unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
    let at = |d: u32| day(d).and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
    let eur = Currency::parse("currency", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
    let draft = opportunity_draft(None, Some(buyer.id), Some(Money { amount: 1000, currency: eur }), None);
    // Created on the 1st, moved to proposal on the 3rd, closed lost on the 5th.
    let (deal, first) = Opportunity::create(Uuid::now_v7(), organization.id, admin.id, draft, at(1)).unwrap();
    store.insert_opportunity(&deal, &first, &ctx(&admin)).await.unwrap();
    let patch = OpportunityPatch { stage: Some(OpportunityStage::Proposal), ..OpportunityPatch::default() };
    let (moved, changes, change) = deal.apply(&patch, admin.id, at(3)).unwrap();
    store.update_opportunity(&moved, 1, AuditAction::Update, &changes, change.as_ref(), &ctx(&admin)).await.unwrap();
    let (closed, changes, change) = moved.close(Outcome::Lost, None, None, at(5), admin.id, at(5)).unwrap();
    store.update_opportunity(&closed, 2, AuditAction::Update, &changes, Some(&change), &ctx(&admin)).await.unwrap();

    let stages_as_of = |d: NaiveDate| {
        let store = store.clone();
        let organization_id = organization.id;
        async move {
            let groups = store
                .pipeline_groups(organization_id, &PipelineQuery { as_of: Some(d), ..PipelineQuery::default() })
                .await;
            groups.map(|g| g.iter().map(|g| (g.stage, g.probability, g.amount)).collect::<Vec<_>>()).unwrap()
        }
    };
    assert_eq!(stages_as_of(day(1) - chrono::Duration::days(1)).await, vec![]);
    assert_eq!(stages_as_of(day(1)).await, vec![(OpportunityStage::Prospecting, 10, 1000)]);
    assert_eq!(stages_as_of(day(2)).await, vec![(OpportunityStage::Prospecting, 10, 1000)]);
    assert_eq!(stages_as_of(day(4)).await, vec![(OpportunityStage::Proposal, 60, 1000)]);
    assert_eq!(stages_as_of(day(5)).await, vec![]);
    let now_groups = store.pipeline_groups(organization.id, &PipelineQuery::default()).await.unwrap();
    assert!(now_groups.is_empty(), "closed now");
}
