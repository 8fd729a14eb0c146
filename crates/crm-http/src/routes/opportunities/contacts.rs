//! The people of a deal: `PUT`, `GET` and `DELETE /api/v1/opportunities/{id}/contacts/{contact_id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use crm_domain::RepoError;
use crm_domain::contact::Contact;
use crm_domain::opportunity::{BuyingRole, ContactRole, Opportunity};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{now, timestamp};
use crate::extract::JsonBody;
use crate::problem::ApiError;
use crate::resource;
use crate::respond::audit_context;
use crate::schema::one_of;
use crate::state::AppState;

pub(crate) fn role_schema() -> utoipa::openapi::schema::Object {
    one_of(BuyingRole::NAMES, false)
}

/// A contact's part in the buying decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "decision_maker", "is_primary": true}))]
pub struct ContactRoleRequest {
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// Makes this contact the deal's primary one (and no other). Defaults to `false`.
    pub is_primary: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRoleResponse {
    pub contact_id: Uuid,
    #[schema(schema_with = role_schema)]
    pub role: &'static str,
    pub is_primary: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&ContactRole> for ContactRoleResponse {
    fn from(r: &ContactRole) -> Self {
        Self {
            contact_id: r.contact_id,
            role: r.role.as_str(),
            is_primary: r.is_primary,
            created_at: timestamp(r.created_at),
            updated_at: timestamp(r.updated_at),
        }
    }
}

/// The contacts of a deal, primary first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRoleList {
    pub data: Vec<ContactRoleResponse>,
}

/// The people of a deal and their roles
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id")),
    responses((status = 200, description = "The deal's contacts, primary first", body = ContactRoleList)),
    security(("bearer" = []))
)]
#[get("/opportunities/{id}/contacts")]
pub async fn list_contact_roles(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let deal = resource::load::<Opportunity>(&state, &caller, id.into_inner()).await?;
    let roles = state.store.contact_roles(caller.0.organization_id, deal.id).await?;
    Ok(HttpResponse::Ok().json(ContactRoleList { data: roles.iter().map(ContactRoleResponse::from).collect() }))
}

/// Set a contact's role in a deal
///
/// Adds the contact to the deal or changes its role. `is_primary: true` makes it the only primary
/// contact.
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), ("contact_id" = Uuid, Path, description = "The contact's id")),
    request_body = ContactRoleRequest,
    responses((status = 200, description = "The contact's role", body = ContactRoleResponse)),
    security(("bearer" = []))
)]
#[put("/opportunities/{id}/contacts/{contact_id}")]
pub async fn put_contact_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ContactRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, contact_id) = path.into_inner();
    let body = body.0;
    let role = BuyingRole::parse("role", &body.role)?;
    let deal = resource::load::<Opportunity>(&state, &caller, id).await?;
    authorize(principal.role, Resource::SalesRecord, Action::Update, deal.owner_id == principal.user_id)?;
    match state.store.get::<Contact>(principal.organization_id, contact_id).await {
        Ok(_) => {}
        Err(RepoError::NotFound) => return Err(ApiError::not_found("contact")),
        Err(other) => return Err(other.into()),
    }
    let existing = state.store.contact_roles(principal.organization_id, deal.id).await?;
    let previous = existing.iter().find(|r| r.contact_id == contact_id);
    let at = now();
    let next = ContactRole {
        opportunity_id: deal.id,
        contact_id,
        role,
        is_primary: body.is_primary.unwrap_or(false),
        created_at: previous.map_or(at, |p| p.created_at),
        updated_at: at,
    };
    let change = ContactRole::change(previous, Some(&next), contact_id);
    state
        .store
        .put_contact_role(principal.organization_id, &next, &change, &audit_context(&req, &principal))
        .await
        .map_err(|e| match e {
            RepoError::MissingReference { .. } => ApiError::not_found("contact"),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(ContactRoleResponse::from(&next)))
}

/// Remove a contact from a deal
#[utoipa::path(
    tag = "opportunities",
    params(("id" = Uuid, Path, description = "The opportunity's id"), ("contact_id" = Uuid, Path, description = "The contact's id")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []))
)]
#[delete("/opportunities/{id}/contacts/{contact_id}")]
pub async fn delete_contact_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, contact_id) = path.into_inner();
    let deal = resource::load::<Opportunity>(&state, &caller, id).await?;
    authorize(principal.role, Resource::SalesRecord, Action::Update, deal.owner_id == principal.user_id)?;
    let existing = state.store.contact_roles(principal.organization_id, deal.id).await?;
    let Some(previous) = existing.iter().find(|r| r.contact_id == contact_id) else {
        return Err(ApiError::NotFound { detail: "this contact has no role in this opportunity".to_owned() });
    };
    let change = ContactRole::change(Some(previous), None, contact_id);
    state
        .store
        .delete_contact_role(principal.organization_id, deal.id, contact_id, &change, &audit_context(&req, &principal))
        .await
        .map_err(|e| match e {
            RepoError::NotFound => {
                ApiError::NotFound { detail: "this contact has no role in this opportunity".to_owned() }
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::NoContent().finish())
}
