//! Builds what the requests draw from: random samples of the seeded rows, read straight from the
//! database, and cursors deep in the lead lists, walked through the API as a client would.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sqlx::{Connection, PgConnection, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, failure};
use crate::scenarios::{Fixture, Target};
use crate::seed::Tenant;

/// Leads sampled for gets and searches.
const SAMPLE: i64 = 20_000;
/// Editable leads given to each worker for updates, in each of the two update pools.
const UPDATES_PER_WORKER: usize = 10;
/// At most this many convertible leads are sampled.
const CONVERTIBLE: i64 = 100_000;

type SampleRow = (Uuid, String, Option<String>);

const SAMPLE_SQL: &str = "SELECT id, last_name, email FROM leads WHERE organization_id = $1 ORDER BY random() LIMIT $2";
const EDITABLE_SQL: &str = "SELECT id, version FROM leads WHERE organization_id = $1 AND archived_at IS NULL \
     AND status <> 'converted' ORDER BY random() LIMIT $2";
const USERS_SQL: &str = "SELECT id FROM users WHERE organization_id = $1";
/// Active contacts, with their account when it is active too (a call names both).
const CONTACTS_SQL: &str = "SELECT c.id, c.account_id FROM contacts AS c LEFT JOIN accounts AS a \
     ON a.organization_id = c.organization_id AND a.id = c.account_id \
     WHERE c.organization_id = $1 AND c.archived_at IS NULL AND a.archived_at IS NULL ORDER BY random() LIMIT 1000";
/// Ordinary accounts with a full first timeline page (the seed gives some 60 activities).
const ACCOUNTS_SQL: &str = "SELECT account_id FROM activities WHERE organization_id = $1 AND account_id IS NOT NULL \
     GROUP BY account_id HAVING COUNT(*) BETWEEN 55 AND 1000";
/// Active tickets, for comments.
const TICKETS_SQL: &str = "SELECT id FROM tickets WHERE organization_id = $1 AND archived_at IS NULL \
     AND status IN ('new', 'open', 'pending', 'on_hold') ORDER BY random() LIMIT 1000";
const HAS_TICKETS_SQL: &str = "SELECT COUNT(*) FROM tickets WHERE organization_id = $1 AND id IS NULL";
const HAS_ACTIVITIES_SQL: &str = "SELECT COUNT(*) FROM activities WHERE organization_id = $1 AND id IS NULL";
/// The accounts holding the most activities: the seed's big accounts.
const BIG_ACCOUNTS_SQL: &str = "SELECT account_id FROM activities WHERE organization_id = $1 AND account_id IS NOT NULL \
     GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 3";

macro_rules! sample_with {
    ($conn:expr, $org:expr) => {{
        let sample: Vec<SampleRow> = sqlx::query_as(SAMPLE_SQL).bind($org).bind(SAMPLE).fetch_all(&mut $conn).await?;
        let editable: Vec<(Uuid, i64)> =
            sqlx::query_as(EDITABLE_SQL).bind($org).bind(CONVERTIBLE).fetch_all(&mut $conn).await?;
        let users: Vec<(Uuid,)> = sqlx::query_as(USERS_SQL).bind($org).fetch_all(&mut $conn).await?;
        let contacts: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(CONTACTS_SQL).bind($org).fetch_all(&mut $conn).await?;
        // Schemas before the activities (migration 0019) have no timelines.
        let (accounts, big): (Vec<(Uuid,)>, Vec<(Uuid,)>) =
            match sqlx::query(HAS_ACTIVITIES_SQL).bind($org).execute(&mut $conn).await {
                Ok(_) => (
                    sqlx::query_as(ACCOUNTS_SQL).bind($org).fetch_all(&mut $conn).await?,
                    sqlx::query_as(BIG_ACCOUNTS_SQL).bind($org).fetch_all(&mut $conn).await?,
                ),
                Err(_) => (Vec::new(), Vec::new()),
            };
        // Schemas before the tickets (migration 0027) have none.
        let tickets: Vec<(Uuid,)> = match sqlx::query(HAS_TICKETS_SQL).bind($org).execute(&mut $conn).await {
            Ok(_) => sqlx::query_as(TICKETS_SQL).bind($org).fetch_all(&mut $conn).await?,
            Err(_) => Vec::new(),
        };
        $conn.close().await?;
        (sample, editable, users, contacts, accounts, big, tickets)
    }};
}

/// Samples the seeded organisation; `concurrency` sizes the update pools.
pub async fn sample(database_url: &str, tenant: Tenant, concurrency: usize) -> Result<Fixture> {
    let org = tenant.organization_id;
    let (sample, mut editable, users, contacts, accounts, big, tickets) = if database_url.starts_with("sqlite:") {
        let mut conn = SqliteConnection::connect(database_url).await?;
        sample_with!(conn, org)
    } else {
        let mut conn = PgConnection::connect(database_url).await?;
        sample_with!(conn, org)
    };
    let per_pool = UPDATES_PER_WORKER * concurrency;
    if editable.len() < 2 * per_pool + 100 {
        return Err(failure(format!("only {} editable leads: seed a larger scale", editable.len())));
    }
    let convert_pool = editable.split_off(2 * per_pool).into_iter().map(|(id, _)| id).collect();
    let mixed_pool = editable.split_off(per_pool);
    let search_emails = sample.iter().filter_map(|(_, _, email)| email.clone()).take(1_000).collect();
    let search_names = sample.iter().map(|(_, last_name, _)| last_name.clone()).take(1_000).collect();
    Ok(Fixture {
        lead_ids: sample.iter().map(|(id, _, _)| *id).collect(),
        user_ids: users.into_iter().map(|(id,)| id).collect(),
        search_emails,
        search_names,
        update_pool: editable,
        mixed_pool,
        convert_pool,
        convert_next: Default::default(),
        deep_cursors: Vec::new(),
        today: Some(Utc::now().date_naive()),
        contacts,
        account_ids: accounts.into_iter().map(|(id,)| id).filter(|id| !big.contains(&(*id,))).collect(),
        big_account_ids: big.into_iter().map(|(id,)| id).collect(),
        ticket_ids: tickets.into_iter().map(|(id,)| id).collect(),
    })
}

/// Walks each status list newest first, `pages` pages of 200, and keeps the cursors of the
/// second half of the walk: the pages a deep listing asks for.
pub async fn walk_deep_cursors(
    client: &reqwest::Client,
    target: &Target,
    pages: usize,
) -> Result<Vec<(&'static str, String)>> {
    let token = target.token.as_deref().ok_or_else(|| failure("walking cursors needs a token"))?;
    let mut kept = Vec::new();
    for status in ["new", "contacted", "qualified", "unqualified"] {
        let mut cursors = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..pages {
            let mut request = client
                .get(format!("{}/api/v1/leads", target.base_url))
                .bearer_auth(token)
                .timeout(Duration::from_secs(60))
                .query(&[("status", status), ("sort", "-created_at"), ("limit", "200")]);
            if let Some(c) = &cursor {
                request = request.query(&[("cursor", c.as_str())]);
            }
            let response = request.send().await?;
            if !response.status().is_success() {
                return Err(failure(format!("walking {status} leads answered {}", response.status())));
            }
            let page: Value = response.json().await?;
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) => {
                    cursors.push(next.to_owned());
                    cursor = Some(next.to_owned());
                }
                None => break,
            }
        }
        let half = cursors.len() / 2;
        kept.extend(cursors.into_iter().skip(half).map(|c| (status, c)));
    }
    Ok(kept)
}
