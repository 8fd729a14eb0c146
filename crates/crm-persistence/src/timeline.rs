//! Timelines: a k-way merge of index ranges. Each source (the customer's linked activities, the
//! activities a contact took part in, the audit events about the customer, those of the leads
//! converted into it) is read newest first after the cursor, at most one page plus one, each
//! from its own index; [`crm_domain::timeline::merge`] keeps the newest page of them all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::activity::Activity;
use crm_domain::audit::AuditAction;
use crm_domain::list::{Page, SortDirection, Window};
use crm_domain::ports::TimelineRepository;
use crm_domain::timeline::{Detail, StageSnapshot, TimelineFilter, TimelineItem, TimelineKind, TimelineSubject, merge};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{corrupt, plain};
use crate::list::{from_table, push_any_text, push_keyset_page};
use crate::table::Table;

/// The activities' time: when it happened, or while planned, when it is due; the order of the
/// link indexes of migration 0019.
const ACTIVITY_TIME: &str = "COALESCE(occurred_at, due_at)";

crate::rows::rows! {
    pub(crate) struct TimelineEventRow {
        id: Uuid,
        actor_id: Option<Uuid>,
        action: String,
        entity_type: String,
        entity_id: Uuid,
        changes: Json<serde_json::Value>,
        occurred_at: DateTime<Utc>,
        timeline_kind: String,
        stage: Option<String>,
        stage_amount: Option<i64>,
        stage_currency: Option<String>,
        stage_probability: Option<i64>,
    }
}

impl TryFrom<TimelineEventRow> for TimelineItem {
    type Error = RepoError;
    fn try_from(row: TimelineEventRow) -> Result<Self, RepoError> {
        let kind = TimelineKind::parse("timeline_kind", &row.timeline_kind).map_err(|_| corrupt("timeline kind"))?;
        let stage = match (row.stage, row.stage_probability) {
            (Some(stage), Some(probability)) => Some(StageSnapshot {
                stage: crate::rows::stage(&stage)?,
                amount: crate::rows::money(row.stage_amount, row.stage_currency)?,
                probability: crate::rows::percent(probability)?,
            }),
            _ => None,
        };
        Ok(Self {
            id: row.id,
            kind,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            record_type: row.entity_type,
            record_id: row.entity_id,
            detail: Detail::Event {
                action: AuditAction::parse("action", &row.action).map_err(|_| corrupt("audit action"))?,
                changes: crate::rows::changes_from_json(&row.changes)?,
                stage,
            },
        })
    }
}

/// The audit events of a page's range (the inner query, built by `events_from` and closed by
/// `event_source`) with, for a deal's creation and stage changes, the deal's stage-history row
/// at the event (the latest change at or before it): one lookup in the history's index and one
/// by primary key per item. The outer query keeps no order: `merge` sorts the sources.
const EVENTS_WITH_STAGE: &str = "SELECT p.id, p.actor_id, p.action, p.entity_type, p.entity_id, p.changes, p.occurred_at, \
     p.timeline_kind, h.to_stage AS stage, h.amount AS stage_amount, h.currency AS stage_currency, \
     h.probability AS stage_probability FROM (SELECT e.organization_id, e.id, e.actor_id, e.action, e.entity_type, \
     e.entity_id, e.changes, e.occurred_at, e.timeline_kind FROM ";

/// Closes the inner query of [`EVENTS_WITH_STAGE`] and joins the stage history.
const STAGE_JOIN: &str = ") AS p LEFT JOIN opportunity_stage_history AS h ON h.organization_id = p.organization_id AND h.id = \
     (CASE WHEN p.entity_type = 'opportunity' AND p.timeline_kind IN ('created', 'stage_changed') THEN \
     (SELECT s.id FROM opportunity_stage_history AS s WHERE s.organization_id = p.organization_id \
     AND s.opportunity_id = p.entity_id AND s.changed_at <= p.occurred_at ORDER BY s.changed_at DESC, s.id DESC LIMIT 1) END)";

/// The link column of a subject in the activities and in the audit trail.
fn subject_column(subject: TimelineSubject) -> (&'static str, Uuid) {
    match subject {
        TimelineSubject::Lead(id) => ("lead_id", id),
        TimelineSubject::Contact(id) => ("contact_id", id),
        TimelineSubject::Account(id) => ("account_id", id),
        TimelineSubject::Opportunity(id) => ("opportunity_id", id),
        TimelineSubject::Ticket(id) => ("ticket_id", id),
    }
}

macro_rules! impl_timeline {
    ($Store:ident, $Db:ty) => {
        impl $Store {
            /// The time range and the cursor on a source, then its order and `LIMIT page + 1`.
            fn push_range(qb: &mut QueryBuilder<$Db>, time: &str, filter: &TimelineFilter, window: &Window) {
                if let Some(after) = filter.after {
                    qb.push(format_args!(" AND {time} > ")).push_bind(after);
                }
                if let Some(before) = filter.before {
                    qb.push(format_args!(" AND {time} < ")).push_bind(before);
                }
                push_keyset_page(qb, time, SortDirection::Descending, window.after.as_ref(), window.limit);
            }

            async fn activity_source(&self, mut qb: QueryBuilder<$Db>, filter: &TimelineFilter, window: &Window) -> Result<Vec<TimelineItem>, RepoError> {
                qb.push(" AND archived_at IS NULL");
                Self::push_range(&mut qb, ACTIVITY_TIME, filter, window);
                let rows: Vec<<Activity as Table>::Row> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter().map(|row| Activity::try_from(row).map(TimelineItem::from_activity)).collect()
            }

            fn activities_from(index: &str) -> QueryBuilder<$Db> {
                QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM {} WHERE organization_id = ",
                    Activity::sql().columns,
                    from_table::<$Store>("activities", index, true)
                ))
            }

            fn events_from(column: &str) -> QueryBuilder<$Db> {
                let index = format!("audit_events_timeline_{}", column.trim_end_matches("_id"));
                QueryBuilder::<$Db>::new(format!(
                    "{EVENTS_WITH_STAGE}{} WHERE e.timeline_kind IS NOT NULL AND e.{column} IS NOT NULL AND e.organization_id = ",
                    from_table::<$Store>("audit_events AS e", &index, true)
                ))
            }

            async fn event_source(&self, mut qb: QueryBuilder<$Db>, filter: &TimelineFilter, window: &Window) -> Result<Vec<TimelineItem>, RepoError> {
                if !filter.kinds.is_empty() {
                    let kinds: Vec<&'static str> = filter.event_kinds().iter().map(|k| k.as_str()).collect();
                    push_any_text(&mut qb, "e.timeline_kind", &kinds);
                }
                Self::push_range(&mut qb, "e.occurred_at", filter, window);
                qb.push(STAGE_JOIN);
                let rows: Vec<TimelineEventRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                rows.into_iter().map(TimelineItem::try_from).collect()
            }
        }

        #[async_trait]
        impl TimelineRepository for $Store {
            async fn timeline(
                &self,
                organization_id: Uuid,
                subject: TimelineSubject,
                filter: &TimelineFilter,
                window: &Window,
            ) -> Result<Page<TimelineItem>, RepoError> {
                let (column, id) = subject_column(subject);
                let mut sources = Vec::new();
                if filter.wants(TimelineKind::Activity) {
                    let index = format!("activities_{}", column.trim_end_matches("_id"));
                    let mut qb = Self::activities_from(&index);
                    qb.push_bind(organization_id).push(format_args!(" AND {column} = ")).push_bind(id);
                    sources.push(self.activity_source(qb, filter, window).await?);
                    if let TimelineSubject::Contact(contact) = subject {
                        // The meetings it took part in without being their contact, driven from
                        // the participants' index.
                        let mut qb = Self::activities_from("sqlite_autoindex_activities_1");
                        qb.push_bind(organization_id)
                            .push(" AND id IN (SELECT activity_id FROM activity_participants WHERE organization_id = ")
                            .push_bind(organization_id)
                            .push(" AND contact_id = ")
                            .push_bind(contact)
                            .push(") AND (contact_id IS NULL OR contact_id <> ")
                            .push_bind(contact)
                            .push(")");
                        sources.push(self.activity_source(qb, filter, window).await?);
                    }
                }
                if let TimelineSubject::Ticket(ticket) = subject {
                    // The ticket's own events (by entity), and its comments, internal ones too.
                    if !filter.event_kinds().is_empty() {
                        let mut qb = QueryBuilder::<$Db>::new(format!(
                            "{EVENTS_WITH_STAGE}{} WHERE e.timeline_kind IS NOT NULL AND e.entity_type = 'ticket' \
                             AND e.organization_id = ",
                            from_table::<$Store>("audit_events AS e", "audit_events_entity", true)
                        ));
                        qb.push_bind(organization_id).push(" AND e.entity_id = ").push_bind(ticket);
                        sources.push(self.event_source(qb, filter, window).await?);
                    }
                    let visibilities: Vec<&str> = [
                        (TimelineKind::TicketCommented, "public"),
                        (TimelineKind::TicketNote, "internal"),
                    ]
                    .into_iter()
                    .filter(|(kind, _)| filter.wants(*kind))
                    .map(|(_, visibility)| visibility)
                    .collect();
                    if !visibilities.is_empty() {
                        let mut qb = QueryBuilder::<$Db>::new(format!(
                            "SELECT {} FROM ticket_comments WHERE organization_id = ",
                            crate::tickets::COMMENT_COLUMNS
                        ));
                        qb.push_bind(organization_id).push(" AND ticket_id = ").push_bind(ticket);
                        push_any_text(&mut qb, "visibility", &visibilities);
                        Self::push_range(&mut qb, "created_at", filter, window);
                        let rows: Vec<crate::tickets::TicketCommentRow> =
                            qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                        let comments = rows
                            .into_iter()
                            .map(|row| crm_domain::ticket::TicketComment::try_from(row).map(TimelineItem::from_comment))
                            .collect::<Result<Vec<_>, _>>()?;
                        sources.push(comments);
                    }
                    return Ok(merge(sources, window.limit));
                }
                if !filter.event_kinds().is_empty() {
                    let mut qb = Self::events_from(column);
                    qb.push_bind(organization_id).push(format_args!(" AND e.{column} = ")).push_bind(id);
                    sources.push(self.event_source(qb, filter, window).await?);
                    if let TimelineSubject::Contact(_) | TimelineSubject::Account(_) = subject {
                        // The history of the leads converted into it, before their conversion
                        // (the conversion's own event names it already).
                        let mut qb = Self::events_from("lead_id");
                        qb.push_bind(organization_id)
                            .push(" AND e.lead_id IN (SELECT l.id FROM leads AS l WHERE l.organization_id = ")
                            .push_bind(organization_id)
                            .push(format_args!(" AND l.converted_{column} = "))
                            .push_bind(id)
                            .push(format_args!(") AND (e.{column} IS NULL OR e.{column} <> "))
                            .push_bind(id)
                            .push(")");
                        sources.push(self.event_source(qb, filter, window).await?);
                    }
                }
                Ok(merge(sources, window.limit))
            }
        }
    };
}

impl_timeline!(SqliteStore, sqlx::Sqlite);
impl_timeline!(PgStore, sqlx::Postgres);
