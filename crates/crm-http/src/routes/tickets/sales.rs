//! `POST /tickets/{id}/opportunity`: support hands an up-sell or a cross-sell to sales. The deal
//! is created for the ticket's customer, owned by sales (the account's owner unless named), and
//! linked both ways (`source_ticket_id` on the deal, `opportunity_ids` on the ticket) in one
//! transaction with an audit event on each.

use actix_web::{HttpRequest, HttpResponse, post, web};
use crm_domain::account::Account;
use crm_domain::contact::Contact;
use crm_domain::opportunity::{Opportunity, OpportunityDraft, OpportunityKind, TicketSource};
use crm_domain::product::Product;
use crm_domain::ticket::Ticket;
use crm_domain::value::Name;
use crm_domain::{FieldError, RepoError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::TicketResponse;
use super::handlers::ensure_active;
use crate::auth::Caller;
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::resource::{ApiRecord, Edit};
use crate::routes::opportunities::OpportunityResponse;
use crate::routes::values::MoneyDto;
use crate::schema::{fields, one_of};
use crate::state::AppState;

fn kind_schema() -> utoipa::openapi::schema::Object {
    one_of(&["upsell", "cross_sell"], false)
}

/// A deal for sales, found by support.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "upsell", "name": "50 more seats", "amount": {"amount": 1200000, "currency": "EUR"}}))]
pub struct HandToSalesRequest {
    /// `upsell` (more of what the customer has) or `cross_sell` (something else).
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Default "Upsell from T-000042" (or "Cross-sell from …").
    #[schema(schema_with = fields::optional_name)]
    pub name: Option<String>,
    pub amount: Option<MoneyDto>,
    /// The product support suggests.
    pub product_id: Option<Uuid>,
    /// The salesperson; default the account's owner (the contact's without an account). No
    /// reassign right is needed: the deal belongs to sales.
    pub owner_id: Option<Uuid>,
}

/// The new deal and the ticket that now lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandedToSales {
    pub opportunity: OpportunityResponse,
    pub ticket: TicketResponse,
}

/// Hand an up-sell or a cross-sell to sales
///
/// Creates an open opportunity (`prospecting`) for the ticket's account, or its contact when it
/// has no account, with `kind`, `source_ticket_id` and `source_product_id`, owned by sales; the
/// ticket lists it in `opportunity_ids`. Support agents, managers and admins may do it. A closed
/// or archived ticket refuses. `If-Match` names the ticket's version. Accepts `Idempotency-Key`.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = HandToSalesRequest,
    responses(
        (status = 201, description = "The deal, and the ticket as it now stands", body = HandedToSales, headers(("ETag" = String, description = "The ticket's version"), ("Location" = String, description = "The new opportunity"))),
        (status = 409, description = "The ticket is closed (`ticket_closed`), archived (`ticket_archived`), or already handed 50 deals to sales (`too_many_opportunities`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tickets/{id}/opportunity")]
pub async fn create_ticket_opportunity(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<HandToSalesRequest>,
) -> Result<HttpResponse, ApiError> {
    let edit = Edit::<Ticket>::begin(&req, &state, &caller, id.into_inner())?;
    let input = body.0;
    let organization_id = caller.0.organization_id;
    let mut errors = ValidationErrors::new();
    let kind = match input.kind.as_str() {
        "upsell" => Some(OpportunityKind::Upsell),
        "cross_sell" => Some(OpportunityKind::CrossSell),
        _ => {
            errors.push(FieldError::new("kind", "invalid_value", "must be one of: upsell, cross_sell"));
            None
        }
    };
    let name = input.name.as_deref().and_then(|v| errors.collect(Name::parse("name", v)));
    let amount = input.amount.as_ref().and_then(|m| m.parse("amount", &mut errors));
    errors.into_result()?;
    let Some(kind) = kind else { return Err(ValidationErrors::new().into()) };
    if let Some(product_id) = input.product_id {
        match state.store.get::<Product>(organization_id, product_id).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => return Err(ApiError::unknown_reference("product_id")),
            Err(other) => return Err(other.into()),
        }
    }
    let now = state.clock.now();
    let (ticket, opportunity) = edit
        .run(None, async |current: Ticket| {
            ensure_active(&current)?;
            // Sales owns the deal: the customer's owner unless one is named.
            let owner_id = match (input.owner_id, current.account_id, current.contact_id) {
                (Some(owner), _, _) => owner,
                (None, Some(account_id), _) => state.store.get::<Account>(organization_id, account_id).await?.owner_id,
                (None, None, Some(contact_id)) => {
                    state.store.get::<Contact>(organization_id, contact_id).await?.owner_id
                }
                (None, None, None) => caller.0.user_id,
            };
            let label = match kind {
                OpportunityKind::CrossSell => "Cross-sell",
                _ => "Upsell",
            };
            let draft = OpportunityDraft {
                name: name
                    .clone()
                    .unwrap_or_else(|| Name::from_trusted(format!("{label} from {}", current.number.number))),
                account_id: current.account_id,
                contact_id: current.contact_id,
                amount,
                stage: None,
                probability: None,
                expected_close_date: None,
                kind: Some(kind),
                lead_source: None,
                next_step: None,
                owner_id: Some(owner_id),
                description: None,
                custom_fields: None,
            };
            let (mut opportunity, stage) =
                Opportunity::create(Uuid::now_v7(), organization_id, caller.0.user_id, draft, now)?;
            opportunity.source = Some(TicketSource { ticket_id: current.id, product_id: input.product_id });
            let (next, changes) = current.link_opportunity(opportunity.id, now)?;
            match state
                .store
                .hand_to_sales((&next, current.version, &changes), &opportunity, &stage, edit.audit())
                .await
            {
                Ok(()) => Ok((next, opportunity)),
                Err(RepoError::MissingReference { .. }) => Err(ApiError::unknown_reference("owner_id")),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    let (ticket, tag) = ticket.response(now);
    let (opportunity, _) = opportunity.response(now);
    let location = format!("{}/{}", Opportunity::COLLECTION, opportunity.id);
    Ok(crate::respond::created(location, &HandedToSales { opportunity, ticket }, tag))
}
