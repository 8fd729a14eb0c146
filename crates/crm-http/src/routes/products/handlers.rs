use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use crm_domain::RepoError;
use crm_domain::audit::AuditAction;
use crm_domain::money::Currency;
use crm_domain::permissions::{Action, Resource, authorize, may_change};
use crm_domain::product::{Product, ProductQuery, ProductRuleError, ProductSortField};
use uuid::Uuid;

use super::dto::{CreateProductRequest, ProductList, ProductListQuery, ProductResponse, UpdateProductRequest};
use crate::auth::Caller;
use crate::conventions::{
    Tag, archived_filter, field_to_bad_request, list_params, next_cursor, now, parse_bool_param, parse_search,
};
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::{self, ApiRecord, Archivable, Edit, Page};
use crate::respond::audit_context;
use crate::state::AppState;

/// Every role reads the price book; managers and admins change it (nobody owns a product, so a
/// role without that right is refused before the product is read).
impl ApiRecord for Product {
    const NOUN: &'static str = "product";
    const COLLECTION: &'static str = "/api/v1/products";
    const MATRIX: Resource = Resource::PriceBook;
    const OWNED: bool = false;
    type Response = ProductResponse;

    fn id(&self) -> Uuid {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn owner(&self) -> Option<Uuid> {
        None
    }

    fn response(&self, _now: chrono::DateTime<chrono::Utc>) -> (ProductResponse, Tag) {
        (ProductResponse::from(self), self.version.into())
    }

    async fn refused(state: &AppState, organization_id: Uuid, next: &Self, error: RepoError) -> ApiError {
        duplicate_sku(state, organization_id, next, error).await
    }
}

impl Archivable for Product {
    const ARCHIVE_CODES: (ProblemCode, ProblemCode) = (ProblemCode::ProductArchived, ProblemCode::ProductNotArchived);
}

/// A taken SKU answers 409 naming the product that has it.
async fn duplicate_sku(state: &AppState, organization_id: Uuid, product: &Product, error: RepoError) -> ApiError {
    let RepoError::Duplicate { .. } = error else { return error.into() };
    match state.store.find_product_by_sku(organization_id, product.sku.as_str()).await {
        Ok(Some(existing)) => {
            ApiError::DuplicateOf { code: ProblemCode::Duplicate, field: "sku", existing_id: existing.id }
        }
        Ok(None) => {
            ApiError::Conflict { code: ProblemCode::Duplicate, detail: "sku: another product has this SKU".to_owned() }
        }
        Err(other) => other.into(),
    }
}

/// Add a product to the price book (managers and admins)
#[utoipa::path(
    tag = "products",
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "The product", body = ProductResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "Another product has this SKU; `existing_id` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/products")]
pub async fn create_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    may_change(&principal, Resource::PriceBook, None)?;
    let draft = body.0.try_into_domain()?;
    let product = Product::create(Uuid::now_v7(), principal.organization_id, principal.user_id, draft, now());
    if let Err(error) = state.store.insert_product(&product, &audit_context(&req, &principal)).await {
        return Err(duplicate_sku(&state, principal.organization_id, &product, error).await);
    }
    Ok(resource::created(&product, state.clock.now()))
}

/// Get a product
#[utoipa::path(
    tag = "products",
    params(("id" = Uuid, Path, description = "The product's id")),
    responses(
        (status = 200, description = "The product", body = ProductResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
    ),
    security(("bearer" = []))
)]
#[get("/products/{id}")]
pub async fn get_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resource::get::<Product>(&req, &state, &caller, id.into_inner()).await
}

/// Update a product (managers and admins)
#[utoipa::path(
    tag = "products",
    params(("id" = Uuid, Path, description = "The product's id")),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, description = "The updated product", body = ProductResponse, headers(("ETag" = String))),
        (status = 409, description = "Archived, or the SKU is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/products/{id}")]
pub async fn update_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Product>::begin(&req, &state, &caller, id.into_inner())?;
    let patch = body.0.try_into_domain()?;
    let product = edit
        .apply(AuditAction::Update, None, async |current: &Product| {
            current.apply(&patch, now()).map_err(|e| match e {
                ProductRuleError::Archived => ApiError::Conflict { code: ProblemCode::from(&e), detail: e.to_string() },
            })
        })
        .await?;
    Ok(resource::ok(&product, state.clock.now()))
}

/// Archive a product (managers and admins)
#[utoipa::path(
    tag = "products",
    params(("id" = Uuid, Path, description = "The product's id")),
    responses(
        (status = 200, description = "The archived product", body = ProductResponse, headers(("ETag" = String))),
        (status = 409, description = "Already archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/products/{id}")]
pub async fn archive_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Product>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Archive).await
}

/// Restore an archived product (managers and admins)
#[utoipa::path(
    tag = "products",
    params(("id" = Uuid, Path, description = "The product's id")),
    responses(
        (status = 200, description = "The restored product", body = ProductResponse, headers(("ETag" = String))),
        (status = 409, description = "Not archived", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/products/{id}/restore")]
pub async fn restore_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Edit::<Product>::begin(&req, &state, &caller, id.into_inner())?.archive_or_restore(AuditAction::Restore).await
}

/// List products
#[utoipa::path(
    tag = "products",
    params(ProductListQuery),
    responses((status = 200, description = "One page of products", body = ProductList)),
    security(("bearer" = []))
)]
#[get("/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ProductListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::PriceBook, Action::Read, true)?;
    let query = query.into_inner();
    let params = list_params::<ProductSortField>(
        query.sort.as_deref(),
        query.limit.as_deref(),
        query.cursor.as_deref(),
        "name",
    )?;
    let product_query = ProductQuery {
        active: parse_bool_param("active", query.active.as_deref())?,
        currency: query
            .currency
            .as_deref()
            .map(|c| Currency::parse("currency", c).map_err(field_to_bad_request))
            .transpose()?,
        search: parse_search(query.q.as_deref())?,
        archived: archived_filter(query.archived.as_deref())?,
        sort: params.sort,
        window: params.window,
    };
    let page = state.store.list_products(caller.0.organization_id, &product_query).await?;
    let next_cursor = next_cursor(&page, product_query.sort);
    Ok(Page::respond(page.items.iter().map(ProductResponse::from).collect(), next_cursor))
}
