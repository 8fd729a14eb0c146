//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthResponse)), security(()))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// Readiness: the database answers
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = HealthResponse), (status = 503, description = "The database is unreachable", body = crate::problem::Problem, content_type = "application/problem+json")),
    security(())
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await?;
    Ok(HttpResponse::Ok().json(HealthResponse { status: "ok" }))
}
