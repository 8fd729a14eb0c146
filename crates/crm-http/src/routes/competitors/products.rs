//! A competitor's products: `/api/v1/competitors/{id}/products[/{product_id}]`. Each may name the
//! product of our price book it competes with. Deleting one removes it for good.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::competitor::{
    Competitor, CompetitorProduct, CompetitorProductDraft, CompetitorProductPatch, CompetitorProductQuery,
    CompetitorSortField,
};
use crm_domain::permissions::{Resource, may_change};
use crm_domain::product::Product;
use crm_domain::value::{LongText, Name};
use crm_domain::{FieldError, RepoError, ValidationErrors};
use uuid::Uuid;

use super::product_dto::{
    CompetitorProductList, CompetitorProductListQuery, CompetitorProductResponse, CreateCompetitorProductRequest,
    UpdateCompetitorProductRequest,
};
use crate::auth::Caller;
use crate::conventions::{field_to_bad_request, if_match, list_params, next_cursor, now, parse_search, parse_uuid};
use crate::extract::{JsonBody, nullable, opt, required};
use crate::problem::{ApiError, Problem};
use crate::resource::{self, Page};
use crate::respond::{audit_context, created, read, update_with_retry, with_etag};
use crate::state::AppState;

/// 422 unless `compared_product_id` names an active product of the organisation's price book.
async fn check_compared(state: &AppState, organization_id: Uuid, compared: Option<Uuid>) -> Result<(), ApiError> {
    let Some(product_id) = compared else { return Ok(()) };
    let error =
        |code: &'static str, message: &str| ApiError::from(FieldError::new("compared_product_id", code, message));
    match state.store.get::<Product>(organization_id, product_id).await {
        Ok(product) if product.archived_at.is_none() => Ok(()),
        Ok(_) => Err(error("product_archived", "the product is archived; restore it or compare another one")),
        Err(RepoError::NotFound) => Err(error("unknown_product", "no such product exists in your price book")),
        Err(other) => Err(other.into()),
    }
}

fn missing_reference(error: RepoError) -> ApiError {
    match error {
        RepoError::MissingReference { field: "compared_product_id" } => {
            FieldError::new("compared_product_id", "unknown_product", "no such product exists in your price book")
                .into()
        }
        RepoError::MissingReference { .. } => ApiError::not_found("competitor"),
        other => other.into(),
    }
}

async fn load_product(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    product_id: Uuid,
) -> Result<CompetitorProduct, ApiError> {
    let competitor = resource::load::<Competitor>(state, caller, id).await?;
    state.store.get_competitor_product(caller.0.organization_id, competitor.id, product_id).await.map_err(|e| match e {
        RepoError::NotFound => ApiError::not_found("product of this competitor"),
        other => other.into(),
    })
}

/// Add a product to a competitor (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id")),
    request_body = CreateCompetitorProductRequest,
    responses(
        (status = 201, description = "The product", body = CompetitorProductResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The competitor is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/competitors/{id}/products")]
pub async fn create_competitor_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CreateCompetitorProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    may_change(&principal, Resource::Competitor, None)?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let name = errors.collect(Name::parse("name", &body.name));
    let price = body.price.parse("price", &mut errors);
    let notes = opt(&mut errors, body.notes.as_deref(), |v| LongText::parse("notes", v));
    errors.into_result()?;
    let (Some(name), Some(price)) = (name, price) else { return Err(ApiError::internal("validated fields missing")) };
    let competitor = resource::load::<Competitor>(&state, &caller, id.into_inner()).await?;
    check_compared(&state, principal.organization_id, body.compared_product_id).await?;
    let draft = CompetitorProductDraft { name, price, compared_product_id: body.compared_product_id, notes };
    let product = CompetitorProduct::create(Uuid::now_v7(), &competitor, principal.user_id, draft, now())?;
    state
        .store
        .insert_competitor_product(&product, &audit_context(&req, &principal))
        .await
        .map_err(missing_reference)?;
    Ok(created(
        format!("/api/v1/competitors/{}/products/{}", competitor.id, product.id),
        &CompetitorProductResponse::from(&product),
        product.version,
    ))
}

/// Get a competitor's product
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id"), ("product_id" = Uuid, Path, description = "The product's id")),
    responses(
        (status = 200, description = "The product", body = CompetitorProductResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/competitors/{id}/products/{product_id}")]
pub async fn get_competitor_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, product_id) = path.into_inner();
    let product = load_product(&state, &caller, id, product_id).await?;
    read(&req, &CompetitorProductResponse::from(&product), product.version)
}

/// Update a competitor's product (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id"), ("product_id" = Uuid, Path, description = "The product's id")),
    request_body = UpdateCompetitorProductRequest,
    responses(
        (status = 200, description = "The updated product", body = CompetitorProductResponse, headers(("ETag" = String))),
        (status = 409, description = "The competitor is archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/competitors/{id}/products/{product_id}")]
pub async fn update_competitor_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<UpdateCompetitorProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, product_id) = path.into_inner();
    may_change(&principal, Resource::Competitor, None)?;
    let expected = if_match(&req)?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    let patch = CompetitorProductPatch {
        name: required(&mut errors, "name", body.name, |v: String, e| e.collect(Name::parse("name", &v))),
        price: required(&mut errors, "price", body.price, |v, e| v.parse("price", e)),
        compared_product_id: body.compared_product_id,
        notes: nullable(&mut errors, body.notes, |v| LongText::parse("notes", v)),
    };
    errors.into_result()?;
    let competitor = resource::load::<Competitor>(&state, &caller, id).await?;
    check_compared(&state, principal.organization_id, patch.compared_product_id.flatten()).await?;
    let audit = audit_context(&req, &principal);
    let product = update_with_retry(
        &expected,
        async || load_product(&state, &caller, competitor.id, product_id).await,
        |p: &CompetitorProduct| p.version,
        async |current: CompetitorProduct| {
            let (next, changes) = current.apply(&competitor, &patch, now())?;
            if changes.is_empty() {
                return Ok(current);
            }
            state
                .store
                .update_competitor_product(&next, current.version, &changes, &audit)
                .await
                .map_err(missing_reference)?;
            Ok(next)
        },
    )
    .await?;
    Ok(with_etag(StatusCode::OK, &CompetitorProductResponse::from(&product), product.version))
}

/// Delete a competitor's product for good (managers and admins)
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id"), ("product_id" = Uuid, Path, description = "The product's id")),
    responses(
        (status = 204, description = "Deleted"),
    ),
    security(("bearer" = []))
)]
#[delete("/competitors/{id}/products/{product_id}")]
pub async fn delete_competitor_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let (id, product_id) = path.into_inner();
    may_change(&principal, Resource::Competitor, None)?;
    let expected = if_match(&req)?;
    let audit = audit_context(&req, &principal);
    update_with_retry(
        &expected,
        async || load_product(&state, &caller, id, product_id).await,
        |p: &CompetitorProduct| p.version,
        async |current: CompetitorProduct| {
            let changes = current.deletion_changes();
            Ok(state.store.delete_competitor_product(&current, current.version, &changes, &audit).await?)
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a competitor's products
#[utoipa::path(
    tag = "competitors",
    params(("id" = Uuid, Path, description = "The competitor's id"), CompetitorProductListQuery),
    responses((status = 200, description = "One page of the competitor's products", body = CompetitorProductList)),
    security(("bearer" = []))
)]
#[get("/competitors/{id}/products")]
pub async fn list_competitor_products(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CompetitorProductListQuery>,
) -> Result<HttpResponse, ApiError> {
    let competitor = resource::load::<Competitor>(&state, &caller, id.into_inner()).await?;
    let query = query.into_inner();
    let params = list_params::<CompetitorSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "name",
    )?;
    let product_query = CompetitorProductQuery {
        competitor_id: competitor.id,
        search: parse_search(query.q.as_deref())?,
        compared_product_id: query
            .compared_product_id
            .as_deref()
            .map(|r| parse_uuid("compared_product_id", r).map_err(field_to_bad_request))
            .transpose()?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_competitor_products(caller.0.organization_id, &product_query).await?;
    let next_cursor = next_cursor(&page, product_query.sort);
    Ok(Page::respond(page.items.iter().map(CompetitorProductResponse::from).collect(), next_cursor))
}
