//! `POST /api/v1/leads/{id}/convert`: a lead becomes an account (for a company), a contact and,
//! unless asked otherwise, an opportunity, in one transaction. `?dry_run=true` answers the plan
//! and the likely duplicates without writing anything.

use actix_web::{HttpRequest, HttpResponse, post, web};
use crm_domain::account::Account;
use crm_domain::contact::Contact;
use crm_domain::conversion::{ConversionError, ConversionRequest, NewIds, OpportunityRequest, plan};
use crm_domain::lead::Lead;
use crm_domain::opportunity::{Opportunity, OpportunityStage};
use crm_domain::permissions::{Action, Resource, authorize, may_change};
use crm_domain::value::Name;
use crm_domain::{RepoError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::LeadResponse;
use crate::auth::Caller;
use crate::conventions::{now, parse_bool_param};
use crate::extract::{double_option, parse_optional_json};
use crate::problem::{ApiError, Problem, ProblemCode};
use crate::resource::Edit;
use crate::routes::accounts::AccountResponse;
use crate::routes::contacts::ContactResponse;
use crate::routes::opportunities::OpportunityResponse;
use crate::routes::values::MoneyDto;
use crate::schema::fields;
use crate::state::AppState;

/// The opportunity to create; absent fields take defaults (the company's or the person's name,
/// `prospecting`, the lead's source).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ConvertOpportunity {
    #[schema(schema_with = fields::optional_name)]
    pub name: Option<String>,
    pub amount: Option<MoneyDto>,
    #[schema(schema_with = crate::routes::opportunities::date_schema)]
    pub expected_close_date: Option<String>,
    #[schema(schema_with = crate::routes::opportunities::open_stage_schema)]
    pub stage: Option<String>,
}
crate::extract::object_only!(ConvertOpportunity);

/// How to convert. Every field is optional; an empty body converts with defaults.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"account_id": null, "opportunity": {"name": "Engines 2027", "amount": {"amount": 5000000, "currency": "EUR"}, "stage": "qualification"}}))]
pub struct ConvertLeadRequest {
    /// Merge into this account (only its empty website and phone are filled) instead of creating one.
    pub account_id: Option<Uuid>,
    /// Merge into this contact (only its empty fields are filled) instead of creating one.
    pub contact_id: Option<Uuid>,
    /// The opportunity to create; `null` creates none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ConvertOpportunity>)]
    pub opportunity: Option<Option<ConvertOpportunity>>,
}

/// Likely duplicates of what the conversion would create.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionDuplicates {
    /// Active contacts with the lead's email.
    pub contacts: Vec<ContactResponse>,
    /// Active accounts named like the lead's company.
    pub accounts: Vec<AccountResponse>,
}

/// Every record the conversion created, merged into or (in a dry run) would.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionResponse {
    pub lead: LeadResponse,
    /// `null` for a person buying for themselves.
    pub account: Option<AccountResponse>,
    pub contact: ContactResponse,
    /// `null` when the body asked for none.
    pub opportunity: Option<OpportunityResponse>,
    pub dry_run: bool,
    /// How many of the lead's activities moved onto the contact, account and opportunity (in a
    /// dry run: would move): those that named no contact and no deal, and no account or the
    /// conversion's. They keep `lead_id`, so the lead's history still shows them.
    #[schema(example = 3)]
    pub activities_moved: u64,
    /// Only in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<ConversionDuplicates>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConvertQuery {
    /// `true`: answer the plan and likely duplicates without writing anything.
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub dry_run: Option<String>,
}

impl From<ConversionError> for ApiError {
    fn from(error: ConversionError) -> Self {
        match error {
            ConversionError::Lead(e) => e.into(),
            ConversionError::Opportunity(e) => e.into(),
            ConversionError::AccountArchived => {
                ApiError::Conflict { code: ProblemCode::AccountArchived, detail: error.to_string() }
            }
            ConversionError::ContactArchived => {
                ApiError::Conflict { code: ProblemCode::ContactArchived, detail: error.to_string() }
            }
        }
    }
}

fn opportunity_request(
    raw: Option<Option<ConvertOpportunity>>,
) -> Result<Option<OpportunityRequest>, ValidationErrors> {
    let Some(wanted) = raw.unwrap_or(Some(ConvertOpportunity::default())) else { return Ok(None) };
    let mut errors = ValidationErrors::new();
    let name = wanted.name.as_deref().and_then(|v| errors.collect(Name::parse("opportunity.name", v)));
    let amount = wanted.amount.as_ref().and_then(|m| m.parse("opportunity.amount", &mut errors));
    let expected_close_date = wanted
        .expected_close_date
        .as_deref()
        .and_then(|v| errors.collect(crate::routes::opportunities::parse_date("opportunity.expected_close_date", v)));
    let stage =
        wanted.stage.as_deref().and_then(|v| errors.collect(OpportunityStage::parse_open("opportunity.stage", v)));
    errors.into_result()?;
    Ok(Some(OpportunityRequest { name, amount, expected_close_date, stage }))
}

/// Convert a lead
///
/// In one transaction: a lead with a company becomes an account (or is merged into `account_id`)
/// and a contact under it; a lead without one becomes a contact alone (or is merged into
/// `contact_id`); an opportunity is created unless `"opportunity": null`. The lead becomes
/// `converted`. A merge only fills the target's empty fields. Converting a converted or archived
/// lead answers 409. With `Idempotency-Key`, a retry converts once.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id"), ConvertQuery),
    request_body(content = Option<ConvertLeadRequest>, description = "Optional: merges and the opportunity to create"),
    responses(
        (status = 200, description = "What the conversion created or merged into (or would, in a dry run)", body = ConversionResponse),
        (status = 409, description = "The lead is converted or archived, a merge target is archived, or a new contact's email is taken (`existing_id` names the contact)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leads/{id}/convert")]
pub async fn convert_lead(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<ConvertQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    authorize(principal.role, Resource::SalesRecord, Action::Create, true)?;
    let id = id.into_inner();
    let dry_run = parse_bool_param("dry_run", query.dry_run.as_deref())?.unwrap_or(false);
    let edit = Edit::<Lead>::begin(&req, &state, &caller, id)?;
    let request: ConvertLeadRequest = parse_optional_json(&req, &body)?;
    let opportunity = opportunity_request(request.opportunity)?;
    let organization_id = principal.organization_id;
    let account = match request.account_id {
        None => None,
        Some(account_id) => match state.store.get::<Account>(organization_id, account_id).await {
            Ok(account) => Some(account),
            Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("account_id")),
            Err(other) => return Err(other.into()),
        },
    };
    let contact = match request.contact_id {
        None => None,
        Some(contact_id) => match state.store.get::<Contact>(organization_id, contact_id).await {
            Ok(contact) => Some(contact),
            Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("contact_id")),
            Err(other) => return Err(other.into()),
        },
    };
    if let Some(account) = &account {
        may_change(&principal, Resource::SalesRecord, Some(account.owner_id))?;
    }
    if let Some(contact) = &contact {
        may_change(&principal, Resource::SalesRecord, Some(contact.owner_id))?;
    }
    let conversion = ConversionRequest { account, contact, opportunity };
    // Drawn once: a retry after a lost race creates nothing twice, so it may reuse them.
    let new_ids = NewIds { account: Uuid::now_v7(), contact: Uuid::now_v7(), opportunity: Uuid::now_v7() };
    let mut duplicates = None;
    let (planned, activities_moved) = edit
        .run(None, async |lead: Lead| {
            let planned = plan(&lead, conversion.clone(), principal.user_id, new_ids, now())?;
            if dry_run {
                let moved =
                    state.store.count_moved_activities(organization_id, &planned.moved_activity_links()).await?;
                return Ok((planned, moved));
            }
            let moved = match state.store.apply_conversion(&planned, edit.audit()).await {
                Ok(moved) => moved,
                Err(error) => {
                    return Err(match (error, &lead.email) {
                        (RepoError::Duplicate { .. }, Some(email)) => {
                            match state.store.find_active_contact_by_email(organization_id, email).await? {
                                Some(existing) => ApiError::DuplicateOf {
                                    code: ProblemCode::Duplicate,
                                    field: "email",
                                    existing_id: existing.id,
                                },
                                None => ApiError::Conflict {
                                    code: ProblemCode::Duplicate,
                                    detail: "email: another active contact has this email".to_owned(),
                                },
                            }
                        }
                        (other, _) => other.into(),
                    });
                }
            };
            Ok((planned, moved))
        })
        .await?;
    if dry_run {
        let contacts = match &planned.lead.email {
            Some(email) => {
                state.store.find_active_contact_by_email(organization_id, email).await?.into_iter().collect()
            }
            None => Vec::new(),
        };
        let accounts = match &planned.lead.company {
            Some(company) => state.store.find_accounts_by_name(organization_id, company.as_str()).await?,
            None => Vec::new(),
        };
        duplicates = Some(ConversionDuplicates {
            contacts: contacts.iter().map(ContactResponse::from).collect(),
            accounts: accounts.iter().map(AccountResponse::from).collect(),
        });
    }
    let mut account = planned.account.as_ref().map(|a| a.record().clone());
    let mut contact = planned.contact.record().clone();
    let mut opportunity = planned.opportunity.as_ref().map(|(o, _)| o.clone());
    if activities_moved > 0 && !dry_run {
        // The moved activities changed what these records show (their last and next
        // interaction, and so their version): answer them as stored.
        contact = state.store.get::<Contact>(organization_id, contact.id).await?;
        if let Some(a) = &account {
            account = Some(state.store.get::<Account>(organization_id, a.id).await?);
        }
        if let Some(o) = &opportunity {
            opportunity = Some(state.store.get::<Opportunity>(organization_id, o.id).await?);
        }
    }
    Ok(HttpResponse::Ok().json(ConversionResponse {
        lead: LeadResponse::from(&planned.lead),
        account: account.as_ref().map(AccountResponse::from),
        contact: ContactResponse::from(&contact),
        opportunity: opportunity.as_ref().map(OpportunityResponse::from),
        dry_run,
        activities_moved,
        duplicates,
    }))
}
