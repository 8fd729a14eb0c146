//! The floor: the least a server on this stack (actix-web and sqlx on the same database, with
//! the same pool settings) can do to answer five of the API's requests with the server's own
//! SQL: fetch one lead by id and organisation, insert one lead, list one page of leads by status
//! newest first, insert one logged call, number and insert one support ticket (its deadlines
//! computed by the domain on the default SLA policy). No authentication, middleware, audit, validation or conventions. The real
//! server's throughput is reported as a fraction of the floor's.
//!
//! It runs as a child process (`crm-bench floor`) so that its memory and CPU are its own.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::types::Json;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::error::Result;

/// The server's column list for a lead (crm-persistence `LEAD_COLUMNS`).
const LEAD_COLUMNS: &str = "organization_id, id, first_name, last_name, company, title, email, phone, website, \
     source, source_detail, status, rating, owner_id, description, custom_fields, created_at, updated_at, created_by, \
     version, archived_at, converted_at, converted_account_id, converted_contact_id, converted_opportunity_id";

/// The server's lead INSERT (crm-persistence `insert_lead_row!`).
const INSERT_LEAD: &str = "INSERT INTO leads (organization_id, id, first_name, last_name, company, title, email, \
     phone, website, source, source_detail, status, rating, owner_id, description, custom_fields, created_at, \
     updated_at, version, archived_at, converted_at, converted_account_id, converted_contact_id, \
     converted_opportunity_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)";

/// The server's activity INSERT (crm-persistence `table!` for activities: the columns in its
/// order, then `created_at` and `created_by`).
const INSERT_ACTIVITY: &str = "INSERT INTO activities (organization_id, id, kind, direction, subject, body, status, \
     due_at, remind_at, alert_at, occurred_at, duration_minutes, outcome, priority, owner_id, lead_id, contact_id, \
     account_id, opportunity_id, participant_contact_ids, custom_fields, updated_at, version, archived_at, created_at, \
     created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
     $21, $22, $23, $24, $25, $26)";

/// The body of a logged call, as the benchmark sends it.
#[derive(Debug, Deserialize)]
struct NewCall {
    kind: String,
    direction: Option<String>,
    subject: String,
    outcome: Option<String>,
    contact_id: Option<Uuid>,
    account_id: Option<Uuid>,
}

/// A lead as JSON, timestamps formatted as the API formats them.
#[derive(Debug, Serialize)]
struct LeadJson {
    id: Uuid,
    first_name: Option<String>,
    last_name: String,
    company: Option<String>,
    title: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    source: Option<String>,
    source_detail: Option<String>,
    status: String,
    rating: Option<String>,
    owner_id: Uuid,
    description: Option<String>,
    custom_fields: serde_json::Value,
    created_at: String,
    updated_at: String,
    created_by: Uuid,
    version: i64,
    archived_at: Option<String>,
    converted_at: Option<String>,
    converted_account_id: Option<Uuid>,
    converted_contact_id: Option<Uuid>,
    converted_opportunity_id: Option<Uuid>,
}

/// One page of leads, serialised straight from the rows.
#[derive(Debug, Serialize)]
struct LeadPage {
    data: Vec<LeadJson>,
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

macro_rules! lead_from_row {
    ($Row:ty) => {
        impl<'r> sqlx::FromRow<'r, $Row> for LeadJson {
            fn from_row(row: &'r $Row) -> std::result::Result<Self, sqlx::Error> {
                use sqlx::Row;
                let at = |name: &str| row.try_get::<DateTime<Utc>, _>(name).map(timestamp);
                let maybe_at = |name: &str| row.try_get::<Option<DateTime<Utc>>, _>(name).map(|t| t.map(timestamp));
                Ok(Self {
                    id: row.try_get("id")?,
                    first_name: row.try_get("first_name")?,
                    last_name: row.try_get("last_name")?,
                    company: row.try_get("company")?,
                    title: row.try_get("title")?,
                    email: row.try_get("email")?,
                    phone: row.try_get("phone")?,
                    website: row.try_get("website")?,
                    source: row.try_get("source")?,
                    source_detail: row.try_get("source_detail")?,
                    status: row.try_get("status")?,
                    rating: row.try_get("rating")?,
                    owner_id: row.try_get("owner_id")?,
                    description: row.try_get("description")?,
                    custom_fields: row.try_get::<Json<serde_json::Value>, _>("custom_fields")?.0,
                    created_at: at("created_at")?,
                    updated_at: at("updated_at")?,
                    created_by: row.try_get("created_by")?,
                    version: row.try_get("version")?,
                    archived_at: maybe_at("archived_at")?,
                    converted_at: maybe_at("converted_at")?,
                    converted_account_id: row.try_get("converted_account_id")?,
                    converted_contact_id: row.try_get("converted_contact_id")?,
                    converted_opportunity_id: row.try_get("converted_opportunity_id")?,
                })
            }
        }
    };
}

lead_from_row!(SqliteRow);
lead_from_row!(PgRow);

/// The body of a floor create: the fields the create scenario sends.
#[derive(Debug, Deserialize)]
struct NewLead {
    first_name: Option<String>,
    last_name: String,
    company: Option<String>,
    email: Option<String>,
    source: Option<String>,
    rating: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListParams {
    status: String,
    limit: Option<i64>,
}

#[derive(Clone)]
enum Pool {
    /// Writers queue on a lock, as in the server: SQLite has one writer at a time.
    Sqlite(SqlitePool, Arc<Mutex<()>>),
    Postgres(PgPool),
}

#[derive(Clone)]
struct Floor {
    pool: Pool,
    organization_id: Uuid,
    user_id: Uuid,
    /// Whether each request first reads the caller's role, as the server's `Caller` does: an
    /// investigation of how much of the gap that query is.
    principal: bool,
}

/// The server's `find_principal` query.
const PRINCIPAL: &str = "SELECT role FROM users WHERE organization_id = $1 AND id = $2 AND active = TRUE";

impl Floor {
    async fn principal(&self) -> actix_web::Result<()> {
        if !self.principal {
            return Ok(());
        }
        let role: Option<(String,)> = match &self.pool {
            Pool::Sqlite(pool, _) => sqlx::query_as(PRINCIPAL)
                .bind(self.organization_id)
                .bind(self.user_id)
                .fetch_optional(pool)
                .await
                .map_err(internal)?,
            Pool::Postgres(pool) => sqlx::query_as(PRINCIPAL)
                .bind(self.organization_id)
                .bind(self.user_id)
                .fetch_optional(pool)
                .await
                .map_err(internal)?,
        };
        match role {
            Some(_) => Ok(()),
            None => Err(actix_web::error::ErrorUnauthorized("no such user")),
        }
    }
}

fn internal(error: sqlx::Error) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(error.to_string())
}

async fn get_lead(floor: web::Data<Floor>, id: web::Path<Uuid>) -> actix_web::Result<HttpResponse> {
    floor.principal().await?;
    let sql = format!("SELECT {LEAD_COLUMNS} FROM leads WHERE organization_id = $1 AND id = $2");
    let sql = sqlx::AssertSqlSafe(sql);
    let id = id.into_inner();
    let lead: Option<LeadJson> = match &floor.pool {
        Pool::Sqlite(pool, _) => {
            sqlx::query_as(sql).bind(floor.organization_id).bind(id).fetch_optional(pool).await.map_err(internal)?
        }
        Pool::Postgres(pool) => {
            sqlx::query_as(sql).bind(floor.organization_id).bind(id).fetch_optional(pool).await.map_err(internal)?
        }
    };
    Ok(match lead {
        Some(lead) => HttpResponse::Ok().json(lead),
        None => HttpResponse::NotFound().finish(),
    })
}

async fn list_leads(floor: web::Data<Floor>, params: web::Query<ListParams>) -> actix_web::Result<HttpResponse> {
    floor.principal().await?;
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE organization_id = $1 AND archived_at IS NULL AND status IN ($2) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    let limit = params.limit.unwrap_or(50) + 1;
    let status = params.status.clone();
    let leads: Vec<LeadJson> = match &floor.pool {
        Pool::Sqlite(pool, _) => sqlx::query_as(sql)
            .bind(floor.organization_id)
            .bind(status)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(internal)?,
        Pool::Postgres(pool) => sqlx::query_as(sql)
            .bind(floor.organization_id)
            .bind(status)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(internal)?,
    };
    Ok(HttpResponse::Ok().json(LeadPage { data: leads }))
}

macro_rules! bind_new_lead {
    ($query:expr, $floor:expr, $id:expr, $body:expr, $now:expr) => {
        $query
            .bind($floor.organization_id)
            .bind($id)
            .bind($body.first_name.clone())
            .bind($body.last_name.clone())
            .bind($body.company.clone())
            .bind(None::<String>)
            .bind($body.email.clone())
            .bind(None::<String>)
            .bind(None::<String>)
            .bind($body.source.clone())
            .bind(None::<String>)
            .bind("new")
            .bind($body.rating.clone())
            .bind($floor.user_id)
            .bind(None::<String>)
            .bind(Json(serde_json::json!({})))
            .bind($now)
            .bind($now)
            .bind(1_i64)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<Uuid>)
            .bind(None::<Uuid>)
            .bind(None::<Uuid>)
            .bind($floor.user_id)
    };
}

async fn create_lead(floor: web::Data<Floor>, body: web::Json<NewLead>) -> actix_web::Result<HttpResponse> {
    floor.principal().await?;
    let id = Uuid::now_v7();
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
    let body = body.into_inner();
    match &floor.pool {
        Pool::Sqlite(pool, lock) => {
            let _guard = lock.lock().await;
            bind_new_lead!(sqlx::query(INSERT_LEAD), floor, id, body, now).execute(pool).await.map_err(internal)?;
        }
        Pool::Postgres(pool) => {
            bind_new_lead!(sqlx::query(INSERT_LEAD), floor, id, body, now).execute(pool).await.map_err(internal)?;
        }
    }
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": id, "last_name": body.last_name, "first_name": body.first_name, "company": body.company,
        "email": body.email, "status": "new", "version": 1, "created_at": timestamp(now),
    })))
}

macro_rules! bind_new_call {
    ($query:expr, $floor:expr, $id:expr, $body:expr, $now:expr) => {
        $query
            .bind($floor.organization_id)
            .bind($id)
            .bind($body.kind.clone())
            .bind($body.direction.clone())
            .bind($body.subject.clone())
            .bind(None::<String>)
            .bind("done")
            .bind(None::<DateTime<Utc>>)
            .bind(None::<DateTime<Utc>>)
            .bind(None::<DateTime<Utc>>)
            .bind($now)
            .bind(None::<i64>)
            .bind($body.outcome.clone())
            .bind("normal")
            .bind($floor.user_id)
            .bind(None::<Uuid>)
            .bind($body.contact_id)
            .bind($body.account_id)
            .bind(None::<Uuid>)
            .bind(Json(Vec::<Uuid>::new()))
            .bind(Json(serde_json::json!({})))
            .bind($now)
            .bind(1_i64)
            .bind(None::<DateTime<Utc>>)
            .bind($now)
            .bind($floor.user_id)
    };
}

/// Inserts the row the server stores for a logged call (its triggers fire as for the server's).
async fn create_activity(floor: web::Data<Floor>, body: web::Json<NewCall>) -> actix_web::Result<HttpResponse> {
    floor.principal().await?;
    let id = Uuid::now_v7();
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
    let body = body.into_inner();
    match &floor.pool {
        Pool::Sqlite(pool, lock) => {
            let _guard = lock.lock().await;
            bind_new_call!(sqlx::query(INSERT_ACTIVITY), floor, id, body, now).execute(pool).await.map_err(internal)?;
        }
        Pool::Postgres(pool) => {
            bind_new_call!(sqlx::query(INSERT_ACTIVITY), floor, id, body, now).execute(pool).await.map_err(internal)?;
        }
    }
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": id, "kind": body.kind, "subject": body.subject, "status": "done", "outcome": body.outcome,
        "contact_id": body.contact_id, "account_id": body.account_id, "version": 1, "occurred_at": timestamp(now),
    })))
}

/// The body of a new ticket, as the benchmark sends it.
#[derive(Debug, Deserialize)]
struct NewTicket {
    subject: String,
    contact_id: Option<Uuid>,
    account_id: Option<Uuid>,
    category: String,
    priority: String,
    channel: String,
}

/// The server's ticket INSERT: the columns of the seed's [`crate::seed::TICKET_COLUMNS`] (the
/// server's `table!` for tickets, in another order), bound by `bind_ticket!` in that order.
static INSERT_TICKET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let columns = crate::seed::TICKET_COLUMNS;
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!("INSERT INTO tickets ({}) VALUES ({})", columns.join(", "), placeholders.join(", "))
});

/// The server's next-number statement (crm-persistence `next_number!`).
const NEXT_TICKET_NUMBER: &str = "INSERT INTO document_counters (organization_id, kind, last_value) \
     VALUES ($1, 'ticket', 1) ON CONFLICT (organization_id, kind) \
     DO UPDATE SET last_value = document_counters.last_value + 1 RETURNING last_value";

/// Binds a ticket's columns in the order of [`crate::seed::TICKET_COLUMNS`].
macro_rules! bind_ticket {
    ($query:expr, $t:expr) => {{
        let t: &crm_domain::ticket::Ticket = $t;
        let marks = t.sla_marks();
        let text = |v: &Option<crm_domain::value::LongText>| v.as_ref().map(|v| v.as_str().to_owned());
        $query
            .bind(t.organization_id)
            .bind(t.id)
            .bind(t.number.sequence)
            .bind(t.number.number.clone())
            .bind(t.subject.as_str().to_owned())
            .bind(text(&t.description))
            .bind(t.contact_id)
            .bind(t.account_id)
            .bind(t.opportunity_id)
            .bind(t.order_id)
            .bind(t.product_id)
            .bind(t.category.as_str())
            .bind(t.priority.as_str())
            .bind(t.status.as_str())
            .bind(t.channel.as_str())
            .bind(t.owner_id)
            .bind(Json(t.tags.as_slice().to_vec()))
            .bind(Json(serde_json::json!({})))
            .bind(text(&t.pending_reason))
            .bind(text(&t.resolution))
            .bind(t.first_responded_at)
            .bind(t.solved_at)
            .bind(t.closes_at)
            .bind(t.closed_at)
            .bind(Json(t.opportunity_ids.clone()))
            .bind(t.reopened_count)
            .bind(t.sla.first_response_due_at)
            .bind(t.sla.first_response_at_risk_at)
            .bind(t.sla.resolution_due_at)
            .bind(t.sla.resolution_at_risk_at)
            .bind(t.sla.resolution_started_at)
            .bind(t.sla.paused_business_seconds)
            .bind(t.sla.paused_calendar_seconds)
            .bind(t.sla.paused_at)
            .bind(t.sla.first_response_missed)
            .bind(t.sla.resolution_missed)
            .bind(t.sla.first_response_business_seconds)
            .bind(t.sla.resolution_business_seconds)
            .bind(marks.risk_at)
            .bind(marks.breach_at)
            .bind(marks.missed)
            .bind(marks.alert_at(t.created_at))
            .bind(t.created_at)
            .bind(t.updated_at)
            .bind(t.created_by)
            .bind(t.version)
            .bind(t.archived_at)
    }};
}

/// The ticket the server would store for `body` at `now` on the default SLA policy.
fn new_ticket(floor: &Floor, body: NewTicket, now: DateTime<Utc>) -> actix_web::Result<crm_domain::ticket::Ticket> {
    use crm_domain::ticket::{Ticket, TicketCategory, TicketChannel, TicketDraft, TicketPriority};
    let bad = |e: crm_domain::FieldError| actix_web::error::ErrorBadRequest(e.message);
    let draft = TicketDraft {
        subject: crm_domain::value::Name::parse("subject", &body.subject).map_err(bad)?,
        description: None,
        contact_id: body.contact_id,
        account_id: body.account_id,
        opportunity_id: None,
        order_id: None,
        product_id: None,
        category: TicketCategory::parse("category", &body.category).map_err(bad)?,
        priority: TicketPriority::parse("priority", &body.priority).map_err(bad)?,
        channel: TicketChannel::parse("channel", &body.channel).map_err(bad)?,
        owner_id: None,
        tags: crm_domain::address::Tags::default(),
        custom_fields: crm_domain::value::CustomFields::empty(),
    };
    let number = crm_domain::quote::DocumentNumber::new(crm_domain::quote::DocumentKind::Ticket, 0);
    let policy = crm_domain::sla::SlaPolicy::default();
    Ticket::create(Uuid::now_v7(), floor.organization_id, number, floor.user_id, draft, &policy, now)
        .map_err(|e| actix_web::error::ErrorBadRequest(e.to_string()))
}

/// Numbers and inserts the row the server stores for a new ticket, in one transaction (its
/// triggers fire as for the server's).
async fn create_ticket(floor: web::Data<Floor>, body: web::Json<NewTicket>) -> actix_web::Result<HttpResponse> {
    floor.principal().await?;
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
    let mut ticket = new_ticket(&floor, body.into_inner(), now)?;
    let sql = sqlx::AssertSqlSafe(INSERT_TICKET.as_str());
    // The number and the row in one transaction, as the server's `insert_numbered`.
    macro_rules! number_and_insert {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.map_err(internal)?;
            let (sequence,): (i64,) = sqlx::query_as(NEXT_TICKET_NUMBER)
                .bind(floor.organization_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(internal)?;
            ticket.number = crm_domain::quote::DocumentNumber::new(crm_domain::quote::DocumentKind::Ticket, sequence);
            bind_ticket!(sqlx::query(sql), &ticket).execute(&mut *tx).await.map_err(internal)?;
            tx.commit().await.map_err(internal)?;
        }};
    }
    match &floor.pool {
        Pool::Sqlite(pool, lock) => {
            let _guard = lock.lock().await;
            number_and_insert!(pool);
        }
        Pool::Postgres(pool) => number_and_insert!(pool),
    }
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": ticket.id, "number": ticket.number.number, "subject": ticket.subject.as_str(), "status": "new",
        "first_response_due_at": timestamp(ticket.sla.first_response_due_at),
        "resolution_due_at": timestamp(ticket.sla.resolution_due_at), "version": 1, "created_at": timestamp(now),
    })))
}

async fn ready() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Connects with the server's pool settings: on SQLite WAL, `synchronous = NORMAL`, foreign keys
/// on, a 10-second busy timeout and 2 to 8 connections; on PostgreSQL `max_connections`.
async fn connect(url: &str, max_connections: u32) -> Result<Pool> {
    let acquire = Duration::from_secs(3);
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.clamp(2, 8))
            .acquire_timeout(acquire)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool, Arc::new(Mutex::new(()))))
    } else {
        let pool = PgPoolOptions::new().max_connections(max_connections).acquire_timeout(acquire).connect(url).await?;
        Ok(Pool::Postgres(pool))
    }
}

/// Serves the floor on `bind` until the process is killed.
pub async fn serve(
    bind: &str,
    url: &str,
    organization_id: Uuid,
    user_id: Uuid,
    max_connections: u32,
    principal: bool,
) -> Result<()> {
    let floor = Floor { pool: connect(url, max_connections).await?, organization_id, user_id, principal };
    let data = web::Data::new(floor);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/ready", web::get().to(ready))
            .route("/leads", web::get().to(list_leads))
            .route("/leads", web::post().to(create_lead))
            .route("/leads/{id}", web::get().to(get_lead))
            .route("/activities", web::post().to(create_activity))
            .route("/tickets", web::post().to(create_ticket))
    })
    .bind(bind)?
    .run()
    .await?;
    Ok(())
}
