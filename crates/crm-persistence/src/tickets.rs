//! Support tickets (migration 0027). A ticket's SLA is stored as the instants the domain computed
//! (`crm_domain::ticket`), with the marks that make its SLA status an index range at any instant
//! (`sla_risk_at`, `sla_breach_at`, `sla_missed`, `sla_alert_at`); the list never does
//! business-hours arithmetic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::address::Tags;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::list::{KeysetPosition, Page, SortDirection, SortValue, Window};
use crm_domain::opportunity::{Opportunity, StageChange};
use crm_domain::ports::{TicketChange, TicketLinks, TicketRepository, TicketTargets};
use crm_domain::quote::{DocumentKind, DocumentNumber};
use crm_domain::sla_settings::SlaSettings;
use crm_domain::ticket::{
    CommentAuthor, CommentVisibility, SlaStatus, Ticket, TicketCategory, TicketChannel, TicketComment, TicketPriority,
    TicketQuery, TicketSla, TicketSortField, TicketStatus,
};
use crm_domain::timeline::{About, Concerns};
use crm_domain::value::{CustomFields, LongText, Name};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::documents::{OWNER_VIOLATIONS, numbered, parsed};
use crate::error::{corrupt, plain};
use crate::opportunities::write_stage_change;
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

/// The active statuses, word for word as the partial indexes of migration 0027 name them: a
/// list that asks only for active tickets repeats this predicate so that both planners may use
/// those indexes.
const ACTIVE: &str = " AND status IN ('new', 'open', 'pending', 'on_hold')";

table! {
    Ticket => TicketRow in "tickets", entity "ticket", violations OWNER_VIOLATIONS, |ticket| {
        number_seq: i64 = ticket.number.sequence,
        number: String = ticket.number.number.as_str(),
        subject: String = ticket.subject.as_str(),
        description: Option<String> = ticket.description.as_ref().map(|v| v.as_str()),
        contact_id: Option<Uuid> = ticket.contact_id,
        account_id: Option<Uuid> = ticket.account_id,
        opportunity_id: Option<Uuid> = ticket.opportunity_id,
        order_id: Option<Uuid> = ticket.order_id,
        product_id: Option<Uuid> = ticket.product_id,
        category: String = ticket.category.as_str(),
        priority: String = ticket.priority.as_str(),
        status: String = ticket.status.as_str(),
        channel: String = ticket.channel.as_str(),
        owner_id: Option<Uuid> = ticket.owner_id,
        tags: Json<Vec<String>> = Json(ticket.tags.as_slice()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&ticket.custom_fields)?,
        pending_reason: Option<String> = ticket.pending_reason.as_ref().map(|v| v.as_str()),
        resolution: Option<String> = ticket.resolution.as_ref().map(|v| v.as_str()),
        first_responded_at: Option<DateTime<Utc>> = ticket.first_responded_at,
        solved_at: Option<DateTime<Utc>> = ticket.solved_at,
        closes_at: Option<DateTime<Utc>> = ticket.closes_at,
        closed_at: Option<DateTime<Utc>> = ticket.closed_at,
        opportunity_ids: Json<Vec<Uuid>> = Json(ticket.opportunity_ids.as_slice()),
        reopened_count: i64 = ticket.reopened_count,
        first_response_due_at: DateTime<Utc> = ticket.sla.first_response_due_at,
        first_response_at_risk_at: DateTime<Utc> = ticket.sla.first_response_at_risk_at,
        resolution_due_at: DateTime<Utc> = ticket.sla.resolution_due_at,
        resolution_at_risk_at: DateTime<Utc> = ticket.sla.resolution_at_risk_at,
        resolution_started_at: DateTime<Utc> = ticket.sla.resolution_started_at,
        paused_business_seconds: i64 = ticket.sla.paused_business_seconds,
        paused_calendar_seconds: i64 = ticket.sla.paused_calendar_seconds,
        paused_at: Option<DateTime<Utc>> = ticket.sla.paused_at,
        first_response_missed: bool = ticket.sla.first_response_missed,
        resolution_missed: bool = ticket.sla.resolution_missed,
        first_response_business_seconds: Option<i64> = ticket.sla.first_response_business_seconds,
        resolution_business_seconds: Option<i64> = ticket.sla.resolution_business_seconds,
        sla_risk_at: Option<DateTime<Utc>> = ticket.sla_marks().risk_at,
        sla_breach_at: Option<DateTime<Utc>> = ticket.sla_marks().breach_at,
        sla_missed: bool = ticket.sla_marks().missed,
        sla_alert_at: Option<DateTime<Utc>> = ticket.sla_marks().alert_at(ticket.created_at),
        updated_at: DateTime<Utc> = ticket.updated_at,
        version: i64 = ticket.version,
        archived_at: Option<DateTime<Utc>> = ticket.archived_at,
    }
}

numbered!(Ticket, DocumentKind::Ticket);

impl TryFrom<TicketRow> for Ticket {
    type Error = RepoError;
    fn try_from(row: TicketRow) -> Result<Self, RepoError> {
        let text = |v: Option<String>| v.map(LongText::from_trusted);
        let stored_marks = (row.sla_risk_at, row.sla_breach_at, row.sla_missed, row.sla_alert_at);
        let ticket = Ticket {
            id: row.id,
            organization_id: row.organization_id,
            number: DocumentNumber { sequence: row.number_seq, number: row.number },
            subject: Name::from_trusted(row.subject),
            description: text(row.description),
            contact_id: row.contact_id,
            account_id: row.account_id,
            opportunity_id: row.opportunity_id,
            order_id: row.order_id,
            product_id: row.product_id,
            category: parsed(&row.category, "ticket category", TicketCategory::parse)?,
            priority: parsed(&row.priority, "ticket priority", TicketPriority::parse)?,
            status: parsed(&row.status, "ticket status", TicketStatus::parse)?,
            channel: parsed(&row.channel, "ticket channel", TicketChannel::parse)?,
            owner_id: row.owner_id,
            tags: Tags::from_trusted(row.tags.0),
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            pending_reason: text(row.pending_reason),
            resolution: text(row.resolution),
            first_responded_at: row.first_responded_at,
            solved_at: row.solved_at,
            closes_at: row.closes_at,
            closed_at: row.closed_at,
            reopened_count: row.reopened_count,
            opportunity_ids: row.opportunity_ids.0,
            sla: TicketSla {
                first_response_due_at: row.first_response_due_at,
                first_response_at_risk_at: row.first_response_at_risk_at,
                resolution_due_at: row.resolution_due_at,
                resolution_at_risk_at: row.resolution_at_risk_at,
                resolution_started_at: row.resolution_started_at,
                paused_business_seconds: row.paused_business_seconds,
                paused_calendar_seconds: row.paused_calendar_seconds,
                paused_at: row.paused_at,
                first_response_missed: row.first_response_missed,
                resolution_missed: row.resolution_missed,
                first_response_business_seconds: row.first_response_business_seconds,
                resolution_business_seconds: row.resolution_business_seconds,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        };
        // The marks are derived from the other columns whenever the ticket is written; marks
        // that disagree would make the list's SLA filter lie.
        let marks = ticket.sla_marks();
        if stored_marks != (marks.risk_at, marks.breach_at, marks.missed, marks.alert_at(ticket.created_at)) {
            return Err(corrupt("ticket SLA marks"));
        }
        Ok(ticket)
    }
}

pub(crate) const COMMENT_COLUMNS: &str = "organization_id, id, ticket_id, body, visibility, author_user_id, \
     author_contact_id, created_at, created_by, redacted_at, redacted_by";

crate::rows::rows! {
    pub(crate) struct TicketCommentRow {
        organization_id: Uuid,
        id: Uuid,
        ticket_id: Uuid,
        body: Option<String>,
        visibility: String,
        author_user_id: Option<Uuid>,
        author_contact_id: Option<Uuid>,
        created_at: DateTime<Utc>,
        created_by: Uuid,
        redacted_at: Option<DateTime<Utc>>,
        redacted_by: Option<Uuid>,
    }
}

impl TryFrom<TicketCommentRow> for TicketComment {
    type Error = RepoError;
    fn try_from(row: TicketCommentRow) -> Result<Self, RepoError> {
        let author = match (row.author_user_id, row.author_contact_id) {
            (Some(id), None) => CommentAuthor::User(id),
            (None, Some(id)) => CommentAuthor::Contact(id),
            _ => return Err(corrupt("comment author")),
        };
        Ok(TicketComment {
            id: row.id,
            organization_id: row.organization_id,
            ticket_id: row.ticket_id,
            body: row.body.map(LongText::from_trusted),
            visibility: parsed(&row.visibility, "comment visibility", CommentVisibility::parse)?,
            author,
            created_at: row.created_at,
            created_by: row.created_by,
            redacted_at: row.redacted_at,
            redacted_by: row.redacted_by,
        })
    }
}

/// The records a ticket names and the organisation's SLA policy, in one read: the policy's row,
/// as `sla.rs` reads it, with each named record looked up by its key (archived ones included).
static TARGETS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let found = |table: &str, column: &str, param: &str| {
        format!("(SELECT {column} FROM {table} WHERE organization_id = $1 AND id = {param})")
    };
    format!(
        "SELECT organization_id, {}, {} AS contact, {} AS contact_account, {} AS account, {} AS opportunity, \
         {} AS order_found, {} AS product FROM sla_policies WHERE organization_id = $1",
        crate::sla::SLA_COLUMNS,
        found("contacts", "id", "$2"),
        found("contacts", "account_id", "$2"),
        found("accounts", "id", "$3"),
        found("opportunities", "id", "$4"),
        found("orders", "id", "$5"),
        found("products", "id", "$6"),
    )
});

crate::rows::rows! {
    pub(crate) struct TargetsRow {
        contact: Option<Uuid>,
        contact_account: Option<Uuid>,
        account: Option<Uuid>,
        opportunity: Option<Uuid>,
        order_found: Option<Uuid>,
        product: Option<Uuid>,
    }
}

fn author_ids(author: CommentAuthor) -> (Option<Uuid>, Option<Uuid>) {
    match author {
        CommentAuthor::User(id) => (Some(id), None),
        CommentAuthor::Contact(id) => (None, Some(id)),
    }
}

fn sort_column(field: TicketSortField) -> &'static str {
    match field {
        TicketSortField::CreatedAt => "created_at",
        TicketSortField::UpdatedAt => "updated_at",
        TicketSortField::Number => "number_seq",
        TicketSortField::FirstResponseDueAt => "first_response_due_at",
        TicketSortField::ResolutionDueAt => "resolution_due_at",
    }
}

/// The handler checks the ticket and the author first: a foreign-key failure is the author.
const COMMENT_VIOLATIONS: crate::error::Violations =
    crate::error::Violations { unique: None, foreign_key: Some("author_contact_id") };

fn is_active(status: TicketStatus) -> bool {
    matches!(status, TicketStatus::New | TicketStatus::Open | TicketStatus::Pending | TicketStatus::OnHold)
}

macro_rules! impl_tickets {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl TicketRepository for $Store {
            async fn ticket_targets(
                &self,
                organization_id: Uuid,
                links: &TicketLinks,
            ) -> Result<(TicketTargets, SlaSettings), RepoError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(TARGETS.as_str()))
                    .bind(organization_id)
                    .bind(links.contact_id)
                    .bind(links.account_id)
                    .bind(links.opportunity_id)
                    .bind(links.order_id)
                    .bind(links.product_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(plain)?
                    .ok_or(RepoError::NotFound)?;
                let policy: crate::sla::SlaRow = sqlx::FromRow::from_row(&row).map_err(plain)?;
                let found: TargetsRow = sqlx::FromRow::from_row(&row).map_err(plain)?;
                let targets = TicketTargets {
                    contact: found.contact.map(|_| found.contact_account),
                    account: found.account.is_some(),
                    opportunity: found.opportunity.is_some(),
                    order: found.order_found.is_some(),
                    product: found.product.is_some(),
                };
                Ok((targets, policy.try_into()?))
            }

            async fn insert_ticket(&self, ticket: &Ticket, audit: &AuditContext) -> Result<Ticket, RepoError> {
                self.insert_numbered(ticket, audit).await
            }

            async fn list_tickets(
                &self,
                organization_id: Uuid,
                query: &TicketQuery,
            ) -> Result<Page<Ticket>, RepoError> {
                let now = query.now;
                let only_active = !query.statuses.is_empty() && query.statuses.iter().all(|s| is_active(*s));
                let due_filter = query.first_response_due_before.is_some() || query.resolution_due_before.is_some();
                // The queue's order is the active index's (SQLite would rather sort the range of
                // another filter's index, the SLA marks', which holds every breach of the past).
                let index = match query.sort.field {
                    TicketSortField::ResolutionDueAt if only_active || due_filter => {
                        Some("tickets_active_resolution_due")
                    }
                    TicketSortField::FirstResponseDueAt if query.first_response_due_before.is_some() => {
                        Some("tickets_active_first_response_due")
                    }
                    _ => None,
                };
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM {} WHERE organization_id = ",
                    Ticket::sql().columns,
                    index.map_or_else(
                        || "tickets".to_owned(),
                        |i| crate::list::from_table::<$Store>("tickets", i, true)
                    )
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                // Statuses as they stand at `now`: a solved ticket past its window is closed.
                crate::list::push_any_of(&mut qb, &query.statuses, |qb, status| match status {
                    TicketStatus::Solved => {
                        qb.push("(status = 'solved' AND closes_at > ").push_bind(now).push(")");
                    }
                    TicketStatus::Closed => {
                        qb.push("(status = 'closed' OR (status = 'solved' AND closes_at <= ");
                        qb.push_bind(now).push("))");
                    }
                    other => {
                        qb.push("status = ").push_bind(other.as_str());
                    }
                });
                if only_active || due_filter {
                    qb.push(ACTIVE);
                }
                if let Some(before) = query.first_response_due_before {
                    qb.push(" AND first_responded_at IS NULL AND first_response_due_at < ").push_bind(before);
                }
                if let Some(before) = query.resolution_due_before {
                    qb.push(" AND resolution_due_at < ").push_bind(before);
                }
                let priorities: Vec<&'static str> = query.priorities.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "priority", &priorities);
                let categories: Vec<&'static str> = query.categories.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "category", &categories);
                // SLA statuses as they stand at `now`, from the stored marks
                // (`SlaMarks::status_on`); at risk and breached both start at `sla_alert_at`.
                if !query.sla_statuses.is_empty()
                    && query.sla_statuses.iter().all(|s| matches!(s, SlaStatus::AtRisk | SlaStatus::Breached))
                {
                    qb.push(" AND sla_alert_at <= ").push_bind(now);
                }
                crate::list::push_any_of(&mut qb, &query.sla_statuses, |qb, status| match status {
                    SlaStatus::Breached => {
                        qb.push("(sla_missed OR sla_breach_at < ").push_bind(now).push(")");
                    }
                    SlaStatus::AtRisk => {
                        qb.push("(NOT sla_missed AND sla_risk_at <= ").push_bind(now);
                        qb.push(" AND (sla_breach_at IS NULL OR sla_breach_at >= ").push_bind(now).push("))");
                    }
                    SlaStatus::OnTrack => {
                        qb.push("(NOT sla_missed AND status NOT IN ('solved', 'closed')");
                        qb.push(" AND (sla_risk_at IS NULL OR sla_risk_at > ").push_bind(now);
                        qb.push(") AND (sla_breach_at IS NULL OR sla_breach_at >= ").push_bind(now).push("))");
                    }
                    SlaStatus::Met => {
                        qb.push("(NOT sla_missed AND status IN ('solved', 'closed'))");
                    }
                });
                if query.unassigned {
                    qb.push(" AND owner_id IS NULL");
                }
                if let Some(id) = query.owner_id {
                    qb.push(" AND owner_id = ").push_bind(id);
                }
                if let Some(id) = query.contact_id {
                    qb.push(" AND contact_id = ").push_bind(id);
                }
                if let Some(id) = query.account_id {
                    qb.push(" AND account_id = ").push_bind(id);
                }
                if let Some(id) = query.product_id {
                    qb.push(" AND product_id = ").push_bind(id);
                }
                let field = query.sort.field;
                self.fetch_page(qb, sort_column(field), query.sort.direction, &query.window, |t: &Ticket| {
                    t.position(field)
                })
                .await
            }

            async fn hand_to_sales(
                &self,
                ticket: TicketChange<'_>,
                opportunity: &Opportunity,
                stage: &StageChange,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let (ticket, expected_version, changes) = ticket;
                let mut tx = self.begin_write().await?;
                Self::update_record(tx.conn(), ticket, expected_version).await?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "ticket",
                    ticket.id,
                    changes,
                    ticket.updated_at,
                    ticket.about()
                )?;
                Self::insert_row(tx.conn(), opportunity).await?;
                write_stage_change!(tx.conn(), opportunity, stage)?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Create,
                    "opportunity",
                    opportunity.id,
                    &opportunity.creation_changes(),
                    opportunity.created_at,
                    opportunity.about()
                )?;
                tx.commit().await
            }

            async fn add_ticket_comment(
                &self,
                comment: &TicketComment,
                ticket: Option<TicketChange<'_>>,
                about: About,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                if let Some((ticket, expected_version, changes)) = ticket {
                    Self::update_record(tx.conn(), ticket, expected_version).await?;
                    write_audit!(
                        tx.conn(),
                        audit,
                        AuditAction::Update,
                        "ticket",
                        ticket.id,
                        changes,
                        ticket.updated_at,
                        about
                    )?;
                }
                let (author_user_id, author_contact_id) = author_ids(comment.author);
                sqlx::query(
                    "INSERT INTO ticket_comments (organization_id, id, ticket_id, body, visibility, author_user_id, \
                     author_contact_id, created_at, created_by, redacted_at, redacted_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(comment.organization_id)
                .bind(comment.id)
                .bind(comment.ticket_id)
                .bind(comment.body.as_ref().map(|v| v.as_str()))
                .bind(comment.visibility.as_str())
                .bind(author_user_id)
                .bind(author_contact_id)
                .bind(comment.created_at)
                .bind(comment.created_by)
                .bind(comment.redacted_at)
                .bind(comment.redacted_by)
                .execute(tx.conn())
                .await
                .map_err(|e| crate::error::map(e, COMMENT_VIOLATIONS))?;
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Create,
                    "ticket_comment",
                    comment.id,
                    &comment.creation_changes(),
                    comment.created_at,
                    about
                )?;
                tx.commit().await
            }

            async fn list_ticket_comments(
                &self,
                organization_id: Uuid,
                ticket_id: Uuid,
                visibility: Option<CommentVisibility>,
                window: &Window,
            ) -> Result<Page<TicketComment>, RepoError> {
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {COMMENT_COLUMNS} FROM ticket_comments WHERE organization_id = "
                ));
                qb.push_bind(organization_id).push(" AND ticket_id = ").push_bind(ticket_id);
                if let Some(visibility) = visibility {
                    qb.push(" AND visibility = ").push_bind(visibility.as_str());
                }
                crate::list::push_keyset_page(
                    &mut qb,
                    "created_at",
                    SortDirection::Ascending,
                    window.after.as_ref(),
                    window.limit,
                );
                let rows: Vec<TicketCommentRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let items = rows.into_iter().map(TicketComment::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_overfetch(items, window.limit, |c| KeysetPosition {
                    value: SortValue::Timestamp(c.created_at),
                    id: c.id,
                }))
            }

            async fn ticket_comment(
                &self,
                organization_id: Uuid,
                ticket_id: Uuid,
                comment_id: Uuid,
            ) -> Result<TicketComment, RepoError> {
                let row: TicketCommentRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COMMENT_COLUMNS} FROM ticket_comments \
                     WHERE organization_id = $1 AND ticket_id = $2 AND id = $3"
                )))
                .bind(organization_id)
                .bind(ticket_id)
                .bind(comment_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                row.try_into()
            }

            async fn redact_ticket_comment(
                &self,
                comment: &TicketComment,
                changes: &[FieldChange],
                about: About,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE ticket_comments SET body = NULL, redacted_at = $3, redacted_by = $4 \
                     WHERE organization_id = $1 AND id = $2 AND redacted_at IS NULL",
                )
                .bind(comment.organization_id)
                .bind(comment.id)
                .bind(comment.redacted_at)
                .bind(comment.redacted_by)
                .execute(tx.conn())
                .await
                .map_err(plain)?
                .rows_affected();
                if updated == 0 {
                    return Err(RepoError::VersionMismatch { current: 2 });
                }
                let at = comment.redacted_at.unwrap_or(comment.created_at);
                write_audit!(tx.conn(), audit, AuditAction::Update, "ticket_comment", comment.id, changes, at, about)?;
                tx.commit().await
            }
        }
    };
}

impl_tickets!(SqliteStore, sqlx::Sqlite);
impl_tickets!(PgStore, sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::sorted_columns;

    #[test]
    fn a_ticket_keeps_its_columns() {
        // Every column of the table (migration 0027), in any order.
        let expected = "organization_id, id, number_seq, number, subject, description, contact_id, account_id, \
             opportunity_id, order_id, product_id, category, priority, status, channel, owner_id, tags, custom_fields, \
             pending_reason, resolution, first_responded_at, solved_at, closes_at, closed_at, opportunity_ids, reopened_count, \
             first_response_due_at, first_response_at_risk_at, resolution_due_at, resolution_at_risk_at, \
             resolution_started_at, paused_business_seconds, paused_calendar_seconds, paused_at, \
             first_response_missed, resolution_missed, first_response_business_seconds, \
             resolution_business_seconds, sla_risk_at, sla_breach_at, sla_missed, sla_alert_at, \
             created_at, updated_at, created_by, version, archived_at";
        assert_eq!(sorted_columns(&Ticket::sql().columns), sorted_columns(expected));
    }
}
