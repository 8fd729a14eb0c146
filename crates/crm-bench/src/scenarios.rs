//! The named scenarios and the one request each sends. Requests vary their ids and bodies: ids
//! are drawn from a random sample of the seeded rows, writes create unique data, and updates
//! carry the version each worker last saw of its own leads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, NaiveDate};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::rng::Rng;

/// The scenarios, in the order a run measures them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    GetLead,
    ListLeads,
    ListLeadsDeep,
    SearchOneHit,
    SearchManyHits,
    FindByEmail,
    PipelineReport,
    ForecastReport,
    CreateLead,
    UpdateLead,
    ConvertLead,
    Mixed,
    CreateActivity,
    TimelineAccount,
    TimelineBigAccount,
    Reminders,
    AttentionOverdue,
    ActivityReport,
    CreateTicket,
    TicketQueue,
    TicketAttention,
    CommentTicket,
    TicketReport,
}

impl Scenario {
    pub const ALL: [Scenario; 23] = [
        Scenario::GetLead,
        Scenario::ListLeads,
        Scenario::ListLeadsDeep,
        Scenario::SearchOneHit,
        Scenario::SearchManyHits,
        Scenario::FindByEmail,
        Scenario::PipelineReport,
        Scenario::ForecastReport,
        Scenario::CreateLead,
        Scenario::UpdateLead,
        Scenario::ConvertLead,
        Scenario::Mixed,
        Scenario::CreateActivity,
        Scenario::TimelineAccount,
        Scenario::TimelineBigAccount,
        Scenario::Reminders,
        Scenario::AttentionOverdue,
        Scenario::ActivityReport,
        // The ticket reads first: the writes would add tens of thousands of new tickets to the
        // queues and the report's range before they are measured.
        Scenario::TicketQueue,
        Scenario::TicketAttention,
        Scenario::TicketReport,
        Scenario::CommentTicket,
        Scenario::CreateTicket,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GetLead => "get_lead",
            Scenario::ListLeads => "list_leads",
            Scenario::ListLeadsDeep => "list_leads_deep",
            Scenario::SearchOneHit => "search_one_hit",
            Scenario::SearchManyHits => "search_many_hits",
            Scenario::FindByEmail => "find_by_email",
            Scenario::PipelineReport => "pipeline_report",
            Scenario::ForecastReport => "forecast_report",
            Scenario::CreateLead => "create_lead",
            Scenario::UpdateLead => "update_lead",
            Scenario::ConvertLead => "convert_lead",
            Scenario::Mixed => "mixed",
            Scenario::CreateActivity => "create_activity",
            Scenario::TimelineAccount => "timeline_account",
            Scenario::TimelineBigAccount => "timeline_big_account",
            Scenario::Reminders => "reminders",
            Scenario::AttentionOverdue => "attention_overdue",
            Scenario::ActivityReport => "activity_report",
            Scenario::CreateTicket => "create_ticket",
            Scenario::TicketQueue => "ticket_queue",
            Scenario::TicketAttention => "ticket_attention",
            Scenario::CommentTicket => "comment_ticket",
            Scenario::TicketReport => "ticket_report",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scenario::GetLead => "GET /leads/{id}, a random seeded lead",
            Scenario::ListLeads => "GET /leads?status=…&sort=-created_at, first page of 50",
            Scenario::ListLeadsDeep => "the same list, a page of 50 behind cursors walked at setup",
            Scenario::SearchOneHit => "GET /leads?q=…: one lead's email, one hit at every scale",
            Scenario::SearchManyHits => {
                "GET /leads?q=…: a last name, matched by 1 lead in 450 (22 at 10,000, 2,200 at 1,000,000); the newest 50"
            }
            Scenario::FindByEmail => "GET /leads?email=…: one lead's email, matched exactly",
            Scenario::PipelineReport => "GET /reports/pipeline, unfiltered, by owner or by close dates",
            Scenario::ForecastReport => "GET /reports/forecast, a random quarter by month",
            Scenario::CreateLead => "POST /leads with a unique body",
            Scenario::UpdateLead => "PATCH /leads/{id} with If-Match; each worker edits its own leads",
            Scenario::ConvertLead => "POST /leads/{id}/convert: account, contact and opportunity",
            Scenario::Mixed => "80% reads (get, lists, search, pipeline), 20% writes (create, update)",
            Scenario::CreateActivity => {
                "POST /activities: a call nobody answered, logged on a random contact and its account"
            }
            Scenario::TimelineAccount => {
                "GET /accounts/{id}/timeline, first page of 50, a random ordinary account with some 60 items"
            }
            Scenario::TimelineBigAccount => {
                "GET /accounts/{id}/timeline, first page of 50, one of the accounts holding a tenth of the activities"
            }
            Scenario::Reminders => "GET /me/reminders: the admin's due reminders, overdue first, 50",
            Scenario::AttentionOverdue => "GET /accounts?attention=overdue, first page of 50, most overdue first",
            Scenario::ActivityReport => {
                "GET /reports/activities over the last 90 days, by owner, kind, outcome or week"
            }
            Scenario::CreateTicket => {
                "POST /tickets: a request of a random contact and its account, its deadlines computed from the SLA policy"
            }
            Scenario::TicketQueue => "GET /tickets?status=new,open&sort=resolution_due_at, first page of 50",
            Scenario::TicketAttention => {
                "GET /tickets?status=new,open&sla_status=at_risk,breached&sort=resolution_due_at, first page of 50"
            }
            Scenario::CommentTicket => "POST /tickets/{id}/comments: a public comment on a random active ticket",
            Scenario::TicketReport => "GET /reports/tickets over the last 90 days, by day, week or month",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the floor answers this scenario's request too.
    pub fn has_floor(self) -> bool {
        matches!(
            self,
            Scenario::GetLead
                | Scenario::ListLeads
                | Scenario::CreateLead
                | Scenario::CreateActivity
                | Scenario::CreateTicket
        )
    }

    /// Whether this scenario's answer needs work in proportion to the data: its p99 may grow
    /// with the data, no faster.
    pub fn grows_with_hits(self) -> bool {
        matches!(self, Scenario::SearchManyHits)
    }

    /// Whether the p99 of this scenario should stay flat as the data grows.
    pub fn should_scale_flat(self) -> bool {
        matches!(
            self,
            Scenario::ListLeads
                | Scenario::ListLeadsDeep
                | Scenario::SearchOneHit
                | Scenario::FindByEmail
                | Scenario::PipelineReport
                | Scenario::ForecastReport
                | Scenario::TimelineAccount
                | Scenario::TimelineBigAccount
                | Scenario::Reminders
                | Scenario::AttentionOverdue
                | Scenario::TicketQueue
                | Scenario::TicketAttention
        )
    }
}

/// One request kind; the mixed scenario draws one per request.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Get,
    List,
    Deep,
    SearchOne,
    SearchMany,
    ByEmail,
    Pipeline,
    Forecast,
    Create,
    Update,
    Convert,
    LogCall,
    Timeline,
    BigTimeline,
    Reminders,
    Attention,
    ActivityReport,
    OpenTicket,
    Queue,
    AttentionQueue,
    Comment,
    TicketReport,
}

const MIXED: [(Kind, u64); 8] = [
    (Kind::Get, 40),
    (Kind::List, 20),
    (Kind::Deep, 10),
    (Kind::SearchOne, 3),
    (Kind::SearchMany, 2),
    (Kind::Pipeline, 5),
    (Kind::Create, 10),
    (Kind::Update, 10),
];

const LIST_STATUSES: [&str; 4] = ["new", "contacted", "qualified", "unqualified"];

/// What the requests draw from, sampled from the seeded database and walked through the API.
#[derive(Debug, Default)]
pub struct Fixture {
    /// Any seeded leads (archived and converted ones included: a get answers them too).
    pub lead_ids: Vec<Uuid>,
    pub user_ids: Vec<Uuid>,
    /// Search texts: leads' emails (one match each) and last names (many matches).
    pub search_emails: Vec<String>,
    pub search_names: Vec<String>,
    /// Editable leads and their versions, for the update scenario and for the mixed one.
    pub update_pool: Vec<(Uuid, i64)>,
    pub mixed_pool: Vec<(Uuid, i64)>,
    /// Convertible leads; each is converted at most once.
    pub convert_pool: Vec<Uuid>,
    pub convert_next: AtomicUsize,
    /// `(status, cursor)` of pages deep in each status list.
    pub deep_cursors: Vec<(&'static str, String)>,
    pub today: Option<NaiveDate>,
    /// Contacts with their account, for logging calls.
    pub contacts: Vec<(Uuid, Option<Uuid>)>,
    /// Ordinary accounts with a full first timeline page, and the big ones (the most activities).
    pub account_ids: Vec<Uuid>,
    pub big_account_ids: Vec<Uuid>,
    /// Active tickets, for comments.
    pub ticket_ids: Vec<Uuid>,
}

/// Where requests go: the real server (with a token) or the floor.
#[derive(Clone, Debug)]
pub struct Target {
    pub base_url: String,
    pub token: Option<String>,
}

impl Target {
    fn is_floor(&self) -> bool {
        self.token.is_none()
    }
}

/// What the workers share.
pub struct Shared {
    pub client: Client,
    pub target: Target,
    pub fixture: Arc<Fixture>,
    /// Makes created emails unique across runs on the same database.
    pub nonce: String,
}

/// The result of one request.
pub enum Done {
    Ok,
    Failed(String),
    /// The scenario ran out of rows to use (only the conversion can).
    Exhausted,
}

/// One worker's own state.
pub struct Worker {
    pub index: usize,
    rng: Rng,
    /// This worker's slice of the update pool, with the versions it last saw.
    updates: Vec<(Uuid, i64)>,
    next_update: usize,
    sent: u64,
}

impl Worker {
    pub fn new(index: usize, workers: usize, scenario: Scenario, fixture: &Fixture, seed: u64) -> Self {
        let pool = if scenario == Scenario::Mixed { &fixture.mixed_pool } else { &fixture.update_pool };
        let updates = pool.iter().skip(index).step_by(workers.max(1)).copied().collect();
        Self { index, rng: Rng::new(seed ^ (index as u64) << 32), updates, next_update: 0, sent: 0 }
    }
}

fn date_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

impl Shared {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = if self.target.is_floor() {
            format!("{}{path}", self.target.base_url)
        } else {
            format!("{}/api/v1{path}", self.target.base_url)
        };
        let builder = self.client.request(method, url);
        match &self.target.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    fn today(&self) -> NaiveDate {
        self.fixture.today.unwrap_or_default()
    }

    /// Sends one request of `scenario` and reads the whole answer.
    pub async fn one(&self, scenario: Scenario, worker: &mut Worker) -> Done {
        let kind = match scenario {
            Scenario::GetLead => Kind::Get,
            Scenario::ListLeads => Kind::List,
            Scenario::ListLeadsDeep => Kind::Deep,
            Scenario::SearchOneHit => Kind::SearchOne,
            Scenario::FindByEmail => Kind::ByEmail,
            Scenario::SearchManyHits => Kind::SearchMany,
            Scenario::PipelineReport => Kind::Pipeline,
            Scenario::ForecastReport => Kind::Forecast,
            Scenario::CreateLead => Kind::Create,
            Scenario::UpdateLead => Kind::Update,
            Scenario::ConvertLead => Kind::Convert,
            Scenario::Mixed => worker.rng.weighted(&MIXED),
            Scenario::CreateActivity => Kind::LogCall,
            Scenario::TimelineAccount => Kind::Timeline,
            Scenario::TimelineBigAccount => Kind::BigTimeline,
            Scenario::Reminders => Kind::Reminders,
            Scenario::AttentionOverdue => Kind::Attention,
            Scenario::ActivityReport => Kind::ActivityReport,
            Scenario::CreateTicket => Kind::OpenTicket,
            Scenario::TicketQueue => Kind::Queue,
            Scenario::TicketAttention => Kind::AttentionQueue,
            Scenario::CommentTicket => Kind::Comment,
            Scenario::TicketReport => Kind::TicketReport,
        };
        worker.sent += 1;
        let Some(request) = self.build(kind, worker) else { return Done::Exhausted };
        let update = match kind {
            Kind::Update => Some(worker.next_update),
            _ => None,
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Done::Failed(format!("transport: {error}")),
        };
        let status = response.status();
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.bytes().await;
        if let Err(error) = body {
            return Done::Failed(format!("reading the body: {error}"));
        }
        if let Some(slot) = update {
            self.learn_version(worker, slot, status, etag.as_deref()).await;
        }
        if status.is_success() {
            Done::Ok
        } else {
            let body =
                body.map(|b| String::from_utf8_lossy(&b).chars().take(300).collect::<String>()).unwrap_or_default();
            Done::Failed(format!("{kind:?} answered {status}: {body}"))
        }
    }

    /// Keeps the version an update answered; after a failure, reads the lead again.
    async fn learn_version(&self, worker: &mut Worker, slot: usize, status: StatusCode, etag: Option<&str>) {
        let Some(entry) = worker.updates.get_mut(slot) else { return };
        let parsed = etag.and_then(|t| t.trim_matches('"').parse::<i64>().ok());
        if status.is_success()
            && let Some(version) = parsed
        {
            entry.1 = version;
            return;
        }
        let id = entry.0;
        if let Ok(response) = self.request(Method::GET, &format!("/leads/{id}")).send().await
            && let Some(version) = response
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.trim_matches('"').parse::<i64>().ok())
            && let Some(entry) = worker.updates.get_mut(slot)
        {
            entry.1 = version;
        }
    }

    fn build(&self, kind: Kind, worker: &mut Worker) -> Option<RequestBuilder> {
        let fixture = &self.fixture;
        let rng = &mut worker.rng;
        let floor = self.target.is_floor();
        Some(match kind {
            Kind::Get => {
                let id = rng.choose(&fixture.lead_ids)?;
                self.request(Method::GET, &format!("/leads/{id}"))
            }
            Kind::List => {
                let status = rng.pick(&LIST_STATUSES);
                let path = if floor {
                    format!("/leads?status={status}")
                } else {
                    format!("/leads?status={status}&sort=-created_at")
                };
                self.request(Method::GET, &path)
            }
            Kind::Deep => {
                let (status, cursor) = rng.choose(&fixture.deep_cursors)?;
                self.request(Method::GET, &format!("/leads?status={status}&sort=-created_at&cursor={cursor}"))
            }
            Kind::SearchOne => {
                let term = rng.choose(&fixture.search_emails)?;
                self.request(Method::GET, "/leads").query(&[("q", term.as_str())])
            }
            Kind::ByEmail => {
                let email = rng.choose(&fixture.search_emails)?;
                self.request(Method::GET, "/leads").query(&[("email", email.as_str())])
            }
            Kind::SearchMany => {
                let term = rng.choose(&fixture.search_names)?;
                self.request(Method::GET, "/leads").query(&[("q", term.as_str())])
            }
            Kind::Pipeline => {
                let today = self.today();
                match rng.below(3) {
                    0 => self.request(Method::GET, "/reports/pipeline"),
                    1 => {
                        let owner = rng.choose(&fixture.user_ids)?;
                        self.request(Method::GET, &format!("/reports/pipeline?owner_id={owner}"))
                    }
                    _ => {
                        let from = today + Duration::days(i64::try_from(rng.below(180)).unwrap_or(0) - 30);
                        let to = from + Duration::days(90);
                        self.request(Method::GET, "/reports/pipeline").query(&[
                            ("expected_close_after", date_text(from)),
                            ("expected_close_before", date_text(to)),
                        ])
                    }
                }
            }
            Kind::Forecast => {
                let from = self.today() + Duration::days(i64::try_from(rng.below(360)).unwrap_or(0) - 180);
                let to = from + Duration::days(91);
                self.request(Method::GET, "/reports/forecast").query(&[
                    ("from", date_text(from)),
                    ("to", date_text(to)),
                    ("interval", "month".to_owned()),
                ])
            }
            Kind::Create => {
                let n = worker.sent;
                let w = worker.index;
                let last = rng.pick_str(&["Lovelace", "Hopper", "Turing", "Lamarr", "Liskov", "Ritchie"]);
                let source = rng.pick_str(&["web", "referral", "partner", "webinar"]);
                let rating = rng.pick_str(&["hot", "warm", "cold"]);
                let body = json!({
                    "first_name": "Bench",
                    "last_name": format!("{last} {w}-{n}"),
                    "company": format!("Bench Co {}", rng.below(10_000)),
                    "email": format!("bench.{}.{w}.{n}@load.example", self.nonce),
                    "source": source,
                    "rating": rating,
                });
                self.request(Method::POST, "/leads").json(&body)
            }
            Kind::Update => {
                if worker.updates.is_empty() {
                    return None;
                }
                worker.next_update = (worker.next_update + 1) % worker.updates.len();
                let (id, version) = worker.updates[worker.next_update];
                let rating = rng.pick_str(&["hot", "warm", "cold"]);
                let body = json!({ "title": format!("Buyer {}", worker.sent), "rating": rating });
                self.request(Method::PATCH, &format!("/leads/{id}"))
                    .header("If-Match", format!("\"{version}\""))
                    .json(&body)
            }
            Kind::Convert => {
                let next = fixture.convert_next.fetch_add(1, Ordering::Relaxed);
                let id = fixture.convert_pool.get(next)?;
                let close = self.today() + Duration::days(i64::try_from(rng.below(180)).unwrap_or(0) + 1);
                let body = json!({
                    "opportunity": {
                        "name": format!("Bench deal {}", worker.sent),
                        "amount": {"amount": (rng.below(500) + 1) * 10_000, "currency": "EUR"},
                        "expected_close_date": date_text(close),
                    }
                });
                self.request(Method::POST, &format!("/leads/{id}/convert")).json(&body)
            }
            Kind::LogCall => {
                let (contact, account) = rng.choose(&fixture.contacts)?;
                let mut body = json!({
                    "kind": "call",
                    "direction": "outbound",
                    "subject": format!("Bench call {}", worker.sent),
                    "outcome": "no_answer",
                    "contact_id": contact,
                });
                if let Some(account) = account {
                    body["account_id"] = json!(account);
                }
                self.request(Method::POST, "/activities").json(&body)
            }
            Kind::Timeline => {
                let id = rng.choose(&fixture.account_ids)?;
                self.request(Method::GET, &format!("/accounts/{id}/timeline"))
            }
            Kind::BigTimeline => {
                let id = rng.choose(&fixture.big_account_ids)?;
                self.request(Method::GET, &format!("/accounts/{id}/timeline"))
            }
            Kind::Reminders => self.request(Method::GET, "/me/reminders"),
            Kind::Attention => self.request(Method::GET, "/accounts?attention=overdue"),
            Kind::ActivityReport => {
                let to = self.today();
                let from = to - Duration::days(90);
                let group_by = rng.pick_str(&["owner", "kind", "outcome", "week"]);
                self.request(Method::GET, "/reports/activities").query(&[
                    ("from", date_text(from)),
                    ("to", date_text(to)),
                    ("group_by", group_by.to_owned()),
                ])
            }
            Kind::OpenTicket => {
                let (contact, account) = rng.choose(&fixture.contacts)?;
                let mut body = json!({
                    "subject": format!("Bench request {}", worker.sent),
                    "contact_id": contact,
                    "category": rng.pick_str(&["question", "incident", "problem", "complaint"]),
                    "priority": rng.pick_str(&["low", "normal", "high", "urgent"]),
                    "channel": "email",
                });
                if let Some(account) = account {
                    body["account_id"] = json!(account);
                }
                self.request(Method::POST, "/tickets").json(&body)
            }
            Kind::Queue => self.request(Method::GET, "/tickets?status=new,open&sort=resolution_due_at"),
            Kind::AttentionQueue => {
                self.request(Method::GET, "/tickets?status=new,open&sla_status=at_risk,breached&sort=resolution_due_at")
            }
            Kind::Comment => {
                let id = rng.choose(&fixture.ticket_ids)?;
                let body = json!({"body": format!("Bench reply {}", worker.sent), "visibility": "public"});
                self.request(Method::POST, &format!("/tickets/{id}/comments")).json(&body)
            }
            Kind::TicketReport => {
                let to = self.today();
                let from = to - Duration::days(90);
                let period = rng.pick_str(&["day", "week", "month"]);
                self.request(Method::GET, "/reports/tickets").query(&[
                    ("from", date_text(from)),
                    ("to", date_text(to)),
                    ("period", period.to_owned()),
                ])
            }
        })
    }
}
