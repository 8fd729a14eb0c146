//! Contract tests: every repository method, called directly, behaves the same on both backends.

use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, AuditFilter};
use crm_domain::lead::{ArchivedFilter, Lead, LeadDraft, LeadPatch, LeadQuery, LeadSortField, LeadStatus};
use crm_domain::list::{Sort, SortDirection, Window};
use crm_domain::permissions::Role;
use crm_domain::ports::{
    AttemptWrite, ClaimTimes, IdempotencyAttempt, IdempotencyClaim, IdempotencyScope, NewRefreshToken, RefreshRotation,
    Store, StoredResponse, UserQuery, UserSortField,
};
use crm_domain::user::{Organization, User, UserPatch};
use crm_domain::value::{Email, Name};
use crm_persistence::{Database, PoolSettings};
use uuid::Uuid;

use crate::helpers::{Backend, fresh_database_url};
use crate::on_both_backends;

on_both_backends!(
    organizations_and_users,
    refresh_tokens_rotate_once,
    idempotency_claims,
    idempotency_claims_outlive_their_process,
    leads_and_their_audit_trail,
);

pub(crate) fn now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) async fn open(backend: &Backend) -> (Arc<dyn Store>, Option<crate::helpers::tempfile_dir::TempDir>) {
    let (url, dir) = fresh_database_url(backend).await;
    let database = Database::open(&url, &PoolSettings::default(), true).await.unwrap();
    (database.store.clone(), dir)
}

fn user(organization_id: Uuid, email: &str, role: Role) -> User {
    let at = now();
    User {
        id: Uuid::now_v7(),
        organization_id,
        name: Name::from_trusted(format!("User {email}")),
        email: Email::from_trusted(email.to_owned()),
        role,
        active: true,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

pub(crate) async fn seed(store: &Arc<dyn Store>, email: &str) -> (Organization, User) {
    let organization =
        Organization { id: Uuid::now_v7(), name: Name::from_trusted("Org".to_owned()), created_at: now() };
    let admin = user(organization.id, email, Role::Admin);
    store.create_organization(&organization, &admin, "hash", "req-1").await.unwrap();
    (organization, admin)
}

pub(crate) fn ctx(user: &User) -> AuditContext {
    AuditContext {
        organization_id: user.organization_id,
        actor_id: user.id,
        request_id: "req".to_owned(),
        idempotency_attempt: None,
    }
}

async fn organizations_and_users(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    store.ping().await.unwrap();
    let (organization, admin) = seed(&store, "admin@example.com").await;
    assert_eq!(store.get_organization(organization.id).await.ok(), Some(organization.clone()));
    assert!(matches!(store.get_organization(Uuid::now_v7()).await, Err(RepoError::NotFound)));
    // A duplicate email is refused across organisations, and nothing of the second org remains.
    let other_org =
        Organization { id: Uuid::now_v7(), name: Name::from_trusted("Other".to_owned()), created_at: now() };
    let clash = user(other_org.id, "admin@example.com", Role::Admin);
    assert!(matches!(
        store.create_organization(&other_org, &clash, "hash", "r").await,
        Err(RepoError::Duplicate { field: "email" })
    ));
    assert!(matches!(store.get_organization(other_org.id).await, Err(RepoError::NotFound)));

    let rep = user(organization.id, "rep@example.com", Role::SalesRep);
    store.insert_user(&rep, "rep-hash", &ctx(&admin)).await.unwrap();
    assert!(matches!(store.insert_user(&rep, "x", &ctx(&admin)).await, Err(RepoError::Duplicate { .. })));
    assert_eq!(store.get::<User>(organization.id, rep.id).await.ok(), Some(rep.clone()));
    assert!(matches!(store.get::<User>(Uuid::now_v7(), rep.id).await, Err(RepoError::NotFound)));
    assert_eq!(store.get_many::<User>(organization.id, &[rep.id, Uuid::now_v7()]).await.ok(), Some(vec![rep.clone()]));
    assert_eq!(
        store.get_many::<User>(Uuid::now_v7(), &[rep.id]).await.ok(),
        Some(Vec::new()),
        "another organisation's"
    );
    let credentials = store.find_credentials(&Email::from_trusted("rep@example.com".to_owned())).await.ok().flatten();
    assert_eq!(credentials.map(|c| (c.user.id, c.password_hash)), Some((rep.id, "rep-hash".to_owned())));
    assert!(
        store.find_credentials(&Email::from_trusted("nobody@example.com".to_owned())).await.ok().flatten().is_none()
    );
    assert_eq!(
        store.find_principal(organization.id, rep.id).await.ok().flatten().map(|p| p.role),
        Some(Role::SalesRep)
    );
    assert!(store.find_principal(Uuid::now_v7(), rep.id).await.ok().flatten().is_none());

    let (deactivated, changes) =
        rep.apply(&UserPatch { active: Some(false), ..UserPatch::default() }, admin.id, now()).unwrap();
    assert!(matches!(
        store.save(&deactivated, 7, AuditAction::Update, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 1 })
    ));
    store.save(&deactivated, 1, AuditAction::Update, &changes, &ctx(&admin)).await.unwrap();
    assert!(
        store.find_principal(organization.id, rep.id).await.ok().flatten().is_none(),
        "deactivated users have no principal"
    );
    let mut ghost = deactivated.clone();
    ghost.id = Uuid::now_v7();
    assert!(matches!(
        store.save(&ghost, 1, AuditAction::Update, &changes, &ctx(&admin)).await,
        Err(RepoError::NotFound)
    ));

    let query = |active: Option<bool>, limit: u32| UserQuery {
        roles: vec![],
        active,
        search: None,
        sort: Sort { field: UserSortField::Email, direction: SortDirection::Ascending },
        window: Window { limit, after: None },
    };
    let page = store.list_users(organization.id, &query(None, 1)).await.unwrap();
    assert_eq!(page.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["admin@example.com"]);
    let mut next = query(None, 1);
    next.window.after = page.next;
    let second = store.list_users(organization.id, &next).await.unwrap();
    assert_eq!(second.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["rep@example.com"]);
    assert!(second.next.is_none());
    let active = store.list_users(organization.id, &query(Some(true), 10)).await.unwrap();
    assert_eq!(active.items.len(), 1);
    let events = store
        .list_audit_events(
            organization.id,
            &AuditFilter { entity_id: Some(rep.id), ..AuditFilter::default() },
            &Window { limit: 10, after: None },
        )
        .await
        .unwrap();
    assert_eq!(events.items.iter().map(|e| e.action).collect::<Vec<_>>(), [AuditAction::Update, AuditAction::Create]);
}

async fn refresh_tokens_rotate_once(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let at = now();
    let token = |hash: &str, family: Uuid| NewRefreshToken {
        id: Uuid::now_v7(),
        organization_id: organization.id,
        user_id: admin.id,
        family_id: family,
        token_hash: hash.to_owned(),
        created_at: at,
        expires_at: at + Duration::days(1),
    };
    let family = Uuid::now_v7();
    store.insert_refresh_token(&token("h1", family)).await.unwrap();
    let rotated =
        store.rotate_refresh_token(organization.id, "h1", Uuid::now_v7(), "h2", at, at + Duration::days(1)).await.ok();
    assert_eq!(rotated, Some(RefreshRotation::Rotated { organization_id: organization.id, user_id: admin.id }));
    assert_eq!(
        store.rotate_refresh_token(organization.id, "h1", Uuid::now_v7(), "h3", at, at).await.ok(),
        Some(RefreshRotation::Reused)
    );
    assert_eq!(
        store.rotate_refresh_token(organization.id, "h2", Uuid::now_v7(), "h4", at, at).await.ok(),
        Some(RefreshRotation::Reused),
        "the family was revoked"
    );
    assert_eq!(
        store.rotate_refresh_token(organization.id, "unknown", Uuid::now_v7(), "h5", at, at).await.ok(),
        Some(RefreshRotation::Invalid)
    );
    assert_eq!(
        store.rotate_refresh_token(Uuid::now_v7(), "h2", Uuid::now_v7(), "h6", at, at).await.ok(),
        Some(RefreshRotation::Invalid)
    );
    let mut expired = token("old", Uuid::now_v7());
    expired.expires_at = at - Duration::seconds(1);
    store.insert_refresh_token(&expired).await.unwrap();
    assert_eq!(
        store.rotate_refresh_token(organization.id, "old", Uuid::now_v7(), "h7", at, at).await.ok(),
        Some(RefreshRotation::Invalid)
    );

    store.insert_refresh_token(&token("a1", Uuid::now_v7())).await.unwrap();
    store.insert_refresh_token(&token("b1", Uuid::now_v7())).await.unwrap();
    assert_eq!(store.revoke_refresh_family(organization.id, admin.id, "a1", at).await.ok(), Some(true));
    assert_eq!(store.revoke_refresh_family(organization.id, Uuid::now_v7(), "b1", at).await.ok(), Some(false));
    assert!(matches!(
        store.rotate_refresh_token(organization.id, "a1", Uuid::now_v7(), "a2", at, at).await,
        Ok(RefreshRotation::Reused)
    ));
    store.revoke_user_refresh_tokens(organization.id, admin.id, at).await.unwrap();
    assert!(matches!(
        store.rotate_refresh_token(organization.id, "b1", Uuid::now_v7(), "b2", at, at).await,
        Ok(RefreshRotation::Reused)
    ));
}

async fn idempotency_claims(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let scope = IdempotencyScope { organization_id: organization.id, user_id: admin.id, key: "k".to_owned() };
    let at = now();
    let times = |now: chrono::DateTime<Utc>| ClaimTimes {
        now,
        expired_before: now - Duration::hours(24),
        abandoned_before: now - Duration::minutes(5),
        silent_since: now - Duration::seconds(5),
    };
    let alive = Uuid::now_v7();
    store.beat(alive, at).await.unwrap();
    let attempt = |instance_id: Uuid| IdempotencyAttempt { attempt_id: Uuid::now_v7(), instance_id };
    let first = attempt(alive);
    assert_eq!(
        store.claim_idempotency_key(&scope, "hash-a", &first, &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    let running = IdempotencyClaim::Existing {
        request_hash: "hash-a".to_owned(),
        attempt_id: Some(first.attempt_id),
        committed: false,
        response: None,
    };
    assert_eq!(
        store.claim_idempotency_key(&scope, "hash-a", &attempt(alive), &times(at)).await.ok(),
        Some(running.clone()),
        "a second claim while the first runs sees it in progress"
    );
    let response = StoredResponse {
        status: 201,
        headers: vec![("etag".to_owned(), "\"1\"".to_owned())],
        body: b"{\"a\":1}".to_vec(),
    };
    // Only the attempt that holds the claim keeps its response.
    let stranger = Uuid::now_v7();
    store.complete_idempotency_key(&scope, stranger, &response).await.unwrap();
    assert_eq!(store.claim_idempotency_key(&scope, "hash-a", &attempt(alive), &times(at)).await.ok(), Some(running));
    store.complete_idempotency_key(&scope, first.attempt_id, &response).await.unwrap();
    assert_eq!(
        store.claim_idempotency_key(&scope, "hash-b", &attempt(alive), &times(at)).await.ok(),
        Some(IdempotencyClaim::Existing {
            request_hash: "hash-a".to_owned(),
            attempt_id: Some(first.attempt_id),
            committed: false,
            response: Some(response.clone())
        })
    );
    // Released keys are free again; a completed one is not released, nor by another attempt.
    store.release_idempotency_key(&scope, first.attempt_id).await.unwrap();
    assert!(matches!(
        store.claim_idempotency_key(&scope, "hash-a", &attempt(alive), &times(at)).await,
        Ok(IdempotencyClaim::Existing { .. })
    ));
    let other = IdempotencyScope { key: "other".to_owned(), ..scope.clone() };
    let held = attempt(alive);
    assert_eq!(
        store.claim_idempotency_key(&other, "h", &held, &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    store.release_idempotency_key(&other, stranger).await.unwrap();
    assert!(matches!(
        store.claim_idempotency_key(&other, "h", &attempt(alive), &times(at)).await,
        Ok(IdempotencyClaim::Existing { response: None, .. })
    ));
    store.release_idempotency_key(&other, held.attempt_id).await.unwrap();
    assert_eq!(
        store.claim_idempotency_key(&other, "h2", &attempt(alive), &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    // A record from more than a day ago counts as free, and the purge removes old records.
    let later = at + Duration::hours(25);
    assert_eq!(
        store.claim_idempotency_key(&scope, "hash-c", &attempt(alive), &times(later)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    assert_eq!(
        store.purge_idempotency_keys(at + Duration::hours(1)).await.ok(),
        Some(1),
        "only the record of `other` was older"
    );
}

/// A claim whose process fell silent is taken over by the next retry, unless its write committed;
/// a write whose claim was taken over cannot commit; a committed attempt's writes can be found.
async fn idempotency_claims_outlive_their_process(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let at = now();
    let times = |now: chrono::DateTime<Utc>| ClaimTimes {
        now,
        expired_before: now - Duration::hours(24),
        abandoned_before: now - Duration::minutes(5),
        silent_since: now - Duration::seconds(5),
    };
    let (killed, restarted) = (Uuid::now_v7(), Uuid::now_v7());
    store.beat(killed, at).await.unwrap();
    let attempt = |instance_id: Uuid| IdempotencyAttempt { attempt_id: Uuid::now_v7(), instance_id };
    let scope =
        |key: &str| IdempotencyScope { organization_id: organization.id, user_id: admin.id, key: key.to_owned() };
    let keyed =
        |attempt: &IdempotencyAttempt| AuditContext { idempotency_attempt: Some(attempt.attempt_id), ..ctx(&admin) };

    // Killed before its write: four seconds of silence is not enough, six are.
    let lost = attempt(killed);
    assert_eq!(
        store.claim_idempotency_key(&scope("lost"), "h", &lost, &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    store.beat(restarted, at + Duration::seconds(4)).await.unwrap();
    assert!(matches!(
        store.claim_idempotency_key(&scope("lost"), "h", &attempt(restarted), &times(at + Duration::seconds(4))).await,
        Ok(IdempotencyClaim::Existing { committed: false, response: None, .. })
    ));
    let retry = attempt(restarted);
    assert_eq!(
        store.claim_idempotency_key(&scope("lost"), "h", &retry, &times(at + Duration::seconds(6))).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    // The first attempt, had it been alive after all, can no longer write: the retry answers.
    let lead = Lead::create(Uuid::now_v7(), organization.id, admin.id, draft("Fenced"), now())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(store.insert_lead(&lead, &keyed(&lost)).await, Err(RepoError::Unavailable(_))));
    assert!(matches!(store.get::<Lead>(organization.id, lead.id).await, Err(RepoError::NotFound)));
    store.insert_lead(&lead, &keyed(&retry)).await.unwrap();
    assert_eq!(
        store.attempt_outcome(organization.id, retry.attempt_id).await.ok(),
        Some(vec![AttemptWrite { action: AuditAction::Create, entity_type: "lead".to_owned(), entity_id: lead.id }])
    );
    assert_eq!(store.attempt_outcome(organization.id, lost.attempt_id).await.ok(), Some(vec![]));

    // Killed after its write committed: never taken over, never released; the retry is told
    // which attempt committed, to rebuild its answer.
    let committed = attempt(killed);
    assert_eq!(
        store.claim_idempotency_key(&scope("committed"), "h", &committed, &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    let written = Lead::create(Uuid::now_v7(), organization.id, admin.id, draft("Written"), now())
        .unwrap_or_else(|e| panic!("{e:?}"));
    store.insert_lead(&written, &keyed(&committed)).await.unwrap();
    store.release_idempotency_key(&scope("committed"), committed.attempt_id).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&scope("committed"), "h", &attempt(restarted), &times(at + Duration::minutes(10)))
            .await
            .ok(),
        Some(IdempotencyClaim::Existing {
            request_hash: "h".to_owned(),
            attempt_id: Some(committed.attempt_id),
            committed: true,
            response: None
        })
    );
    // A process that stops cleanly leaves no heartbeat behind.
    store.retire_instance(restarted).await.unwrap();
    let orphan = attempt(restarted);
    assert_eq!(
        store.claim_idempotency_key(&scope("orphan"), "h", &orphan, &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired)
    );
    assert_eq!(
        store.claim_idempotency_key(&scope("orphan"), "h", &attempt(killed), &times(at)).await.ok(),
        Some(IdempotencyClaim::Acquired),
        "a claim of a process without a heartbeat is abandoned"
    );
}

fn draft(last_name: &str) -> LeadDraft {
    LeadDraft {
        first_name: None,
        last_name: Name::from_trusted(last_name.to_owned()),
        company: None,
        title: None,
        email: None,
        phone: None,
        website: None,
        source: None,
        source_detail: None,
        status: None,
        rating: None,
        owner_id: None,
        description: None,
        custom_fields: None,
    }
}

async fn leads_and_their_audit_trail(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, _) = seed(&store, "other@example.com").await;
    let lead = Lead::create(Uuid::now_v7(), organization.id, admin.id, draft("Zed"), now())
        .unwrap_or_else(|e| panic!("{e:?}"));
    store.insert_lead(&lead, &ctx(&admin)).await.unwrap();
    assert_eq!(store.get::<Lead>(organization.id, lead.id).await.ok(), Some(lead.clone()));
    assert!(matches!(store.get::<Lead>(other_org.id, lead.id).await, Err(RepoError::NotFound)));
    let mut orphan = Lead::create(Uuid::now_v7(), organization.id, admin.id, draft("Orphan"), now())
        .unwrap_or_else(|e| panic!("{e:?}"));
    orphan.owner_id = Uuid::now_v7();
    assert!(matches!(
        store.insert_lead(&orphan, &ctx(&admin)).await,
        Err(RepoError::MissingReference { field: "owner_id" })
    ));

    let patch = LeadPatch { status: Some(LeadStatus::Contacted), ..LeadPatch::default() };
    let (next, changes) = lead.apply(&patch, now()).unwrap();
    store.save(&next, 1, AuditAction::Update, &changes, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.save(&next, 1, AuditAction::Update, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let mut foreign = next.clone();
    foreign.organization_id = other_org.id;
    assert!(matches!(
        store.save(&foreign, 2, AuditAction::Update, &changes, &ctx(&admin)).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(store.get::<Lead>(organization.id, lead.id).await.ok().map(|l| l.status), Some(LeadStatus::Contacted));

    let second = Lead::create(Uuid::now_v7(), organization.id, admin.id, draft("Amy"), now())
        .unwrap_or_else(|e| panic!("{e:?}"));
    store.insert_lead(&second, &ctx(&admin)).await.unwrap();
    let query = |limit: u32| LeadQuery {
        statuses: vec![],
        sources: vec![],
        ratings: vec![],
        owner_ids: vec![],
        created_after: None,
        created_before: None,
        emails: vec![],
        search: None,
        archived: ArchivedFilter::Exclude,
        interactions: Default::default(),
        sort: Sort { field: LeadSortField::LastName, direction: SortDirection::Ascending },
        window: Window { limit, after: None },
    };
    let page = store.list_leads(organization.id, &query(1)).await.unwrap();
    assert_eq!(page.items.iter().map(|l| l.last_name.as_str()).collect::<Vec<_>>(), ["Amy"]);
    let mut rest = query(1);
    rest.window.after = page.next;
    let page = store.list_leads(organization.id, &rest).await.unwrap();
    assert_eq!(page.items.iter().map(|l| l.last_name.as_str()).collect::<Vec<_>>(), ["Zed"]);
    assert!(page.next.is_none());
    let mut contacted = query(10);
    contacted.statuses = vec![LeadStatus::Contacted];
    assert_eq!(store.list_leads(organization.id, &contacted).await.map(|p| p.items.len()).ok(), Some(1));
    assert_eq!(store.list_leads(other_org.id, &query(10)).await.map(|p| p.items.len()).ok(), Some(0));

    let events = store
        .list_audit_events(
            organization.id,
            &AuditFilter { entity_type: Some("lead".to_owned()), entity_id: Some(lead.id), actor_id: None },
            &Window { limit: 10, after: None },
        )
        .await
        .unwrap();
    assert_eq!(events.items.iter().map(|e| e.action).collect::<Vec<_>>(), [AuditAction::Update, AuditAction::Create]);
    assert_eq!(events.items[0].changes, changes);
    assert_eq!(events.items[0].request_id.as_deref(), Some("req"));
}

/// The first page of a list, of the default size.
pub fn first_page() -> crm_domain::list::Window {
    crm_domain::list::Window::new(None, None).unwrap_or_else(|e| panic!("{e:?}"))
}
