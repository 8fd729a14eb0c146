use async_trait::async_trait;
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::lead::{Lead, LeadQuery, LeadSortField};
use crm_domain::list::Page;
use crm_domain::ports::LeadRepository;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::audit::{AuditedInsertSql, bind_audit, write_audit};
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, map, plain};
use crate::rows::{LEAD_COLUMNS, LeadRow, custom_fields_json};

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

/// Binds a lead's stored fields in column order, from `first_name` to `converted_opportunity_id`
/// ($3 to $24 in the statements below).
macro_rules! bind_lead_fields {
    ($query:expr, $l:expr, $custom_fields:expr) => {
        $query
            .bind($l.first_name.as_ref().map(|v| v.as_str()))
            .bind($l.last_name.as_str())
            .bind($l.company.as_ref().map(|v| v.as_str()))
            .bind($l.title.as_ref().map(|v| v.as_str()))
            .bind($l.email.as_ref().map(|v| v.as_str()))
            .bind($l.phone.as_ref().map(|v| v.as_str()))
            .bind($l.website.as_ref().map(|v| v.as_str()))
            .bind($l.source.map(|v| v.as_str()))
            .bind($l.source_detail.as_ref().map(|v| v.as_str()))
            .bind($l.status.as_str())
            .bind($l.rating.map(|v| v.as_str()))
            .bind($l.owner_id)
            .bind($l.description.as_ref().map(|v| v.as_str()))
            .bind($custom_fields)
            .bind($l.created_at)
            .bind($l.updated_at)
            .bind($l.version)
            .bind($l.archived_at)
            .bind($l.converted_at)
            .bind($l.converted_account_id)
            .bind($l.converted_contact_id)
            .bind($l.converted_opportunity_id)
    };
}
pub(crate) use bind_lead_fields;

/// A lead's INSERT, `$1` to `$25` (`LEAD_INSERT_PARAMS`).
const INSERT_LEAD: &str = "INSERT INTO leads (organization_id, id, first_name, last_name, company, title, email, phone, \
     website, source, source_detail, status, rating, owner_id, description, custom_fields, created_at, updated_at, \
     version, archived_at, converted_at, converted_account_id, converted_contact_id, converted_opportunity_id, \
     created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
     $20, $21, $22, $23, $24, $25)";
const LEAD_INSERT_PARAMS: usize = 25;

/// Binds a lead's INSERT parameters to a query.
macro_rules! bind_lead_insert {
    ($query:expr, $l:expr, $custom_fields:expr) => {{
        let query = $query.bind($l.organization_id).bind($l.id);
        bind_lead_fields!(query, $l, $custom_fields).bind($l.created_by)
    }};
}

/// Updates a lead row when its version is `$expected`; answers the rows touched.
macro_rules! update_lead_row {
    ($conn:expr, $l:expr, $custom_fields:expr, $expected:expr) => {{
        let query = sqlx::query(
            "UPDATE leads SET first_name = $3, last_name = $4, company = $5, title = $6, email = $7, phone = $8, \
             website = $9, source = $10, source_detail = $11, status = $12, rating = $13, owner_id = $14, \
             description = $15, custom_fields = $16, created_at = $17, updated_at = $18, version = $19, \
             archived_at = $20, converted_at = $21, converted_account_id = $22, converted_contact_id = $23, \
             converted_opportunity_id = $24 WHERE organization_id = $1 AND id = $2 AND version = $25",
        )
        .bind($l.organization_id)
        .bind($l.id);
        let rows = bind_lead_fields!(query, $l, $custom_fields)
            .bind($expected)
            .execute($conn)
            .await
            .map_err(|e| map(e, OWNER_VIOLATIONS))?
            .rows_affected();
        Ok::<u64, RepoError>(rows)
    }};
}
pub(crate) use update_lead_row;

macro_rules! impl_leads {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl LeadRepository for $Store {
            async fn insert_lead(&self, lead: &Lead, audit: &AuditContext) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&lead.custom_fields)?;
                static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    <$Store as AuditedInsertSql>::audited_insert(INSERT_LEAD, LEAD_INSERT_PARAMS)
                });
                let query = bind_lead_insert!(sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())), lead, custom_fields);
                let changes = lead.creation_changes();
                let query = bind_audit!(query, audit, AuditAction::Create, "lead", lead.id, &changes, lead.created_at);
                self.run_audited_insert(query).await.map_err(|e| map(e, OWNER_VIOLATIONS))
            }

            async fn get_lead(&self, organization_id: Uuid, lead_id: Uuid) -> Result<Lead, RepoError> {
                let row: LeadRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE organization_id = $1 AND id = $2"
                )))
                .bind(organization_id)
                .bind(lead_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn update_lead(
                &self,
                lead: &Lead,
                expected_version: i64,
                action: AuditAction,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let custom_fields = custom_fields_json(&lead.custom_fields)?;
                let mut tx = self.begin_write().await?;
                let updated = update_lead_row!(tx.conn(), lead, custom_fields, expected_version)?;
                if updated == 0 {
                    return Err(crate::error::stale_or_missing!(tx.conn(), "leads", lead.organization_id, lead.id));
                }
                write_audit!(tx.conn(), audit, action, "lead", lead.id, changes, lead.updated_at)?;
                tx.commit().await
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
                        QueryBuilder::<$Db>::new(format!("SELECT {LEAD_COLUMNS} FROM {from} WHERE organization_id = "))
                    }
                };
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
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
                        ") SELECT {LEAD_COLUMNS} FROM page CROSS JOIN leads ON leads.rowid = page.hit"
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
