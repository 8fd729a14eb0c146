//! The resource kit: what the routes of every stored record share, written once. A resource
//! declares itself with [`ApiRecord`] (its noun, its URL, its part of the permission matrix and
//! its response; the store reads and saves it through the domain's generic `RecordRepository`);
//! the handlers then read it with [`get`], change it with [`Edit`] (If-Match, the owner and
//! reassign rules, the retry of a lost race, the audit context), archive and restore it with
//! [`Edit::archive_or_restore`], and answer with [`created`] and [`ok`]. Lists answer a
//! [`Page`]. `docs/adding-a-resource.md` walks through it.

use std::borrow::Cow;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::permissions::{self, Action, authorize, may_assign, may_change};
use crm_domain::ports::StoredRecord;
use crm_domain::record::{ArchiveError, Record};
use crm_domain::user::Principal;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{IfMatch, Tag, if_match};
use crate::problem::{ApiError, ProblemCode};
use crate::respond::{audit_context, read, update_with_retry, with_etag};
use crate::state::AppState;

/// A record the API serves at `COLLECTION/{id}`. The store reads and saves it through its
/// `RecordRepository` ([`StoredRecord`]).
///
/// [`ApiRecord::refused`] is an `async fn` without a `Send` bound: actix-web runs each handler
/// on the worker thread that accepted the request, so its future never moves between threads.
#[allow(async_fn_in_trait)]
pub trait ApiRecord: Clone + StoredRecord {
    /// The noun in problem details: "no lead with this id exists in your organization".
    const NOUN: &'static str;
    /// The collection's path, which a created record's `Location` extends with its id.
    const COLLECTION: &'static str;
    /// The part of the permission matrix that decides who reads and changes it.
    const MATRIX: permissions::Resource;
    /// Whether the record has an owner. A role whose reach is its own records may change only
    /// the ones it owns; a record nobody owns (the price book, competitors) is refused to such a
    /// role before it is read.
    const OWNED: bool;
    /// What the API answers for it.
    type Response: Serialize;

    fn id(&self) -> Uuid;
    /// The stored version, which `If-Match` names and a save expects.
    fn version(&self) -> i64;
    /// The owner, for a record that has one.
    fn owner(&self) -> Option<Uuid>;
    /// The response body and its entity tag as the record stands at `now` (a dated state
    /// included: [`Tag`]).
    fn response(&self, now: DateTime<Utc>) -> (Self::Response, Tag);

    /// The problem a refused save answers; a resource with a unique field names the record
    /// that holds the value.
    async fn refused(_state: &AppState, _organization_id: Uuid, _next: &Self, error: RepoError) -> ApiError {
        error.into()
    }
}

/// A record that is archived and restored rather than deleted.
pub trait Archivable: ApiRecord + Record {
    /// The 409 codes of archiving an archived record and of restoring an active one.
    const ARCHIVE_CODES: (ProblemCode, ProblemCode);

    /// Archives (`AuditAction::Archive`) or restores the record by the shared rule of
    /// `crm_domain::record`: a repeated archive answers 409 `ARCHIVE_CODES.0`, restoring an
    /// active record 409 `ARCHIVE_CODES.1`.
    ///
    /// # Errors
    /// 409 as above.
    fn archive_or_restore(&self, action: AuditAction, at: DateTime<Utc>) -> Result<(Self, Vec<FieldChange>), ApiError> {
        let outcome = match action {
            AuditAction::Archive => crm_domain::record::archive(self, at),
            _ => crm_domain::record::restore(self, at),
        };
        let noun = Self::NOUN;
        outcome.map_err(|e| match e {
            ArchiveError::Archived => {
                ApiError::Conflict { code: Self::ARCHIVE_CODES.0, detail: format!("the {noun} is already archived") }
            }
            ArchiveError::NotArchived => {
                ApiError::Conflict { code: Self::ARCHIVE_CODES.1, detail: format!("the {noun} is not archived") }
            }
        })
    }
}

/// One page of a list: the records, and the cursor of the next page.
///
/// Its schema is written by hand: utoipa's derive would copy the whole schema of `T` into each
/// page instead of referring to it. A page of `XResponse` is the component `XList`; a handler's
/// attribute names it through an alias (`body = LeadList`, `type LeadList = Page<LeadResponse>`),
/// since utoipa's path macro suffixes a generic body's name with its arguments'.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

// utoipa's path macro composes a generic body through its (hidden) `ComposeSchema`, which also
// gives `PartialSchema`; the generic arguments' schemas it passes are not needed: `T` is referred
// to by name.
impl<T: ToSchema> utoipa::__dev::ComposeSchema for Page<T> {
    fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        let element = T::name();
        ObjectBuilder::new()
            .description(Some(
                "One page of a list, in the order of its `sort`; follow `next_cursor` until it is `null`.",
            ))
            .property("data", ArrayBuilder::new().items(Ref::from_schema_name(element.clone())))
            .required("data")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some("Pass as `cursor` to read the next page; `null` on the last page.")),
            )
            .required("next_cursor")
            .into()
    }
}

impl<T: ToSchema> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        let element = T::name();
        Cow::Owned(format!("{}List", element.strip_suffix("Response").unwrap_or(&element)))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

impl<T: ToSchema + Serialize> Page<T> {
    /// 200 with the page.
    pub fn respond(data: Vec<T>, next_cursor: Option<String>) -> HttpResponse {
        HttpResponse::Ok().json(Self { data, next_cursor })
    }
}

/// Reads a record for `caller`: 403 when their role may not read the resource, 404 (naming the
/// resource) when the organisation has no such record.
///
/// # Errors
/// As above, and 503 when the store does not answer.
pub async fn load<R: ApiRecord>(state: &AppState, caller: &Caller, id: Uuid) -> Result<R, ApiError> {
    authorize(caller.0.role, R::MATRIX, Action::Read, true)?;
    state.store.get::<R>(caller.0.organization_id, id).await.map_err(|e| match e {
        RepoError::NotFound => ApiError::not_found(R::NOUN),
        other => other.into(),
    })
}

/// `GET COLLECTION/{id}`: 200 with the record and its ETag, or 304 when `If-None-Match` names it.
///
/// # Errors
/// As [`load`]; 400 for a malformed `If-None-Match`.
pub async fn get<R: ApiRecord>(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let record = load::<R>(state, caller, id).await?;
    let (body, tag) = record.response(state.clock.now());
    read(req, &body, tag)
}

/// 201 with the new record as it stands at `now`, its `Location` and its ETag.
pub fn created<R: ApiRecord>(record: &R, now: DateTime<Utc>) -> HttpResponse {
    let (body, tag) = record.response(now);
    crate::respond::created(format!("{}/{}", R::COLLECTION, record.id()), &body, tag)
}

/// 200 with the record as it stands at `now`, and its ETag.
pub fn ok<R: ApiRecord>(record: &R, now: DateTime<Utc>) -> HttpResponse {
    let (body, tag) = record.response(now);
    with_etag(StatusCode::OK, &body, tag)
}

/// A change of one record by one request: it checks that the caller may change it, honours
/// `If-Match`, re-applies the change to a fresh copy when another writer got in first and the
/// client pinned no version, and carries the request's audit context.
pub struct Edit<'a, R> {
    state: &'a AppState,
    caller: &'a Caller,
    id: Uuid,
    expected: IfMatch,
    audit: AuditContext,
    record: PhantomData<R>,
}

impl<'a, R: ApiRecord> Edit<'a, R> {
    /// Starts a change: a role that may change no record of the resource is refused here, before
    /// the record is read when the resource has no owners; a malformed `If-Match` answers 400.
    ///
    /// # Errors
    /// As above.
    pub fn begin(req: &HttpRequest, state: &'a AppState, caller: &'a Caller, id: Uuid) -> Result<Self, ApiError> {
        if !R::OWNED {
            may_change(&caller.0, R::MATRIX, None)?;
        }
        let expected = if_match(req)?;
        let audit = audit_context(req, &caller.0);
        Ok(Self { state, caller, id, expected, audit, record: PhantomData })
    }

    pub fn principal(&self) -> &Principal {
        &self.caller.0
    }

    pub fn audit(&self) -> &AuditContext {
        &self.audit
    }

    /// Reads the record, checks `If-Match`, the owner rule and (when `new_owner` names another
    /// owner) the reassign rule, then runs `step` on it. `step` saves what it changed; a step
    /// that loses a race (412 from the store) runs again on a fresh copy unless the client sent
    /// `If-Match`.
    ///
    /// # Errors
    /// 403, 404, 412, and whatever `step` answers.
    pub async fn run<T>(
        &self,
        new_owner: Option<Uuid>,
        step: impl AsyncFn(R) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        update_with_retry(
            &self.expected,
            async || load::<R>(self.state, self.caller, self.id).await,
            |record: &R| record.version(),
            async |current: R| {
                let owner = current.owner();
                may_change(&self.caller.0, R::MATRIX, owner)?;
                // A record nobody owns (an unassigned ticket) may be taken by the caller; giving
                // it to someone else is a reassignment.
                let owner = owner.unwrap_or(self.caller.0.user_id);
                may_assign(&self.caller.0, R::MATRIX, owner, new_owner)?;
                step(current).await
            },
        )
        .await
    }

    /// Applies a domain change to the record and saves it with the audit event of `action`; a
    /// change that changes nothing saves nothing and answers the record as it is.
    ///
    /// # Errors
    /// As [`Edit::run`], and a refused save as the resource answers it ([`ApiRecord::refused`]).
    pub async fn apply(
        &self,
        action: AuditAction,
        new_owner: Option<Uuid>,
        change: impl AsyncFn(&R) -> Result<(R, Vec<FieldChange>), ApiError>,
    ) -> Result<R, ApiError> {
        self.run(new_owner, async |current: R| {
            let (next, changes) = change(&current).await?;
            if changes.is_empty() {
                return Ok(current);
            }
            self.save(&next, current.version(), action, &changes).await?;
            Ok(next)
        })
        .await
    }

    /// Saves `next`, read at `expected_version`, with the audit event of `action`.
    ///
    /// # Errors
    /// 412 when the version moved on; a refused save as the resource answers it.
    pub async fn save(
        &self,
        next: &R,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
    ) -> Result<(), ApiError> {
        match self.state.store.save(next, expected_version, action, changes, &self.audit).await {
            Ok(()) => Ok(()),
            Err(error @ RepoError::VersionMismatch { .. }) => Err(error.into()),
            Err(error) => Err(R::refused(self.state, self.caller.0.organization_id, next, error).await),
        }
    }
}

impl<R: Archivable> Edit<'_, R> {
    /// `DELETE COLLECTION/{id}` (`AuditAction::Archive`) and `POST COLLECTION/{id}/restore`
    /// (`AuditAction::Restore`): 200 with the record.
    ///
    /// # Errors
    /// 409 when it already is in that state; as [`Edit::apply`].
    pub async fn archive_or_restore(self, action: AuditAction) -> Result<HttpResponse, ApiError> {
        let at = self.state.clock.now();
        let record = self.apply(action, None, async |current: &R| current.archive_or_restore(action, at)).await?;
        Ok(ok(&record, at))
    }
}
