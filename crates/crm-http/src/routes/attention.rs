//! Attention by class of customer: the organisation's policy (`/settings/attention`) and who is
//! overdue under it (`/reports/attention`; `attention=overdue` on the account and contact lists).

use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use crm_domain::ValidationErrors;
use crm_domain::account::{AccountTier, LifecycleStage};
use crm_domain::attention::{AttentionPatch, AttentionPolicy, OverdueGroup, Period, TierClass, parse_days};
use crm_domain::permissions::{Action, Resource, authorize};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::conventions::{IfMatch, if_match, now, timestamp};
use crate::extract::{JsonBody, double_option, object_only};
use crate::problem::ApiError;
use crate::respond::{self, audit_context, update_with_retry};
use crate::state::AppState;

/// Days between interactions for each tier of account (`none`: accounts without a tier);
/// `null`: no expectation, never overdue.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierPeriodsDto {
    #[schema(minimum = 1, maximum = 3650, example = 14)]
    pub a: Option<u32>,
    #[schema(minimum = 1, maximum = 3650, example = 30)]
    pub b: Option<u32>,
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    pub c: Option<u32>,
    #[schema(minimum = 1, maximum = 3650)]
    pub none: Option<u32>,
}

/// Days between interactions for people buying for themselves (contacts without an account), by
/// lifecycle stage; `null`: no expectation. A contact of an account is followed through its
/// account.
#[derive(Debug, Serialize, ToSchema)]
pub struct StagePeriodsDto {
    #[schema(minimum = 1, maximum = 3650, example = 14)]
    pub prospect: Option<u32>,
    #[schema(minimum = 1, maximum = 3650, example = 30)]
    pub customer: Option<u32>,
    #[schema(minimum = 1, maximum = 3650, example = 180)]
    pub former_customer: Option<u32>,
    #[schema(minimum = 1, maximum = 3650, example = 30)]
    pub partner: Option<u32>,
}

/// How often each class of customer should hear from the organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionPolicyResponse {
    pub tiers: TierPeriodsDto,
    pub lifecycle_stages: StagePeriodsDto,
    pub version: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&AttentionPolicy> for AttentionPolicyResponse {
    fn from(p: &AttentionPolicy) -> Self {
        Self {
            tiers: TierPeriodsDto { a: p.tiers.a, b: p.tiers.b, c: p.tiers.c, none: p.tiers.untiered },
            lifecycle_stages: StagePeriodsDto {
                prospect: p.stages.prospect,
                customer: p.stages.customer,
                former_customer: p.stages.former_customer,
                partner: p.stages.partner,
            },
            version: p.version,
            updated_at: timestamp(p.updated_at),
        }
    }
}

/// The tiers to change: a number of days (1 to 3,650) or `null` for no expectation; absent
/// tiers keep theirs.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct TierPeriodsPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub a: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub b: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub c: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub none: Option<Option<i64>>,
}
object_only!(TierPeriodsPatch);

/// The lifecycle stages to change, as for the tiers.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct StagePeriodsPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub prospect: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub customer: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub former_customer: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 3650)]
    pub partner: Option<Option<i64>>,
}
object_only!(StagePeriodsPatch);

/// A change to the attention policy; what is absent keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tiers": {"a": 7, "none": 180}, "lifecycle_stages": {"former_customer": null}}))]
pub struct AttentionPatchRequest {
    pub tiers: Option<TierPeriodsPatch>,
    pub lifecycle_stages: Option<StagePeriodsPatch>,
}

/// One period of the body: `None` absent, `Some(None)` cleared, `Some(Some(days))` set.
fn period(errors: &mut ValidationErrors, field: &str, raw: Option<Option<i64>>) -> Option<Period> {
    match raw? {
        None => Some(None),
        Some(days) => errors.collect(parse_days(field, days)).map(Some),
    }
}

impl AttentionPatchRequest {
    fn try_into_domain(self) -> Result<AttentionPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut patch = AttentionPatch::default();
        let tiers = self.tiers.unwrap_or_default();
        let named_tiers: [(TierClass, &str, Option<Option<i64>>); 4] = [
            (Some(AccountTier::A), "tiers.a", tiers.a),
            (Some(AccountTier::B), "tiers.b", tiers.b),
            (Some(AccountTier::C), "tiers.c", tiers.c),
            (None, "tiers.none", tiers.none),
        ];
        for (tier, field, raw) in named_tiers {
            if let Some(p) = period(&mut errors, field, raw) {
                patch.tiers.push((tier, p));
            }
        }
        let stages = self.lifecycle_stages.unwrap_or_default();
        let named_stages = [
            (LifecycleStage::Prospect, "lifecycle_stages.prospect", stages.prospect),
            (LifecycleStage::Customer, "lifecycle_stages.customer", stages.customer),
            (LifecycleStage::FormerCustomer, "lifecycle_stages.former_customer", stages.former_customer),
            (LifecycleStage::Partner, "lifecycle_stages.partner", stages.partner),
        ];
        for (stage, field, raw) in named_stages {
            if let Some(p) = period(&mut errors, field, raw) {
                patch.stages.push((stage, p));
            }
        }
        errors.into_result()?;
        Ok(patch)
    }
}

/// The attention policy
///
/// How often each class of customer should hear from the organisation: each tier of account,
/// and each lifecycle stage of a person buying for themselves. A customer whose last
/// interaction is older than its class allows, or who was never reached, is overdue
/// (`GET /accounts?attention=overdue`, `GET /contacts?attention=overdue`,
/// `GET /reports/attention`). Defaults: tiers a 14 days, b 30, c 90, untiered no expectation;
/// prospects 14, customers 30, partners 30, former customers 180. Every role reads it.
#[utoipa::path(
    tag = "settings",
    responses((status = 200, body = AttentionPolicyResponse, headers(("ETag" = String))), (status = 304, description = "Not modified")),
    security(("bearer" = []))
)]
#[get("/settings/attention")]
pub async fn get_attention_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::Settings, Action::Read, true)?;
    let policy = state.store.attention_policy(caller.0.organization_id).await?;
    respond::read(&req, &AttentionPolicyResponse::from(&policy), policy.version)
}

/// Change the attention policy (admins and managers)
///
/// Sets the periods named in the body (`null`: no expectation) and, in the same transaction,
/// recomputes when each account (or person buying for themselves) of a changed class is due,
/// so that the overdue lists follow at once; in a large organisation this rewrites every
/// account of it. An audit event (`attention_policy`) records the periods that changed; a body
/// that changes nothing leaves the version as it is. With `If-Match`, a stale version answers
/// 412.
#[utoipa::path(
    tag = "settings",
    request_body = AttentionPatchRequest,
    responses((status = 200, body = AttentionPolicyResponse, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/settings/attention")]
pub async fn update_attention_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<AttentionPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::Settings, Action::Update, true)?;
    let patch = body.0.try_into_domain()?;
    let condition: IfMatch = if_match(&req)?;
    let audit = audit_context(&req, &principal);
    let organization_id = principal.organization_id;
    let policy = update_with_retry(
        &condition,
        async || Ok(state.store.attention_policy(organization_id).await?),
        |p: &AttentionPolicy| p.version,
        async |current: AttentionPolicy| {
            let (next, changes, recompute) = current.apply(&patch, now());
            if !changes.is_empty() {
                state.store.save_attention_policy(&next, current.version, &changes, recompute, &audit).await?;
            }
            Ok(next)
        },
    )
    .await?;
    Ok(respond::with_etag(actix_web::http::StatusCode::OK, &AttentionPolicyResponse::from(&policy), policy.version))
}

/// The overdue customers of one class and owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueLine {
    /// The tier (`a`, `b`, `c`, or `null` for accounts without one) or, for people, the
    /// lifecycle stage.
    pub class: Option<String>,
    pub owner_id: Uuid,
    /// How many are overdue.
    pub overdue: i64,
    /// When the most overdue of them fell due.
    #[schema(format = DateTime)]
    pub oldest_due_at: String,
}

impl From<&OverdueGroup> for OverdueLine {
    fn from(g: &OverdueGroup) -> Self {
        Self {
            class: g.class.clone(),
            owner_id: g.owner_id,
            overdue: g.overdue,
            oldest_due_at: timestamp(g.oldest_due_at),
        }
    }
}

/// Who is overdue for attention, now.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionReportResponse {
    #[schema(format = DateTime)]
    pub as_of: String,
    /// Active accounts, by tier (in tier order, untiered last) and owner.
    pub accounts: Vec<OverdueLine>,
    /// Active people buying for themselves, by lifecycle stage and owner.
    pub contacts: Vec<OverdueLine>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttentionReportParams {}

/// Attention report
///
/// The active accounts and people buying for themselves whose last interaction is older than
/// their class allows under the attention policy (or who were never reached), counted by class
/// and owner, with when the most overdue of each group fell due. Classes and owners with nobody
/// overdue are left out. Read from the stored due dates: one index range however many
/// customers the organisation holds.
#[utoipa::path(
    tag = "reports",
    params(AttentionReportParams),
    responses((status = 200, body = AttentionReportResponse)),
    security(("bearer" = []))
)]
#[get("/reports/attention")]
pub async fn attention_report(
    state: web::Data<AppState>,
    caller: Caller,
    _params: web::Query<AttentionReportParams>,
) -> Result<HttpResponse, ApiError> {
    authorize(caller.0.role, Resource::SalesRecord, Action::Read, true)?;
    let as_of = now();
    let report = state.store.attention_report(caller.0.organization_id, as_of).await?;
    Ok(HttpResponse::Ok().json(AttentionReportResponse {
        as_of: timestamp(as_of),
        accounts: report.accounts.iter().map(OverdueLine::from).collect(),
        contacts: report.contacts.iter().map(OverdueLine::from).collect(),
    }))
}

/// `attention=overdue` on the account and contact lists: the instant they are overdue before,
/// and the list's default sort (`attention_due_at`, most overdue first, with the filter; else
/// `usual`).
///
/// # Errors
/// 400 on any other value.
pub fn attention_filter(
    raw: Option<&str>,
    usual: &'static str,
) -> Result<(Option<chrono::DateTime<chrono::Utc>>, &'static str), ApiError> {
    match raw {
        None => Ok((None, usual)),
        Some("overdue") => Ok((Some(now()), "attention_due_at")),
        Some(_) => Err(ApiError::bad_param("attention", "invalid_value", "must be: overdue")),
    }
}

/// The schema of the `attention` list parameter.
pub fn attention_schema() -> utoipa::openapi::schema::Object {
    crate::schema::one_of(&["overdue"], false)
}

pub fn routes(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(get_attention_policy).service(update_attention_policy).service(attention_report);
}
