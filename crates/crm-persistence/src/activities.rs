//! Activities: the interactions with customers and what is planned next.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::RepoError;
use crm_domain::activity::{
    About, AboutKind, Activity, ActivityKind, ActivityOutcome, ActivityQuery, ActivitySortField, ActivityStatus,
    Direction, LinkTargets, Links, Priority, Reminder, ReminderQuery,
};
use crm_domain::audit::AuditContext;
use crm_domain::list::Page;
use crm_domain::ports::ActivityRepository;
use crm_domain::value::{CustomFields, LongText, Name};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, plain};
use crate::rows::custom_fields_json;
use crate::table::{Table, table};

/// The links are checked (active records of the organisation) before a write; what a foreign key
/// can still refuse is the owner.
const OWNER_VIOLATIONS: Violations = Violations { unique: None, foreign_key: Some("owner_id") };

/// The two time orders, as the indexes of migration 0019 are written: never NULL.
const DUE_ORDER: &str = "COALESCE(due_at, occurred_at)";
const OCCURRED_ORDER: &str = "COALESCE(occurred_at, due_at)";

/// The records an activity names, by primary key, active ones only: one trip and one lookup for
/// each of the four links (a link not given joins nothing).
const LINK_TARGETS: &str = "SELECT l.id AS lead, c.id AS contact, c.account_id AS contact_account, a.id AS account, \
     o.id AS opportunity, o.account_id AS opportunity_account FROM (SELECT 1 AS one) AS base \
     LEFT JOIN leads AS l ON l.organization_id = $1 AND l.id = $2 AND l.archived_at IS NULL \
     LEFT JOIN contacts AS c ON c.organization_id = $1 AND c.id = $3 AND c.archived_at IS NULL \
     LEFT JOIN accounts AS a ON a.organization_id = $1 AND a.id = $4 AND a.archived_at IS NULL \
     LEFT JOIN opportunities AS o ON o.organization_id = $1 AND o.id = $5 AND o.archived_at IS NULL";

crate::rows::rows! {
    pub(crate) struct LinkTargetsRow {
        lead: Option<Uuid>,
        contact: Option<Uuid>,
        contact_account: Option<Uuid>,
        account: Option<Uuid>,
        opportunity: Option<Uuid>,
        opportunity_account: Option<Uuid>,
    }
}

fn sort_expr(field: ActivitySortField) -> &'static str {
    match field {
        ActivitySortField::DueAt => DUE_ORDER,
        ActivitySortField::OccurredAt => OCCURRED_ORDER,
        ActivitySortField::CreatedAt => "created_at",
    }
}

table! {
    Activity => ActivityRow in "activities", entity "activity", violations OWNER_VIOLATIONS, |activity| {
        kind: String = activity.kind.as_str(),
        direction: Option<String> = activity.direction.map(Direction::as_str),
        subject: String = activity.subject.as_str(),
        body: Option<String> = activity.body.as_ref().map(|v| v.as_str()),
        status: String = activity.status.as_str(),
        due_at: Option<DateTime<Utc>> = activity.due_at,
        remind_at: Option<DateTime<Utc>> = activity.remind_at,
        alert_at: Option<DateTime<Utc>> = activity.alert_at(),
        occurred_at: Option<DateTime<Utc>> = activity.occurred_at,
        duration_minutes: Option<i64> = activity.duration_minutes.map(i64::from),
        outcome: Option<String> = activity.outcome.map(ActivityOutcome::as_str),
        priority: String = activity.priority.as_str(),
        owner_id: Uuid = activity.owner_id,
        lead_id: Option<Uuid> = activity.links.lead_id,
        contact_id: Option<Uuid> = activity.links.contact_id,
        account_id: Option<Uuid> = activity.links.account_id,
        opportunity_id: Option<Uuid> = activity.links.opportunity_id,
        ticket_id: Option<Uuid> = activity.ticket_id,
        participant_contact_ids: Json<Vec<Uuid>> = Json(activity.participant_contact_ids.clone()),
        custom_fields: Json<serde_json::Value> = custom_fields_json(&activity.custom_fields)?,
        updated_at: DateTime<Utc> = activity.updated_at,
        version: i64 = activity.version,
        archived_at: Option<DateTime<Utc>> = activity.archived_at,
    }
}

impl TryFrom<ActivityRow> for Activity {
    type Error = RepoError;
    fn try_from(row: ActivityRow) -> Result<Self, RepoError> {
        let stored_alert = row.alert_at;
        let activity = Activity {
            id: row.id,
            organization_id: row.organization_id,
            kind: ActivityKind::parse("kind", &row.kind).map_err(|_| corrupt("kind"))?,
            direction: row
                .direction
                .as_deref()
                .map(|d| Direction::parse("direction", d))
                .transpose()
                .map_err(|_| corrupt("direction"))?,
            subject: Name::from_trusted(row.subject),
            body: row.body.map(LongText::from_trusted),
            status: ActivityStatus::parse("status", &row.status).map_err(|_| corrupt("status"))?,
            due_at: row.due_at,
            remind_at: row.remind_at,
            occurred_at: row.occurred_at,
            duration_minutes: row
                .duration_minutes
                .map(u32::try_from)
                .transpose()
                .map_err(|_| corrupt("duration_minutes"))?,
            outcome: row
                .outcome
                .as_deref()
                .map(|o| ActivityOutcome::parse("outcome", o))
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
            priority: Priority::parse("priority", &row.priority).map_err(|_| corrupt("priority"))?,
            owner_id: row.owner_id,
            links: Links {
                lead_id: row.lead_id,
                contact_id: row.contact_id,
                account_id: row.account_id,
                opportunity_id: row.opportunity_id,
            },
            ticket_id: row.ticket_id,
            participant_contact_ids: row.participant_contact_ids.0,
            custom_fields: CustomFields::from_trusted(row.custom_fields.0.to_string()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: row.created_by,
            version: row.version,
            archived_at: row.archived_at,
        };
        // The stored reminder instant is derived from the record; one that disagrees was not
        // written by this code.
        if stored_alert != activity.alert_at() {
            return Err(corrupt("alert_at"));
        }
        Ok(activity)
    }
}

/// The activities a conversion moves ([`crm_domain::conversion::ConversionPlan::moved_activity_links`]):
/// the lead's (`$2`), archived ones included, that name no contact and no deal, and either no
/// account (`MOVED_WITHOUT_ACCOUNT`) or the conversion's account `$3` (`MOVED_WITH_ACCOUNT`).
pub(crate) const MOVED: &str =
    "organization_id = $1 AND lead_id = $2 AND contact_id IS NULL AND opportunity_id IS NULL";
pub(crate) const MOVED_WITHOUT_ACCOUNT: &str = "account_id IS NULL";
pub(crate) const MOVED_WITH_ACCOUNT: &str = "account_id = $3";

/// Moves a converted lead's activities onto the records the conversion produced, on the
/// transaction's connection, with an audit event for each, and answers how many moved:
/// `move_lead_activities!(tx.conn(), &AuditContext, &plan, at)`. The interaction triggers of
/// migration 0020 then bring the contact's, account's and deal's last and next interaction up
/// to date in the same transaction.
macro_rules! move_lead_activities {
    ($conn:expr, $audit:expr, $plan:expr, $at:expr) => {
        async {
            use crm_domain::audit::{AuditAction, AuditValue, FieldChange};
            let links = $plan.moved_activity_links();
            let mut moved = 0_u64;
            for (condition, fills_account) in [
                ($crate::activities::MOVED_WITHOUT_ACCOUNT, true),
                ($crate::activities::MOVED_WITH_ACCOUNT, false),
            ] {
                if !fills_account && links.account_id.is_none() {
                    continue;
                }
                let account_set = if fills_account { ", account_id = $3" } else { "" };
                let ids: Vec<(Uuid,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE activities SET contact_id = $4, opportunity_id = $5{account_set}, \
                     version = version + 1, updated_at = $6 WHERE {} AND {condition} RETURNING id",
                    $crate::activities::MOVED
                )))
                .bind($audit.organization_id)
                .bind(links.lead_id)
                .bind(links.account_id)
                .bind(links.contact_id)
                .bind(links.opportunity_id)
                .bind($at)
                .fetch_all(&mut *$conn)
                .await
                .map_err($crate::error::plain)?;
                let id_value = |id: Option<Uuid>| id.map_or(AuditValue::Null, AuditValue::text);
                let mut changes = vec![FieldChange::new("contact_id", AuditValue::Null, id_value(links.contact_id))];
                if fills_account && links.account_id.is_some() {
                    changes.push(FieldChange::new("account_id", AuditValue::Null, id_value(links.account_id)));
                }
                if links.opportunity_id.is_some() {
                    changes.push(FieldChange::new("opportunity_id", AuditValue::Null, id_value(links.opportunity_id)));
                }
                for (id,) in &ids {
                    $crate::audit::write_audit!(&mut *$conn, $audit, AuditAction::Update, "activity", *id, &changes, $at, crm_domain::timeline::About::NONE)?;
                }
                moved += u64::try_from(ids.len()).unwrap_or(u64::MAX);
            }
            Ok::<u64, RepoError>(moved)
        }
    };
}
pub(crate) use move_lead_activities;

/// The index a filtered activity list reads on SQLite ([`crate::list::IndexHint`]): without it,
/// SQLite walks the organisation's activities in the list's order until it has a page, however
/// few of them the filter keeps. A participant's activities are found by their key (the primary
/// key's index, which SQLite names `sqlite_autoindex_activities_1`) from the participants' rows;
/// a link's from that link's index. The page is then sorted, at a cost that grows with the
/// record's activities, not the organisation's.
fn list_index(query: &ActivityQuery) -> Option<&'static str> {
    if query.participant_contact_id.is_some() {
        Some("sqlite_autoindex_activities_1")
    } else if query.ticket_id.is_some() {
        Some("activities_ticket")
    } else if query.contact_id.is_some() {
        Some("activities_contact")
    } else if query.opportunity_id.is_some() {
        Some("activities_opportunity")
    } else if query.lead_id.is_some() {
        Some("activities_lead")
    } else if query.account_id.is_some() {
        Some("activities_account")
    } else {
        None
    }
}

macro_rules! impl_activities {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl ActivityRepository for $Store {
            async fn insert_activity(&self, activity: &Activity, audit: &AuditContext) -> Result<(), RepoError> {
                self.insert_record(activity, &activity.creation_changes(), audit).await
            }

            async fn link_targets(&self, organization_id: Uuid, links: &Links) -> Result<LinkTargets, RepoError> {
                let row: LinkTargetsRow = sqlx::query_as(LINK_TARGETS)
                    .bind(organization_id)
                    .bind(links.lead_id)
                    .bind(links.contact_id)
                    .bind(links.account_id)
                    .bind(links.opportunity_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(plain)?;
                Ok(LinkTargets {
                    lead: row.lead.is_some(),
                    contact: row.contact.map(|_| row.contact_account),
                    account: row.account.is_some(),
                    opportunity: row.opportunity.map(|_| row.opportunity_account),
                })
            }

            async fn count_moved_activities(&self, organization_id: Uuid, links: &Links) -> Result<u64, RepoError> {
                let (count,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM activities WHERE {MOVED} AND ({MOVED_WITHOUT_ACCOUNT} OR {MOVED_WITH_ACCOUNT})"
                )))
                .bind(organization_id)
                .bind(links.lead_id)
                .bind(links.account_id)
                .fetch_one(&self.pool)
                .await
                .map_err(plain)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn list_activities(
                &self,
                organization_id: Uuid,
                query: &ActivityQuery,
            ) -> Result<Page<Activity>, RepoError> {
                let from = match list_index(query) {
                    Some(index) => crate::list::from_table::<$Store>("activities", index, true),
                    None => "activities".to_owned(),
                };
                let mut qb = QueryBuilder::<$Db>::new(format!(
                    "SELECT {} FROM {from} WHERE organization_id = ",
                    Activity::sql().columns
                ));
                qb.push_bind(organization_id);
                qb.push(crate::list::archived_condition(query.archived));
                let kinds: Vec<&'static str> = query.kinds.iter().map(|k| k.as_str()).collect();
                crate::list::push_any_text(&mut qb, "kind", &kinds);
                let statuses: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
                crate::list::push_any_text(&mut qb, "status", &statuses);
                let outcomes: Vec<&'static str> = query.outcomes.iter().map(|o| o.as_str()).collect();
                crate::list::push_any_text(&mut qb, "outcome", &outcomes);
                crate::list::push_any_id(&mut qb, "owner_id", &query.owner_ids);
                for (column, id) in [
                    ("lead_id", query.lead_id),
                    ("contact_id", query.contact_id),
                    ("account_id", query.account_id),
                    ("opportunity_id", query.opportunity_id),
                    ("ticket_id", query.ticket_id),
                ] {
                    if let Some(id) = id {
                        qb.push(format_args!(" AND {column} = ")).push_bind(id);
                    }
                }
                if let Some(contact) = query.participant_contact_id {
                    // Driven from the participants' index, however many activities there are.
                    qb.push(" AND id IN (SELECT activity_id FROM activity_participants WHERE organization_id = ")
                        .push_bind(organization_id)
                        .push(" AND contact_id = ")
                        .push_bind(contact)
                        .push(")");
                }
                if let Some(after) = query.due_after {
                    qb.push(" AND due_at > ").push_bind(after);
                }
                if let Some(before) = query.due_before {
                    qb.push(" AND due_at < ").push_bind(before);
                }
                if let Some(after) = query.occurred_after {
                    qb.push(" AND occurred_at > ").push_bind(after);
                }
                if let Some(before) = query.occurred_before {
                    qb.push(" AND occurred_at < ").push_bind(before);
                }
                if let Some(now) = query.overdue_at {
                    qb.push(" AND status = 'planned' AND due_at < ").push_bind(now);
                }
                crate::list::push_search(&mut qb, &["subject", "body"], query.search.as_deref());
                let field = query.sort.field;
                self.fetch_page(qb, sort_expr(field), query.sort.direction, &query.window, |a: &Activity| {
                    a.position(field)
                })
                .await
            }

            async fn reminders(
                &self,
                organization_id: Uuid,
                query: &ReminderQuery,
            ) -> Result<Vec<Reminder>, RepoError> {
                // Two index ranges, each read no further than the page (their predicate is
                // repeated so that both planners use them), in `reminder_order`: the overdue ones
                // from `activities_overdue` (0024) by due date, then, when they leave room, the
                // others from `activities_alerts` by reminder time. The second range skips the
                // overdue ones it meets, fewer than a page of them, since the first range did not
                // fill the page.
                let limit = i64::from(query.limit);
                let page = |index: &str, overdue: bool| {
                    let mut qb = QueryBuilder::<$Db>::new(format!(
                        "SELECT {} FROM {} WHERE organization_id = ",
                        Activity::sql().columns,
                        crate::list::from_table::<$Store>("activities", index, true)
                    ));
                    qb.push_bind(organization_id);
                    qb.push(" AND owner_id = ").push_bind(query.owner_id);
                    qb.push(" AND alert_at IS NOT NULL AND archived_at IS NULL AND alert_at <= ").push_bind(query.until);
                    if overdue {
                        qb.push(" AND due_at < ").push_bind(query.now).push(" ORDER BY due_at, id");
                    } else {
                        qb.push(" AND (due_at IS NULL OR due_at >= ").push_bind(query.now).push(") ORDER BY alert_at, id");
                    }
                    qb
                };
                let mut overdue = page("activities_overdue", true);
                overdue.push(" LIMIT ").push_bind(limit);
                let rows: Vec<ActivityRow> = overdue.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                let mut activities = rows.into_iter().map(Activity::try_from).collect::<Result<Vec<_>, _>>()?;
                let room = limit - i64::try_from(activities.len()).unwrap_or(limit);
                if room > 0 {
                    let mut upcoming = page("activities_alerts", false);
                    upcoming.push(" LIMIT ").push_bind(room);
                    let rows: Vec<ActivityRow> = upcoming.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                    for row in rows {
                        activities.push(Activity::try_from(row)?);
                    }
                }
                let names = self.names_of(organization_id, &activities).await?;
                Ok(activities
                    .into_iter()
                    .map(|activity| {
                        let l = activity.links;
                        let about = [
                            (AboutKind::Lead, l.lead_id),
                            (AboutKind::Contact, l.contact_id),
                            (AboutKind::Account, l.account_id),
                            (AboutKind::Opportunity, l.opportunity_id),
                        ]
                        .into_iter()
                        .filter_map(|(kind, id)| {
                            let id = id?;
                            names.get(&id).map(|name| About { kind, id, name: name.clone() })
                        })
                        .collect();
                        Reminder { activity, about }
                    })
                    .collect())
            }
        }

        impl $Store {
            /// The names of the records `activities` are about, by id: one query per kind of record.
            async fn names_of(
                &self,
                organization_id: Uuid,
                activities: &[Activity],
            ) -> Result<std::collections::HashMap<Uuid, String>, RepoError> {
                let mut names = std::collections::HashMap::new();
                let ids = |pick: fn(&Links) -> Option<Uuid>| -> Vec<Uuid> {
                    let mut ids: Vec<Uuid> = activities.iter().filter_map(|a| pick(&a.links)).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                };
                for (table, name_sql, pick) in [
                    ("leads", PERSON_NAME, (|l: &Links| l.lead_id) as fn(&Links) -> Option<Uuid>),
                    ("contacts", PERSON_NAME, |l: &Links| l.contact_id),
                    ("accounts", "name", |l: &Links| l.account_id),
                    ("opportunities", "name", |l: &Links| l.opportunity_id),
                ] {
                    let wanted = ids(pick);
                    if wanted.is_empty() {
                        continue;
                    }
                    // By primary key: without the hint SQLite reads a covering index of the
                    // name (organisation, name) whole, a million leads for 50 names.
                    let from = crate::list::from_table::<$Store>(table, &format!("sqlite_autoindex_{table}_1"), true);
                    let mut qb =
                        QueryBuilder::<$Db>::new(format!("SELECT id, {name_sql} FROM {from} WHERE organization_id = "));
                    qb.push_bind(organization_id);
                    crate::list::push_any_id(&mut qb, "id", &wanted);
                    let rows: Vec<(Uuid, String)> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;
                    names.extend(rows);
                }
                Ok(names)
            }
        }
    };
}

/// A person's name as people read it: the first name, if any, then the last.
const PERSON_NAME: &str = "CASE WHEN first_name IS NULL THEN last_name ELSE first_name || ' ' || last_name END";

impl_activities!(SqliteStore, sqlx::Sqlite);
impl_activities!(PgStore, sqlx::Postgres);
