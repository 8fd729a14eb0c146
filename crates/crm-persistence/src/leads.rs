use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::AuditContext;
use crm_domain::lead::{Lead, LeadQuery, LeadRating, LeadSortField, LeadSource, LeadStatus};
use crm_domain::list::Page;
use crm_domain::ports::LeadRepository;
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone, Url};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, plain};
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

/// The SQL expression a sort field orders by; nullable text sorts as the empty text.
fn sort_expr(field: LeadSortField) -> &'static str {
    match field {
        LeadSortField::CreatedAt => "created_at",
        LeadSortField::UpdatedAt => "updated_at",
        LeadSortField::LastName => "last_name",
        LeadSortField::FirstName => "COALESCE(first_name, '')",
        LeadSortField::Company => "COALESCE(company, '')",
        LeadSortField::Email => "COALESCE(email, '')",
        LeadSortField::LastInteractionAt => crate::list::LAST_INTERACTION_ORDER,
    }
}

/// The columns lead search looks in.
const SEARCHED_COLUMNS: [&str; 4] = ["first_name", "last_name", "company", "email"];

/// How lead search reads an index. SQLite: an FTS5 trigram index (`leads_search`, migration
/// 0012) for needles of three characters or more, `LIKE` on each column for shorter ones.
/// PostgreSQL: `LIKE` on the four columns joined by U+0001, the expression that the trigram GIN
/// index `leads_search_trgm` (migration 0016) holds; the planner matches it only when written
/// exactly so.
trait LeadSearchSql {
    const FTS5: bool;
    /// The joined text to search instead of each column, if the backend indexes one.
    const JOINED_TEXT: Option<&'static str>;
}

impl LeadSearchSql for SqliteStore {
    const FTS5: bool = true;
    const JOINED_TEXT: Option<&'static str> = None;
}

impl LeadSearchSql for PgStore {
    const FTS5: bool = false;
    const JOINED_TEXT: Option<&'static str> = Some(
        "coalesce(first_name, '') || E'\\x01' || last_name || E'\\x01' || coalesce(company, '') || E'\\x01' || coalesce(email, '')",
    );
}

/// What to search for `needle`: the joined text where the backend has one and the needle cannot
/// reach across the separator (stored text has no control characters), else each column.
fn search_columns(joined: Option<&'static str>, needle: Option<&str>) -> Vec<&'static str> {
    match joined {
        Some(text) if needle.is_some_and(|n| !n.contains('\u{1}')) => vec![text],
        _ => SEARCHED_COLUMNS.to_vec(),
    }
}

/// A needle as one FTS5 phrase: a case-insensitive substring match with the trigram tokenizer.
/// Inside the quotes only `"` is special, and it is doubled.
fn fts5_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

table! {
    Lead => LeadRow in "leads", entity "lead", violations OWNER_VIOLATIONS, |lead| {
        first_name: Option<String> = lead.first_name.as_ref().map(|v| v.as_str()),
        last_name: String = lead.last_name.as_str(),
        company: Option<String> = lead.company.as_ref().map(|v| v.as_str()),
        title: Option<String> = lead.title.as_ref().map(|v| v.as_str()),
        email: Option<String> = lead.email.as_ref().map(|v| v.as_str()),
        phone: Option<String> = lead.phone.as_ref().map(|v| v.as_str()),
        website: Option<String> = lead.website.as_ref().map(|v| v.as_str()),
        source: Option<String> = lead.source.map(|v| v.as_str()),
        source_detail: Option<String> = lead.source_detail.as_ref().map(|v| v.as_str()),
        status: String = lead.status.as_str(),
        rating: Option<String> = lead.rating.map(|v| v.as_str()),
        owner_id: Uuid = lead.owner_id,
        description: Option<String> = lead.description.as_ref().map(|v| v.as_str()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&lead.custom_fields)?,
        updated_at: DateTime<Utc> = lead.updated_at,
        version: i64 = lead.version,
        archived_at: Option<DateTime<Utc>> = lead.archived_at,
        last_interaction_at: Option<DateTime<Utc>> = lead.interactions.last_at,
        last_interaction_kind: Option<String> = lead.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
        next_activity_at: Option<DateTime<Utc>> = lead.interactions.next_at,
        converted_at: Option<DateTime<Utc>> = lead.converted_at,
        converted_account_id: Option<Uuid> = lead.converted_account_id,
        converted_contact_id: Option<Uuid> = lead.converted_contact_id,
        converted_opportunity_id: Option<Uuid> = lead.converted_opportunity_id,
    }
}

impl TryFrom<LeadRow> for Lead {
    type Error = RepoError;
    fn try_from(row: LeadRow) -> Result<Self, RepoError> {
        let name = |v: Option<String>| v.map(Name::from_trusted);
        Ok(Lead {
            id: row.id,
            organization_id: row.organization_id,
            first_name: name(row.first_name),
            last_name: Name::from_trusted(row.last_name),
            company: name(row.company),
            title: name(row.title),
            email: row.email.map(Email::from_trusted),
            phone: row.phone.map(Phone::from_trusted),
            website: row.website.map(Url::from_trusted),
            source: row
                .source
                .map(|s| LeadSource::parse("source", &s).map_err(|_| corrupt("lead source")))
                .transpose()?,
            source_detail: name(row.source_detail),
            status: LeadStatus::parse("status", &row.status).map_err(|_| corrupt("lead status"))?,
            rating: row
                .rating
                .map(|s| LeadRating::parse("rating", &s).map_err(|_| corrupt("lead rating")))
                .transpose()?,
            owner_id: row.owner_id,
            description: row.description.map(LongText::from_trusted),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
            interactions: crate::rows::interactions(
                row.last_interaction_at,
                row.last_interaction_kind.as_deref(),
                row.next_activity_at,
            )?,
            converted_at: row.converted_at,
            converted_account_id: row.converted_account_id,
            converted_contact_id: row.converted_contact_id,
            converted_opportunity_id: row.converted_opportunity_id,
        })
    }
}

macro_rules! impl_leads {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl LeadRepository for $Store {
            async fn insert_lead(&self, lead: &Lead, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(lead, &lead.creation_changes(), audit).await
            }

            async fn list_leads(&self, organization_id: Uuid, query: &LeadQuery) -> Result<Page<Lead>, RepoError> {
                let indexed_needle =
                    query.search.as_deref().filter(|n| <$Store as LeadSearchSql>::FTS5 && n.chars().count() >= 3);
                let mut qb = match indexed_needle {
                    // Read the matching rowids from the trigram index first, then the leads:
                    // `CROSS JOIN` keeps SQLite from walking `leads_created` and probing the
                    // index once per lead instead. The page is chosen by rowid and sort key
                    // alone, and only its rows are read whole (see the end of this method): a
                    // frequent name has thousands of hits, and sorting them with every column
                    // cost a third more.
                    Some(needle) => {
                        let mut qb = QueryBuilder::<$Db>::new(
                            "WITH hits (hit) AS MATERIALIZED (SELECT rowid FROM leads_search WHERE leads_search MATCH ",
                        );
                        qb.push_bind(fts5_phrase(needle));
                        qb.push(
                            "), page (hit) AS MATERIALIZED (SELECT leads.rowid FROM hits \
                             CROSS JOIN leads ON leads.rowid = hits.hit WHERE organization_id = ",
                        );
                        qb
                    }
                    None => {
                        // The email filter finds one or a few leads: SQLite is told to read its index.
                        let from = crate::list::from_table::<$Store>("leads", "leads_email", !query.emails.is_empty());
                        QueryBuilder::<$Db>::new(format!(
                            "SELECT {} FROM {from} WHERE organization_id = ",
                            Lead::sql().columns
                        ))
                    }
                };
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                crate::list::push_interactions(&mut qb, &query.interactions);
                let statuses: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "status", &statuses);
                let sources: Vec<&'static str> = query.sources.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "source", &sources);
                let ratings: Vec<&'static str> = query.ratings.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "rating", &ratings);
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                let emails: Vec<&str> = query.emails.iter().map(|e| e.as_str()).collect();
                crate::list::push_any_text(&mut qb, "email", &emails);
                if let Some(after) = query.created_after {
                    qb.push(" AND created_at > ").push_bind(after);
                }
                if let Some(before) = query.created_before {
                    qb.push(" AND created_at < ").push_bind(before);
                }
                if indexed_needle.is_none() {
                    let columns = search_columns(<$Store as LeadSearchSql>::JOINED_TEXT, query.search.as_deref());
                    crate::list::push_search(&mut qb, &columns, query.search.as_deref());
                }
                crate::list::push_keyset_page(
                    &mut qb,
                    sort_expr(query.sort.field),
                    query.sort.direction,
                    query.window.after.as_ref(),
                    query.window.limit,
                );
                if indexed_needle.is_some() {
                    qb.push(format_args!(
                        ") SELECT {} FROM page CROSS JOIN leads ON leads.rowid = page.hit",
                        Lead::sql().columns
                    ));
                    crate::list::push_order(&mut qb, sort_expr(query.sort.field), query.sort.direction);
                }
                let _turn = match query.search {
                    Some(_) => Some(self.heavy.enter().await?),
                    None => None,
                };
                // A search is planned for its own needle, never from a cached generic plan: after
                // five runs of a prepared statement PostgreSQL may keep a plan made without the
                // needle, which walked `leads_created` filtering every lead (7.7 ms at 10,000
                // against 0.3 ms through the trigram index; found with crm-bench).
                let rows: Vec<LeadRow> = qb
                    .build_query_as()
                    .persistent(query.search.is_none())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(plain)?;
                let leads = rows.into_iter().map(Lead::try_from).collect::<Result<Vec<_>, _>>()?;
                let field = query.sort.field;
                Ok(Page::from_overfetch(leads, query.window.limit, |l| l.position(field)))
            }

            async fn tidy_lead_search(&self) -> Result<bool, RepoError> {
                self.merge_lead_search_step().await
            }
        }
    };
}

/// Pages of the FTS5 index one merge step may write: about 0.8 MB, 5 to 70 ms at 1,000,000 leads,
/// during which the process's other writes wait.
const MERGE_STEP_PAGES: i64 = 200;

/// Merges segments of SQLite's FTS5 lead search index where a level holds two or more (the
/// `usermerge` of migration 0014), writing at most `pages` pages. Each write of leads adds a small
/// segment, and FTS5's own merging on write leaves about 20 of them at 1,000,000 leads; every
/// search looks each of its trigrams up in every segment. Answers whether the step found work
/// (FTS5 tells by the rows it changed), so that a caller repeats until it did not. The server's
/// upkeep and the benchmark's bulk load both call this.
///
/// # Errors
/// When the statement fails, for instance on a database without the index (before 0012).
pub async fn merge_lead_search(conn: &mut sqlx::SqliteConnection, pages: i64) -> Result<bool, sqlx::Error> {
    let changes = "SELECT total_changes()";
    let before: i64 = sqlx::query_scalar(changes).fetch_one(&mut *conn).await?;
    sqlx::query("INSERT INTO leads_search (leads_search, rank) VALUES ('merge', $1)")
        .bind(pages)
        .execute(&mut *conn)
        .await?;
    let after: i64 = sqlx::query_scalar(changes).fetch_one(&mut *conn).await?;
    Ok(after - before >= 2)
}

impl SqliteStore {
    /// One step of [`merge_lead_search`] in its own write transaction, under the process's write
    /// lock, so that other writes run between steps.
    async fn merge_lead_search_step(&self) -> Result<bool, RepoError> {
        let mut tx = self.begin_write().await?;
        let worked = merge_lead_search(tx.conn(), MERGE_STEP_PAGES).await.map_err(plain)?;
        tx.commit().await?;
        Ok(worked)
    }
}

impl PgStore {
    /// PostgreSQL's trigram GIN indexes merge their pending entries themselves.
    #[allow(clippy::unused_async)]
    async fn merge_lead_search_step(&self) -> Result<bool, RepoError> {
        Ok(false)
    }
}

impl_leads!(SqliteStore, sqlx::Sqlite);
impl_leads!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::fts5_phrase;

    #[test]
    fn a_needle_is_one_quoted_phrase() {
        assert_eq!(fts5_phrase("ada"), "\"ada\"");
        assert_eq!(fts5_phrase("say \"hi\" OR x"), "\"say \"\"hi\"\" OR x\"");
    }
}
