//! The seed generator: fills one organisation with realistic sales data at a given scale, by bulk
//! insertion (multi-row INSERTs on SQLite, COPY on PostgreSQL), never one HTTP call per row.
//!
//! Every row is a pure function of its table and index: its creation time, its UUIDv7 (whose time
//! part is that creation time, as the server makes them) and its random choices all come from a
//! hash of the two. References between tables (an opportunity's account, a lead's owner) are
//! therefore computed, not remembered, and a million rows need no memory beyond one batch.

mod names;
mod sink;

use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_domain::address::Tags;
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::sla::SlaPolicy;
use crm_domain::ticket::{Ticket, TicketAction, TicketCategory, TicketChannel, TicketDraft, TicketPriority};
use crm_domain::value::{CustomFields, Name};
use uuid::Uuid;

use crate::error::Result;
use crate::rng::{Rng, mix};
pub use sink::{Sink, V};

/// What the HTTP signup created: the organisation to fill and its admin.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tenant {
    pub organization_id: Uuid,
    pub admin_id: Uuid,
}

/// How many rows of each kind a scale means: `scale` leads and `scale` opportunities, a tenth as
/// many accounts, a fifth as many contacts, a user per 50,000 leads (at least 4) and 200 products.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub users: u64,
    pub products: u64,
    pub accounts: u64,
    pub contacts: u64,
    pub leads: u64,
    pub opportunities: u64,
    /// Quotes (a twentieth of the opportunities), where the schema has them.
    #[serde(default)]
    pub quotes: u64,
    /// Activities (as many as leads), where the schema has them; [`BIG_ACCOUNTS`] accounts
    /// hold a tenth of them each.
    #[serde(default)]
    pub activities: u64,
    /// Support tickets (as many as leads), where the schema has them.
    #[serde(default)]
    pub tickets: u64,
}

/// How many accounts hold a tenth of the activities each: at 1,000,000, 100,000 items each.
pub const BIG_ACCOUNTS: u64 = 3;
/// Ordinary accounts with a full first timeline page: [`FULL_PAGE_ITEMS`] activities each, at
/// most this many of them (fewer at a small scale).
pub const FULL_PAGE_ACCOUNTS: u64 = 50;
pub const FULL_PAGE_ITEMS: u64 = 60;

impl Counts {
    pub fn for_scale(scale: u64) -> Self {
        Self {
            users: (scale / 50_000).clamp(4, 50),
            products: 200,
            accounts: (scale / 10).max(10),
            contacts: (scale / 5).max(10),
            leads: scale,
            opportunities: scale,
            quotes: (scale / 20).max(10),
            activities: scale,
            tickets: scale,
        }
    }
}

/// What seeding wrote and how long it took.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SeedReport {
    pub counts: Counts,
    pub stage_history_rows: u64,
    pub seconds: f64,
}

const USER: u64 = 1;
const PRODUCT: u64 = 2;
const ACCOUNT: u64 = 3;
const CONTACT: u64 = 4;
const LEAD: u64 = 5;
const OPPORTUNITY: u64 = 6;
const HISTORY: u64 = 7;
const QUOTE: u64 = 8;
const ACTIVITY: u64 = 9;
const TICKET: u64 = 10;

/// Records are created over the two years before the seed.
const SPAN_MICROS: i64 = 730 * 86_400 * 1_000_000;

const OPEN_STAGES: [(&str, i64); 5] =
    [("prospecting", 10), ("qualification", 20), ("needs_analysis", 40), ("proposal", 60), ("negotiation", 80)];

const LEAD_SOURCES: [(&str, u64); 11] = [
    ("web", 30),
    ("cold_call", 8),
    ("advertising", 6),
    ("social", 8),
    ("email_campaign", 10),
    ("seminar", 3),
    ("trade_show", 5),
    ("webinar", 6),
    ("referral", 14),
    ("partner", 6),
    ("other", 4),
];

const CURRENCIES: [(&str, u64); 3] = [("EUR", 60), ("USD", 30), ("GBP", 10)];

/// The plan of one seed: the tenant, the counts and the moment "now" of the data.
pub struct Plan {
    pub tenant: Tenant,
    pub counts: Counts,
    now_micros: i64,
    password_hash: String,
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn text(s: impl Into<String>) -> V {
    V::Text(s.into())
}

fn opt(present: bool, value: V) -> V {
    if present { value } else { V::Null }
}

impl Plan {
    /// The creation time of row `i` of `n` of a kind: spread evenly over the span, in order,
    /// with a random offset inside the row's slot.
    fn created_micros(&self, kind: u64, i: u64, n: u64) -> i64 {
        let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        let i = i64::try_from(i).unwrap_or(0);
        let slot = (SPAN_MICROS / n).max(1);
        let jitter = i64::try_from(mix(kind << 56 ^ 0x5EED ^ i as u64) % slot as u64).unwrap_or(0);
        self.now_micros - SPAN_MICROS - 86_400_000_000 + i * slot + jitter
    }

    /// The row's id: a UUIDv7 of its creation time, as the server would have made it.
    fn id(&self, kind: u64, i: u64, n: u64) -> Uuid {
        let millis = u64::try_from(self.created_micros(kind, i, n) / 1000).unwrap_or(0);
        let mut rng = Rng::new(kind << 56 ^ 0x1D ^ i);
        uuid::Builder::from_unix_timestamp_millis(millis, &rng.bytes10()).into_uuid()
    }

    fn rng(kind: u64, i: u64) -> Rng {
        Rng::new(kind << 56 ^ i)
    }

    pub fn user_id(&self, i: u64) -> Uuid {
        if i == 0 { self.tenant.admin_id } else { self.id(USER, i, self.counts.users) }
    }

    fn random_user(&self, rng: &mut Rng) -> Uuid {
        self.user_id(rng.below(self.counts.users))
    }

    pub fn account_id(&self, i: u64) -> Uuid {
        self.id(ACCOUNT, i, self.counts.accounts)
    }

    pub fn contact_id(&self, i: u64) -> Uuid {
        self.id(CONTACT, i, self.counts.contacts)
    }

    fn opportunity_id(&self, i: u64) -> Uuid {
        self.id(OPPORTUNITY, i, self.counts.opportunities)
    }

    /// `updated_at` a little after `created`, never after now.
    fn updated_micros(&self, rng: &mut Rng, created: i64) -> i64 {
        let later = created + i64::try_from(rng.below(30 * 86_400 * 1_000_000)).unwrap_or(0);
        later.min(self.now_micros - 1_000_000).max(created)
    }

    fn org(&self) -> V {
        V::Id(self.tenant.organization_id)
    }
}

/// A person's name and email parts.
struct Person {
    first: &'static str,
    last: String,
}

fn person(rng: &mut Rng) -> Person {
    let last = format!("{}{}", rng.pick(names::LAST_NAME_STEMS), rng.pick(names::LAST_NAME_ENDINGS));
    Person { first: rng.pick_str(names::FIRST_NAMES), last }
}

/// A company name and its web domain.
fn company(rng: &mut Rng) -> (String, String) {
    let word = rng.pick(names::COMPANY_WORDS);
    let kind = rng.pick(names::COMPANY_KINDS);
    let suffix = rng.pick(names::COMPANY_SUFFIXES);
    (format!("{word} {kind} {suffix}"), format!("{}{}.example", word.to_lowercase(), kind.to_lowercase()))
}

fn phone(rng: &mut Rng) -> String {
    format!("+44 20 7946 {:04}", rng.below(10_000))
}

pub const USER_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "name",
    "email",
    "password_hash",
    "role",
    "active",
    "created_at",
    "updated_at",
    "version",
];

pub const PRODUCT_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "name",
    "sku",
    "description",
    "unit_price",
    "currency",
    "tax_rate",
    "active",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const ACCOUNT_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "name",
    "industry",
    "website",
    "phone",
    "email",
    "billing_address",
    "shipping_address",
    "employee_count",
    "annual_revenue_amount",
    "annual_revenue_currency",
    "tier",
    "lifecycle_stage",
    "tags",
    "parent_account_id",
    "owner_id",
    "description",
    "custom_fields",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const CONTACT_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "title",
    "account_id",
    "lifecycle_stage",
    "source",
    "tags",
    "do_not_contact",
    "owner_id",
    "description",
    "custom_fields",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const LEAD_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone",
    "website",
    "source",
    "source_detail",
    "status",
    "rating",
    "owner_id",
    "description",
    "custom_fields",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
    "converted_at",
    "converted_account_id",
    "converted_contact_id",
    "converted_opportunity_id",
];

pub const OPPORTUNITY_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "name",
    "account_id",
    "contact_id",
    "amount",
    "currency",
    "stage",
    "probability",
    "expected_close_date",
    "kind",
    "lead_source",
    "next_step",
    "owner_id",
    "description",
    "custom_fields",
    "closed_at",
    "loss_reason",
    "last_open_stage",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const QUOTE_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "number_seq",
    "number",
    "opportunity_id",
    "account_id",
    "contact_id",
    "owner_id",
    "status",
    "valid_until",
    "currency",
    "line_items",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "notes",
    "custom_fields",
    "sent_at",
    "accepted_at",
    "rejected_at",
    "rejection_reason",
    "order_id",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const ACTIVITY_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "kind",
    "direction",
    "subject",
    "body",
    "status",
    "due_at",
    "remind_at",
    "alert_at",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "priority",
    "owner_id",
    "lead_id",
    "contact_id",
    "account_id",
    "opportunity_id",
    "participant_contact_ids",
    "custom_fields",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

pub const HISTORY_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "opportunity_id",
    "from_stage",
    "to_stage",
    "amount",
    "currency",
    "probability",
    "changed_by",
    "changed_at",
];

impl Plan {
    fn user_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(USER, i);
        let p = person(&mut rng);
        let created = at(self.created_micros(USER, i, self.counts.users));
        let role = if i % 5 == 1 { "manager" } else { "sales_rep" };
        let short = self.tenant.organization_id.simple().to_string();
        vec![
            self.org(),
            V::Id(self.user_id(i)),
            text(format!("{} {}", p.first, p.last)),
            text(format!("rep{i}.{}@bench.example", &short[..12])),
            text(self.password_hash.clone()),
            V::Static(role),
            V::Bool(true),
            V::Ts(created),
            V::Ts(created),
            V::Int(1),
        ]
    }

    fn product_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(PRODUCT, i);
        let created = self.created_micros(PRODUCT, i, self.counts.products);
        let updated = self.updated_micros(&mut rng, created);
        vec![
            self.org(),
            V::Id(self.id(PRODUCT, i, self.counts.products)),
            text(format!("{} {}", rng.pick(names::PRODUCT_WORDS), i)),
            text(format!("SKU-{i:05}")),
            opt(rng.chance(50), V::Static("Priced per unit and month.")),
            V::Int(i64::try_from(500 + rng.below(200_000)).unwrap_or(500)),
            V::Static(rng.weighted(&CURRENCIES)),
            V::Int(*rng.pick(&[0, 550, 1000, 2000])),
            V::Bool(!rng.chance(10)),
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(self.tenant.admin_id),
            V::Int(1),
            V::Null,
        ]
    }

    fn account_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(ACCOUNT, i);
        let (name, domain) = company(&mut rng);
        let created = self.created_micros(ACCOUNT, i, self.counts.accounts);
        let updated = self.updated_micros(&mut rng, created);
        let revenue = rng.chance(60);
        let owner = self.random_user(&mut rng);
        let archived = rng.chance(2);
        vec![
            self.org(),
            V::Id(self.account_id(i)),
            text(format!("{name} {i}")),
            opt(rng.chance(80), V::Static(rng.pick_str(names::INDUSTRIES))),
            text(format!("https://www.{domain}")),
            opt(rng.chance(70), text(phone(&mut rng))),
            opt(rng.chance(40), text(format!("info{i}@{domain}"))),
            opt(
                rng.chance(50),
                text(format!(
                    r#"{{"street":"{} High Street","city":"London","postal_code":"EC1A 1BB","country":"GB"}}"#,
                    rng.below(300) + 1
                )),
            ),
            V::Null,
            opt(rng.chance(70), V::Int(i64::try_from(rng.below(5000) + 1).unwrap_or(1))),
            opt(revenue, V::Int(i64::try_from(rng.below(1_000_000_000) * 100).unwrap_or(0))),
            opt(revenue, V::Static(rng.weighted(&CURRENCIES))),
            opt(rng.chance(70), V::Static(rng.pick_str(&["a", "b", "c"]))),
            V::Static(rng.weighted(&[("prospect", 40), ("customer", 45), ("former_customer", 10), ("partner", 5)])),
            V::Static(if rng.chance(20) { r#"["key-account"]"# } else { "[]" }),
            V::Null,
            V::Id(owner),
            V::Null,
            V::Static("{}"),
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(owner),
            V::Int(1),
            opt(archived, V::Ts(at(updated))),
        ]
    }

    fn contact_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(CONTACT, i);
        let p = person(&mut rng);
        let (_, domain) = company(&mut rng);
        let created = self.created_micros(CONTACT, i, self.counts.contacts);
        let updated = self.updated_micros(&mut rng, created);
        let owner = self.random_user(&mut rng);
        let account = rng.chance(85).then(|| self.account_id(rng.below(self.counts.accounts)));
        // Contact emails carry a `c`, lead emails do not: converting a lead never meets a
        // contact with its email.
        let email = format!("{}.{}.c{i}@{domain}", p.first.to_lowercase(), p.last.to_lowercase());
        vec![
            self.org(),
            V::Id(self.contact_id(i)),
            text(p.first),
            text(p.last),
            opt(rng.chance(90), text(email)),
            opt(rng.chance(60), text(phone(&mut rng))),
            opt(rng.chance(30), text(phone(&mut rng))),
            opt(rng.chance(60), V::Static(rng.pick_str(names::TITLES))),
            account.map_or(V::Null, V::Id),
            V::Static(rng.weighted(&[("prospect", 50), ("customer", 40), ("former_customer", 7), ("partner", 3)])),
            opt(rng.chance(80), V::Static(rng.weighted(&LEAD_SOURCES))),
            V::Static("[]"),
            V::Bool(rng.chance(5)),
            V::Id(owner),
            V::Null,
            V::Static("{}"),
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(owner),
            V::Int(1),
            opt(rng.chance(2), V::Ts(at(updated))),
        ]
    }

    fn lead_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(LEAD, i);
        let p = person(&mut rng);
        let has_company = rng.chance(85);
        let (company_name, domain) = company(&mut rng);
        let domain = if has_company { domain } else { "mail.example".to_owned() };
        let created = self.created_micros(LEAD, i, self.counts.leads);
        let updated = self.updated_micros(&mut rng, created);
        let status =
            rng.weighted(&[("new", 30), ("contacted", 25), ("qualified", 15), ("unqualified", 15), ("converted", 15)]);
        let converted = status == "converted";
        let owner = self.random_user(&mut rng);
        let email = format!("{}.{}.{i}@{domain}", p.first.to_lowercase(), p.last.to_lowercase());
        let version = 1 + i64::try_from(rng.below(3)).unwrap_or(0) + i64::from(converted);
        vec![
            self.org(),
            V::Id(self.id(LEAD, i, self.counts.leads)),
            opt(rng.chance(95), text(p.first)),
            text(p.last),
            opt(has_company, text(company_name)),
            opt(rng.chance(60), V::Static(rng.pick_str(names::TITLES))),
            opt(rng.chance(90), text(email)),
            opt(rng.chance(60), text(phone(&mut rng))),
            opt(has_company && rng.chance(50), text(format!("https://www.{domain}"))),
            opt(rng.chance(90), V::Static(rng.weighted(&LEAD_SOURCES))),
            opt(rng.chance(10), V::Static("Spring campaign")),
            V::Static(status),
            opt(rng.chance(70), V::Static(rng.pick_str(&["hot", "warm", "cold"]))),
            V::Id(owner),
            opt(rng.chance(20), V::Static("Asked for a demo of the reporting module.")),
            V::Static(if rng.chance(20) { r#"{"segment":"smb"}"# } else { "{}" }),
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(if rng.chance(50) { owner } else { self.tenant.admin_id }),
            V::Int(version),
            opt(rng.chance(3), V::Ts(at(updated))),
            opt(converted, V::Ts(at(updated))),
            opt(converted && has_company, V::Id(self.account_id(rng.below(self.counts.accounts)))),
            opt(converted, V::Id(self.contact_id(rng.below(self.counts.contacts)))),
            opt(converted, V::Id(self.opportunity_id(rng.below(self.counts.opportunities)))),
        ]
    }
}

/// One generated opportunity, with what its stage history needs.
struct Deal {
    row: Vec<V>,
    id: Uuid,
    owner: Uuid,
    amount: Option<(i64, &'static str)>,
    /// The stages it went through, in order, with the time of each change.
    path: Vec<(&'static str, i64, i64)>,
}

fn probability_of(stage: &str) -> i64 {
    match stage {
        "closed_won" => 100,
        "closed_lost" => 0,
        other => OPEN_STAGES.iter().find(|(s, _)| *s == other).map_or(0, |(_, p)| *p),
    }
}

impl Plan {
    fn deal(&self, i: u64) -> Deal {
        let mut rng = Self::rng(OPPORTUNITY, i);
        let created = self.created_micros(OPPORTUNITY, i, self.counts.opportunities);
        let updated = self.updated_micros(&mut rng, created);
        let owner = self.random_user(&mut rng);
        let account = rng.chance(90).then(|| self.account_id(rng.below(self.counts.accounts)));
        let contact = (account.is_none() || rng.chance(50)).then(|| self.contact_id(rng.below(self.counts.contacts)));
        let amount = rng
            .chance(90)
            .then(|| (i64::try_from((rng.below(2_000) + 1) * 50_000).unwrap_or(50_000), rng.weighted(&CURRENCIES)));
        let stage_index = rng.weighted(&[(0usize, 20), (1, 15), (2, 12), (3, 10), (4, 8), (5, 20), (6, 15)]);
        let closed = stage_index >= 5;
        let last_open = if closed { rng.weighted(&[(2usize, 20), (3, 40), (4, 40)]) } else { stage_index };
        // The path: prospecting, at most two stages between, the last open stage, then the close.
        let mut stages: Vec<&'static str> = vec![OPEN_STAGES[0].0];
        let between: Vec<usize> = (1..last_open).filter(|_| rng.chance(50)).take(2).collect();
        stages.extend(between.iter().map(|k| OPEN_STAGES[*k].0));
        if last_open > 0 {
            stages.push(OPEN_STAGES[last_open].0);
        }
        let stage = match stage_index {
            5 => "closed_won",
            6 => "closed_lost",
            k => OPEN_STAGES[k].0,
        };
        if closed {
            stages.push(stage);
        }
        let steps = i64::try_from(stages.len()).unwrap_or(1);
        let path = stages
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let k = i64::try_from(k).unwrap_or(0);
                let when = if k == steps - 1 { updated } else { created + (updated - created) * k / steps };
                (*s, when, probability_of(s))
            })
            .collect();
        let close_day = |micros: i64| at(micros).date_naive();
        let now_day = close_day(self.now_micros);
        let expected: NaiveDate = if closed {
            close_day(updated)
        } else {
            now_day + Duration::days(i64::try_from(rng.below(425)).unwrap_or(0) - 60)
        };
        let name = format!("{} {}", rng.pick(names::DEAL_WORDS), i);
        let id = self.opportunity_id(i);
        let row = vec![
            self.org(),
            V::Id(id),
            text(name),
            account.map_or(V::Null, V::Id),
            contact.map_or(V::Null, V::Id),
            amount.map_or(V::Null, |(a, _)| V::Int(a)),
            amount.map_or(V::Null, |(_, c)| V::Static(c)),
            V::Static(stage),
            V::Int(probability_of(stage)),
            V::Date(expected),
            opt(
                rng.chance(80),
                V::Static(rng.weighted(&[("new_business", 50), ("upsell", 20), ("cross_sell", 10), ("renewal", 20)])),
            ),
            opt(rng.chance(70), V::Static(rng.weighted(&LEAD_SOURCES))),
            opt(!closed && rng.chance(30), V::Static("Send the proposal")),
            V::Id(owner),
            V::Null,
            V::Static("{}"),
            opt(closed, V::Ts(at(updated))),
            opt(stage == "closed_lost" && rng.chance(50), V::Static("Chose a competitor")),
            V::Static(OPEN_STAGES[last_open].0),
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(owner),
            V::Int(steps),
            opt(rng.chance(2), V::Ts(at(updated))),
        ];
        Deal { row, id, owner, amount, path }
    }

    fn history_rows(&self, i: u64) -> Vec<Vec<V>> {
        let deal = self.deal(i);
        let mut previous: Option<&'static str> = None;
        let mut rows = Vec::with_capacity(deal.path.len());
        for (k, (stage, when, probability)) in deal.path.iter().enumerate() {
            let mut rng = Rng::new(HISTORY << 56 ^ i << 3 ^ k as u64);
            let millis = u64::try_from(when / 1000).unwrap_or(0);
            let id = uuid::Builder::from_unix_timestamp_millis(millis, &rng.bytes10()).into_uuid();
            rows.push(vec![
                self.org(),
                V::Id(id),
                V::Id(deal.id),
                previous.map_or(V::Null, V::Static),
                V::Static(stage),
                deal.amount.map_or(V::Null, |(a, _)| V::Int(a)),
                deal.amount.map_or(V::Null, |(_, c)| V::Static(c)),
                V::Int(*probability),
                V::Id(deal.owner),
                V::Ts(at(*when)),
            ]);
            previous = Some(stage);
        }
        rows
    }
}

/// `numerator / denominator` rounded half up, as the server prices lines.
fn round_half_up(numerator: i64, denominator: i64) -> i64 {
    (2 * numerator + denominator) / (2 * denominator)
}

impl Plan {
    /// A quote on a random deal, with one to three priced lines whose totals follow the
    /// server's rounding rule (whole quantities, so a line's subtotal is exact). Accepted
    /// quotes are left out: accepting one creates an order.
    fn quote_row(&self, i: u64) -> Vec<V> {
        let mut rng = Self::rng(QUOTE, i);
        let deal_index = rng.below(self.counts.opportunities);
        let deal = self.deal(deal_index);
        let created = self.created_micros(QUOTE, i, self.counts.quotes);
        let updated = self.updated_micros(&mut rng, created);
        let currency = deal.amount.map_or("EUR", |(_, c)| c);
        let mut lines = Vec::new();
        let (mut subtotal, mut discount_total, mut tax_total) = (0i64, 0i64, 0i64);
        for _ in 0..=rng.below(3) {
            let product = rng.below(self.counts.products);
            let quantity = i64::try_from(rng.below(20) + 1).unwrap_or(1);
            let unit_price = i64::try_from((rng.below(2_000) + 1) * 100).unwrap_or(100);
            let discount_percent = *rng.pick(&[0i64, 0, 500, 1000]);
            let tax_rate = *rng.pick(&[0i64, 550, 1000, 2000]);
            let line_subtotal = quantity * unit_price;
            let discount = round_half_up(line_subtotal * discount_percent, 10_000);
            let tax = round_half_up((line_subtotal - discount) * tax_rate, 10_000);
            subtotal += line_subtotal;
            discount_total += discount;
            tax_total += tax;
            lines.push(serde_json::json!({
                "product_id": self.id(PRODUCT, product, self.counts.products).to_string(),
                "description": format!("{} {product}", rng.pick(names::PRODUCT_WORDS)),
                "quantity": quantity * 1000,
                "unit_price": unit_price,
                "discount_percent": discount_percent,
                "tax_rate": tax_rate,
                "subtotal": line_subtotal,
                "discount": discount,
                "tax": tax,
                "total": line_subtotal - discount + tax,
            }));
        }
        let status = rng.weighted(&[("draft", 40), ("sent", 40), ("rejected", 20)]);
        let sent = status != "draft";
        let valid_until = at(created).date_naive() + Duration::days(30);
        vec![
            self.org(),
            V::Id(self.id(QUOTE, i, self.counts.quotes)),
            V::Int(i64::try_from(i + 1).unwrap_or(1)),
            text(format!("Q-{:06}", i + 1)),
            V::Id(deal.id),
            deal.row[3].clone(),
            deal.row[4].clone(),
            V::Id(deal.owner),
            V::Static(status),
            V::Date(valid_until),
            V::Static(currency),
            text(serde_json::Value::Array(lines).to_string()),
            V::Int(subtotal),
            V::Int(discount_total),
            V::Int(tax_total),
            V::Int(subtotal - discount_total + tax_total),
            opt(rng.chance(30), V::Static("Prices valid for 30 days.")),
            V::Static("{}"),
            opt(sent, V::Ts(at(updated))),
            V::Null,
            opt(status == "rejected", V::Ts(at(updated))),
            opt(status == "rejected" && rng.chance(50), V::Static("Over budget")),
            V::Null,
            V::Ts(at(created)),
            V::Ts(at(updated)),
            V::Id(deal.owner),
            V::Int(1 + i64::from(sent)),
            V::Null,
        ]
    }
}

const ACTIVITY_KINDS: [(&str, u64); 8] =
    [("call", 35), ("email", 25), ("meeting", 12), ("visit", 3), ("sms", 4), ("chat", 3), ("note", 10), ("task", 8)];

const CALL_OUTCOMES: [(&str, u64); 5] =
    [("completed", 55), ("no_answer", 25), ("busy", 8), ("left_voicemail", 10), ("wrong_number", 2)];

impl Plan {
    /// The big accounts, which hold a tenth of the activities each.
    pub fn big_account_ids(&self) -> Vec<Uuid> {
        (0..BIG_ACCOUNTS.min(self.counts.accounts)).map(|k| self.account_id(k)).collect()
    }

    /// The ordinary accounts seeded with a full first timeline page (the next ones after the big
    /// ones), at most half of the activities left after the big accounts'.
    pub fn full_page_accounts(&self) -> u64 {
        let n = self.counts.activities;
        let rest = n - (n / 10) * BIG_ACCOUNTS.min(self.counts.accounts);
        (rest / 2 / FULL_PAGE_ITEMS).min(FULL_PAGE_ACCOUNTS).min(self.counts.accounts.saturating_sub(BIG_ACCOUNTS))
    }

    /// An activity: the first `BIG_ACCOUNTS` tenths on the big accounts (in turn), then
    /// [`FULL_PAGE_ITEMS`] on each of the full-page accounts, the rest about a lead (25%), a
    /// contact and its account (35%), an account (20%) or a deal and its account and contact
    /// (20%). Done as it was created (failed calls included), or planned:
    /// half of those created in the last month are due in the month ahead; 8% of the others
    /// were due within a month of their creation and are overdue; 4% were cancelled.
    fn activity_row(&self, i: u64) -> Vec<V> {
        let n = self.counts.activities;
        let mut rng = Self::rng(ACTIVITY, i);
        let created = self.created_micros(ACTIVITY, i, n);
        let owner = self.random_user(&mut rng);
        let big = self.big_account_ids();
        let per_big = n / 10;
        let (mut lead, mut contact, mut account, mut deal) = (None, None, None, None);
        let big_total = per_big * big.len() as u64;
        if i < big_total {
            account = Some(V::Id(big[usize::try_from(i % big.len() as u64).unwrap_or(0)]));
        } else if i - big_total < self.full_page_accounts() * FULL_PAGE_ITEMS {
            account = Some(V::Id(self.account_id(BIG_ACCOUNTS + (i - big_total) % self.full_page_accounts())));
        } else {
            match rng.weighted(&[(0u8, 25), (1, 35), (2, 20), (3, 20)]) {
                0 => lead = Some(V::Id(self.id(LEAD, rng.below(self.counts.leads), self.counts.leads))),
                1 => {
                    let k = rng.below(self.counts.contacts);
                    contact = Some(V::Id(self.contact_id(k)));
                    account = Some(self.contact_row(k)[8].clone());
                }
                2 => account = Some(V::Id(self.account_id(rng.below(self.counts.accounts)))),
                _ => {
                    let d = self.deal(rng.below(self.counts.opportunities));
                    deal = Some(V::Id(d.id));
                    account = Some(d.row[3].clone());
                    contact = Some(d.row[4].clone());
                }
            }
        }
        let kind = rng.weighted(&ACTIVITY_KINDS);
        let directed = !matches!(kind, "note" | "task");
        let recent = self.now_micros - created < 30 * 86_400 * 1_000_000;
        let status = if recent && rng.chance(50) {
            "planned"
        } else {
            rng.weighted(&[("done", 88), ("planned", 8), ("cancelled", 4)])
        };
        let (mut due, mut remind, mut alert, mut occurred, mut outcome) = (None, None, None, None, None);
        match status {
            "done" => {
                occurred = Some(created);
                outcome = match kind {
                    "call" => Some(rng.weighted(&CALL_OUTCOMES)),
                    "email" if rng.chance(3) => Some("bounced"),
                    "note" | "task" => None,
                    _ => Some("completed"),
                };
            }
            _ => {
                let ahead = i64::try_from(rng.below(30 * 86_400)).unwrap_or(0) * 1_000_000 + 3_600_000_000;
                let at_due = created + ahead;
                due = Some(at_due);
                if rng.chance(50) {
                    remind = Some(at_due - 3_600_000_000);
                }
                if status == "planned" {
                    alert = Some(remind.unwrap_or(at_due));
                }
            }
        }
        let ts = |micros: Option<i64>| micros.map_or(V::Null, |m| V::Ts(at(m)));
        let subject = match kind {
            "call" => "Follow-up call",
            "email" => "Proposal sent",
            "meeting" => "Quarterly review",
            "task" => "Prepare the renewal",
            "note" => "Budget confirmed for Q3",
            _ => "Catch up",
        };
        vec![
            self.org(),
            V::Id(self.id(ACTIVITY, i, n)),
            V::Static(kind),
            opt(directed, V::Static(if rng.chance(70) { "outbound" } else { "inbound" })),
            V::Static(subject),
            opt(rng.chance(30), V::Static("Talked through the next steps.")),
            V::Static(status),
            ts(due),
            ts(remind),
            ts(alert),
            ts(occurred),
            opt(directed && status == "done", V::Int(i64::try_from(rng.below(60)).unwrap_or(0))),
            outcome.map_or(V::Null, V::Static),
            V::Static(rng.weighted(&[("normal", 70), ("high", 15), ("low", 15)])),
            V::Id(owner),
            lead.unwrap_or(V::Null),
            contact.unwrap_or(V::Null),
            account.unwrap_or(V::Null),
            deal.unwrap_or(V::Null),
            V::Static("[]"),
            V::Static("{}"),
            V::Ts(at(created)),
            V::Ts(at(created)),
            V::Id(owner),
            V::Int(1),
            V::Null,
        ]
    }
}

/// The columns of a ticket row, in the order of [`ticket_values`] (migration 0027).
pub const TICKET_COLUMNS: &[&str] = &[
    "organization_id",
    "id",
    "number_seq",
    "number",
    "subject",
    "description",
    "contact_id",
    "account_id",
    "opportunity_id",
    "order_id",
    "product_id",
    "category",
    "priority",
    "status",
    "channel",
    "owner_id",
    "tags",
    "custom_fields",
    "pending_reason",
    "resolution",
    "first_responded_at",
    "solved_at",
    "closes_at",
    "closed_at",
    "opportunity_ids",
    "reopened_count",
    "first_response_due_at",
    "first_response_at_risk_at",
    "resolution_due_at",
    "resolution_at_risk_at",
    "resolution_started_at",
    "paused_business_seconds",
    "paused_calendar_seconds",
    "paused_at",
    "first_response_missed",
    "resolution_missed",
    "first_response_business_seconds",
    "resolution_business_seconds",
    "sla_risk_at",
    "sla_breach_at",
    "sla_missed",
    "sla_alert_at",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "archived_at",
];

/// A ticket as its row, in the order of [`TICKET_COLUMNS`]: every derived column (deadlines,
/// at-risk instants, the SLA marks) as the domain computed it, as the server would store it.
pub fn ticket_values(t: &Ticket) -> Vec<V> {
    let ts = |v: Option<DateTime<Utc>>| v.map_or(V::Null, V::Ts);
    let id = |v: Option<Uuid>| v.map_or(V::Null, V::Id);
    let txt = |v: Option<&crm_domain::value::LongText>| v.map_or(V::Null, |t| V::Text(t.as_str().to_owned()));
    let marks = t.sla_marks();
    let ids = |v: &[Uuid]| V::Text(serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned()));
    vec![
        V::Id(t.organization_id),
        V::Id(t.id),
        V::Int(t.number.sequence),
        V::Text(t.number.number.clone()),
        V::Text(t.subject.as_str().to_owned()),
        txt(t.description.as_ref()),
        id(t.contact_id),
        id(t.account_id),
        id(t.opportunity_id),
        id(t.order_id),
        id(t.product_id),
        V::Static(t.category.as_str()),
        V::Static(t.priority.as_str()),
        V::Static(t.status.as_str()),
        V::Static(t.channel.as_str()),
        id(t.owner_id),
        V::Text(serde_json::to_string(t.tags.as_slice()).unwrap_or_else(|_| "[]".to_owned())),
        V::Text(t.custom_fields.as_json_text().to_owned()),
        txt(t.pending_reason.as_ref()),
        txt(t.resolution.as_ref()),
        ts(t.first_responded_at),
        ts(t.solved_at),
        ts(t.closes_at),
        ts(t.closed_at),
        ids(&t.opportunity_ids),
        V::Int(t.reopened_count),
        V::Ts(t.sla.first_response_due_at),
        V::Ts(t.sla.first_response_at_risk_at),
        V::Ts(t.sla.resolution_due_at),
        V::Ts(t.sla.resolution_at_risk_at),
        V::Ts(t.sla.resolution_started_at),
        V::Int(t.sla.paused_business_seconds),
        V::Int(t.sla.paused_calendar_seconds),
        ts(t.sla.paused_at),
        V::Bool(t.sla.first_response_missed),
        V::Bool(t.sla.resolution_missed),
        t.sla.first_response_business_seconds.map_or(V::Null, V::Int),
        t.sla.resolution_business_seconds.map_or(V::Null, V::Int),
        ts(marks.risk_at),
        ts(marks.breach_at),
        V::Bool(marks.missed),
        ts(marks.alert_at(t.created_at)),
        V::Ts(t.created_at),
        V::Ts(t.updated_at),
        V::Id(t.created_by),
        V::Int(t.version),
        ts(t.archived_at),
    ]
}

const TICKET_CATEGORIES: [(TicketCategory, u64); 5] = [
    (TicketCategory::Question, 40),
    (TicketCategory::Incident, 25),
    (TicketCategory::Problem, 15),
    (TicketCategory::Complaint, 10),
    (TicketCategory::FeatureRequest, 10),
];
const TICKET_PRIORITIES: [(TicketPriority, u64); 4] =
    [(TicketPriority::Low, 20), (TicketPriority::Normal, 50), (TicketPriority::High, 20), (TicketPriority::Urgent, 10)];
const TICKET_CHANNELS: [(TicketChannel, u64); 4] =
    [(TicketChannel::Email, 50), (TicketChannel::Phone, 20), (TicketChannel::Web, 20), (TicketChannel::Chat, 10)];

/// Where a seeded ticket stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    New,
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}

impl Plan {
    /// A support ticket, built and moved through its steps by the domain on the default SLA
    /// policy (the organisation's): of the last fortnight's, a quarter solved and the rest new,
    /// open, pending or on hold; of the older ones, 96% solved and closed, the rest still open
    /// (and long breached). 70% of the solved ones were answered in public first. On a contact
    /// and its account (80%) or an account; a product named on 30%; unassigned 10%.
    fn ticket(&self, i: u64, policy: &SlaPolicy) -> Ticket {
        let n = self.counts.tickets;
        let mut rng = Self::rng(TICKET, i);
        let created = self.created_micros(TICKET, i, n);
        let (contact, account) = if rng.chance(80) {
            let k = rng.below(self.counts.contacts);
            let account = match self.contact_row(k)[8] {
                V::Id(id) => Some(id),
                _ => None,
            };
            (Some(self.contact_id(k)), account)
        } else {
            (None, Some(self.account_id(rng.below(self.counts.accounts))))
        };
        let owner = if rng.chance(90) { Some(self.random_user(&mut rng)) } else { None };
        let recent = self.now_micros - created < 14 * 86_400 * 1_000_000;
        let fate = if recent {
            rng.weighted(&[
                (Fate::New, 25),
                (Fate::Open, 30),
                (Fate::Pending, 12),
                (Fate::OnHold, 8),
                (Fate::Solved, 25),
            ])
        } else {
            rng.weighted(&[(Fate::Closed, 96), (Fate::Open, 2), (Fate::Pending, 1), (Fate::New, 1)])
        };
        let draft = TicketDraft {
            subject: Name::from_trusted(format!("Support request {i}")),
            description: None,
            contact_id: contact,
            account_id: account,
            opportunity_id: None,
            order_id: None,
            product_id: rng.chance(30).then(|| self.id(PRODUCT, rng.below(self.counts.products), self.counts.products)),
            category: rng.weighted(&TICKET_CATEGORIES),
            priority: rng.weighted(&TICKET_PRIORITIES),
            channel: rng.weighted(&TICKET_CHANNELS),
            owner_id: owner,
            tags: Tags::default(),
            custom_fields: CustomFields::empty(),
        };
        let number = DocumentNumber::new(DocumentKind::Ticket, i64::try_from(i + 1).unwrap_or(i64::MAX));
        let creator = owner.unwrap_or(self.tenant.admin_id);
        let mut ticket = match Ticket::create(
            self.id(TICKET, i, n),
            self.tenant.organization_id,
            number,
            creator,
            draft,
            policy,
            at(created),
        ) {
            Ok(ticket) => ticket,
            Err(e) => panic!("seeding ticket {i}: {e}"),
        };
        // Each step a little later than the last, never after now.
        let mut clock = created;
        let mut later = |rng: &mut Rng, max_minutes: u64| {
            clock = (clock + i64::try_from(rng.below(max_minutes * 60) + 60).unwrap_or(60) * 1_000_000)
                .min(self.now_micros - 1_000_000);
            at(clock)
        };
        let step = |ticket: &Ticket, action: TicketAction, when: DateTime<Utc>| {
            ticket.transition(action, None, policy, when).map(|(t, _)| t).unwrap_or_else(|_| ticket.clone())
        };
        match fate {
            Fate::New => {}
            Fate::Open | Fate::Pending | Fate::OnHold | Fate::Solved | Fate::Closed => {
                ticket = step(&ticket, TicketAction::Start, later(&mut rng, 120));
            }
        }
        if matches!(fate, Fate::Solved | Fate::Closed) && rng.chance(70) {
            let when = later(&mut rng, 600);
            let author = crm_domain::ticket::CommentAuthor::User(creator);
            if let Ok((answered, _)) =
                ticket.comment(author, crm_domain::ticket::CommentVisibility::Public, policy, when)
            {
                ticket = answered;
            }
        }
        match fate {
            Fate::Pending => ticket = step(&ticket, TicketAction::Wait, later(&mut rng, 600)),
            Fate::OnHold => ticket = step(&ticket, TicketAction::Hold, later(&mut rng, 600)),
            Fate::Solved => ticket = step(&ticket, TicketAction::Solve, later(&mut rng, 3 * 1440)),
            Fate::Closed => {
                ticket = step(&ticket, TicketAction::Solve, later(&mut rng, 5 * 1440));
                ticket = step(&ticket, TicketAction::Close, later(&mut rng, 1440));
            }
            Fate::New | Fate::Open => {}
        }
        ticket
    }

    fn ticket_row(&self, i: u64, policy: &SlaPolicy) -> Vec<V> {
        ticket_values(&self.ticket(i, policy))
    }
}

fn progress(table: &str, rows: u64, started: Instant) {
    eprintln!("  seeded {rows:>9} {table} in {:.1}s", started.elapsed().as_secs_f64());
}

/// Fills the tenant's organisation at `scale` on the database at `url` (migrated, with the
/// tenant signed up through the API).
pub async fn seed(url: &str, tenant: Tenant, scale: u64) -> Result<SeedReport> {
    let started = Instant::now();
    let mut sink = Sink::connect(url).await?;
    let password_hash = sink.admin_password_hash(tenant).await?;
    let now_micros = Utc::now().timestamp_micros();
    let plan = Plan { tenant, counts: Counts::for_scale(scale), now_micros, password_hash };
    let c = plan.counts;

    let t = Instant::now();
    sink.write("users", USER_COLUMNS, (1..c.users).map(|i| plan.user_row(i))).await?;
    sink.write("products", PRODUCT_COLUMNS, (0..c.products).map(|i| plan.product_row(i))).await?;
    progress("users and products", c.users + c.products, t);
    let t = Instant::now();
    sink.write("accounts", ACCOUNT_COLUMNS, (0..c.accounts).map(|i| plan.account_row(i))).await?;
    progress("accounts", c.accounts, t);
    let t = Instant::now();
    sink.write("contacts", CONTACT_COLUMNS, (0..c.contacts).map(|i| plan.contact_row(i))).await?;
    progress("contacts", c.contacts, t);
    let t = Instant::now();
    sink.write("leads", LEAD_COLUMNS, (0..c.leads).map(|i| plan.lead_row(i))).await?;
    progress("leads", c.leads, t);
    let t = Instant::now();
    sink.write("opportunities", OPPORTUNITY_COLUMNS, (0..c.opportunities).map(|i| plan.deal(i).row)).await?;
    progress("opportunities", c.opportunities, t);
    let t = Instant::now();
    let history = sink
        .write("opportunity_stage_history", HISTORY_COLUMNS, (0..c.opportunities).flat_map(|i| plan.history_rows(i)))
        .await?;
    progress("stage history rows", history, t);
    let mut counts = c;
    if sink.has_table("quotes").await? {
        let t = Instant::now();
        sink.write("quotes", QUOTE_COLUMNS, (0..c.quotes).map(|i| plan.quote_row(i))).await?;
        sink.set_counter(tenant, "quote", c.quotes).await?;
        progress("quotes", c.quotes, t);
    } else {
        counts.quotes = 0;
    }
    if sink.has_table("activities").await? {
        let t = Instant::now();
        sink.write("activities", ACTIVITY_COLUMNS, (0..c.activities).map(|i| plan.activity_row(i))).await?;
        progress("activities", c.activities, t);
    } else {
        counts.activities = 0;
    }
    if sink.has_table("tickets").await? {
        let t = Instant::now();
        let policy = SlaPolicy::default();
        sink.write("tickets", TICKET_COLUMNS, (0..c.tickets).map(|i| plan.ticket_row(i, &policy))).await?;
        sink.set_counter(tenant, "ticket", c.tickets).await?;
        progress("tickets", c.tickets, t);
    } else {
        counts.tickets = 0;
    }
    let t = Instant::now();
    sink.finish().await?;
    eprintln!("  analysed in {:.1}s", t.elapsed().as_secs_f64());
    Ok(SeedReport { counts, stage_history_rows: history, seconds: started.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_amounts_round_half_up() {
        assert_eq!(round_half_up(12_345 * 550, 10_000), 679);
        assert_eq!(round_half_up(1_000 * 500, 10_000), 50);
        assert_eq!(round_half_up(15, 10), 2);
        assert_eq!(round_half_up(14, 10), 1);
    }

    fn plan(scale: u64) -> Plan {
        let tenant = Tenant { organization_id: Uuid::now_v7(), admin_id: Uuid::now_v7() };
        Plan {
            tenant,
            counts: Counts::for_scale(scale),
            now_micros: Utc::now().timestamp_micros(),
            password_hash: "hash".to_owned(),
        }
    }

    #[test]
    fn every_row_has_one_value_per_column() {
        let plan = plan(1_000);
        for i in 0..50 {
            assert_eq!(plan.user_row(i + 1).len(), USER_COLUMNS.len());
            assert_eq!(plan.product_row(i).len(), PRODUCT_COLUMNS.len());
            assert_eq!(plan.account_row(i).len(), ACCOUNT_COLUMNS.len());
            assert_eq!(plan.contact_row(i).len(), CONTACT_COLUMNS.len());
            assert_eq!(plan.lead_row(i).len(), LEAD_COLUMNS.len());
            assert_eq!(plan.deal(i).row.len(), OPPORTUNITY_COLUMNS.len());
            assert!(plan.history_rows(i).iter().all(|row| row.len() == HISTORY_COLUMNS.len()));
            assert_eq!(plan.quote_row(i).len(), QUOTE_COLUMNS.len());
            assert_eq!(plan.activity_row(i).len(), ACTIVITY_COLUMNS.len());
            assert_eq!(plan.ticket_row(i, &SlaPolicy::default()).len(), TICKET_COLUMNS.len());
        }
    }

    #[test]
    fn ids_are_unique_uuid_v7_in_creation_order() {
        let plan = plan(10_000);
        let ids: Vec<Uuid> = (0..10_000).map(|i| plan.id(LEAD, i, 10_000)).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids sort as they were created");
        let first = plan.created_micros(LEAD, 0, 10_000);
        let last = plan.created_micros(LEAD, 9_999, 10_000);
        assert!(first < last && last < plan.now_micros);
    }

    #[test]
    fn the_same_index_gives_the_same_row() {
        let plan = plan(1_000);
        assert_eq!(format!("{:?}", plan.lead_row(7)), format!("{:?}", plan.lead_row(7)));
        assert_eq!(format!("{:?}", plan.history_rows(7)), format!("{:?}", plan.history_rows(7)));
    }

    #[test]
    fn a_tenth_of_the_activities_is_on_each_big_account() {
        let plan = plan(1_000);
        let big = plan.big_account_ids();
        for account in &big {
            let held = (0..1_000).filter(|i| matches!(plan.activity_row(*i)[17], V::Id(id) if id == *account)).count();
            assert!(held >= 100, "{held}");
        }
        let full = plan.full_page_accounts();
        assert!(full >= 5, "{full}");
        let first = plan.account_id(BIG_ACCOUNTS);
        let held = (0..1_000).filter(|i| matches!(plan.activity_row(*i)[17], V::Id(id) if id == first)).count();
        assert!(held >= FULL_PAGE_ITEMS as usize, "{held}");
    }

    #[test]
    fn a_stage_history_starts_in_prospecting_and_ends_in_the_deal_stage() {
        let plan = plan(1_000);
        for i in 0..200 {
            let deal = plan.deal(i);
            let history = plan.history_rows(i);
            assert!(matches!(history[0][3], V::Null), "the first change has no from_stage");
            assert!(matches!(history[0][4], V::Static("prospecting")));
            let (V::Static(last), V::Static(stage)) = (&history[history.len() - 1][4], &deal.row[7]) else {
                panic!("stages are static texts");
            };
            assert_eq!(last, stage);
        }
    }
}
