//! The SLA policy of each organisation (`sla_policies`, migration 0026), in the text forms of
//! `crm_domain::sla_settings`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::ports::SlaRepository;
use crm_domain::sla::{BusinessCalendar, BusinessHours, SlaPolicy, SlaTargets};
use crm_domain::sla_settings::{
    SlaSettings, WEEKDAYS, holidays_text, hours_text, parse_holidays_text, parse_hours_text, parse_target_text,
    parse_time_zone, target_text,
};
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{corrupt, plain};

/// The policy's columns, in [`bind_sla!`] order after the organisation.
pub(crate) const SLA_COLUMNS: &str = "urgent_first_response, urgent_resolution, high_first_response, \
     high_resolution, normal_first_response, normal_resolution, low_first_response, low_resolution, time_zone, \
     monday, tuesday, wednesday, thursday, friday, saturday, sunday, holidays, reopen_window_days, version, updated_at";

crate::rows::rows! {
    pub(crate) struct SlaRow {
        organization_id: Uuid,
        urgent_first_response: String,
        urgent_resolution: String,
        high_first_response: String,
        high_resolution: String,
        normal_first_response: String,
        normal_resolution: String,
        low_first_response: String,
        low_resolution: String,
        time_zone: String,
        monday: String,
        tuesday: String,
        wednesday: String,
        thursday: String,
        friday: String,
        saturday: String,
        sunday: String,
        holidays: String,
        reopen_window_days: i32,
        version: i64,
        updated_at: DateTime<Utc>,
    }
}

fn targets(first_response: &str, resolution: &str) -> Result<SlaTargets, RepoError> {
    let read = |text: &str| parse_target_text(text).ok_or_else(|| corrupt("sla target"));
    Ok(SlaTargets { first_response: read(first_response)?, resolution: read(resolution)? })
}

impl TryFrom<SlaRow> for SlaSettings {
    type Error = RepoError;
    fn try_from(row: SlaRow) -> Result<Self, RepoError> {
        let days = [&row.monday, &row.tuesday, &row.wednesday, &row.thursday, &row.friday, &row.saturday, &row.sunday];
        let mut week: [Vec<BusinessHours>; 7] = Default::default();
        for (slot, text) in week.iter_mut().zip(days) {
            *slot = parse_hours_text(text).ok_or_else(|| corrupt("sla business hours"))?;
        }
        let holidays: Vec<NaiveDate> = parse_holidays_text(&row.holidays).ok_or_else(|| corrupt("sla holidays"))?;
        let time_zone = parse_time_zone("time_zone", &row.time_zone).map_err(|_| corrupt("sla time zone"))?;
        let calendar = BusinessCalendar::new(time_zone, week, holidays).map_err(|_| corrupt("sla calendar"))?;
        Ok(SlaSettings {
            organization_id: row.organization_id,
            policy: SlaPolicy {
                calendar,
                urgent: targets(&row.urgent_first_response, &row.urgent_resolution)?,
                high: targets(&row.high_first_response, &row.high_resolution)?,
                normal: targets(&row.normal_first_response, &row.normal_resolution)?,
                low: targets(&row.low_first_response, &row.low_resolution)?,
                reopen_window_days: u32::try_from(row.reopen_window_days).map_err(|_| corrupt("sla reopen window"))?,
            },
            version: row.version,
            updated_at: row.updated_at,
        })
    }
}

/// The policy's column values in [`SLA_COLUMNS`] order, before the version and the update time.
pub(crate) fn texts_of(settings: &SlaSettings) -> Vec<String> {
    let p = &settings.policy;
    let mut texts = Vec::with_capacity(17);
    for t in [p.urgent, p.high, p.normal, p.low] {
        texts.push(target_text(t.first_response));
        texts.push(target_text(t.resolution));
    }
    texts.push(p.calendar.time_zone().name().to_owned());
    for (weekday, _) in WEEKDAYS {
        texts.push(hours_text(p.calendar.hours(weekday)));
    }
    texts.push(holidays_text(p.calendar.holidays()));
    texts
}

/// Binds a policy's columns in [`SLA_COLUMNS`] order.
macro_rules! bind_sla {
    ($query:expr, $settings:expr) => {{
        let mut query = $query;
        for text in $crate::sla::texts_of($settings) {
            query = query.bind(text);
        }
        query
            .bind(i32::try_from($settings.policy.reopen_window_days).unwrap_or(i32::MAX))
            .bind($settings.version)
            .bind($settings.updated_at)
    }};
}

/// Writes a new organisation's policy on the transaction's connection:
/// `insert_sla_settings!(tx.conn(), &settings)`.
macro_rules! insert_sla_settings {
    ($conn:expr, $settings:expr) => {
        $crate::sla::bind_sla!(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO sla_policies (organization_id, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                $crate::sla::SLA_COLUMNS
            )))
            .bind($settings.organization_id),
            $settings
        )
        .execute($conn)
        .await
        .map_err($crate::error::plain)
    };
}
pub(crate) use {bind_sla, insert_sla_settings};

macro_rules! impl_sla {
    ($Store:ident) => {
        #[async_trait]
        impl SlaRepository for $Store {
            async fn sla_settings(&self, organization_id: Uuid) -> Result<SlaSettings, RepoError> {
                let row: Option<SlaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT organization_id, {SLA_COLUMNS} FROM sla_policies WHERE organization_id = $1"
                )))
                .bind(organization_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(plain)?;
                row.ok_or(RepoError::NotFound)?.try_into()
            }

            async fn save_sla_settings(
                &self,
                settings: &SlaSettings,
                expected_version: i64,
                changes: &[FieldChange],
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let updated = bind_sla!(
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE sla_policies SET ({SLA_COLUMNS}) = ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                         $14, $15, $16, $17, $18, $19, $20, $21, $22) WHERE organization_id = $1 AND version = $2"
                    )))
                    .bind(settings.organization_id)
                    .bind(expected_version),
                    settings
                )
                .execute(tx.conn())
                .await
                .map_err(plain)?;
                if updated.rows_affected() == 0 {
                    return Err(crate::error::stale_settings!(tx.conn(), "sla_policies", settings.organization_id));
                }
                write_audit!(
                    tx.conn(),
                    audit,
                    AuditAction::Update,
                    "sla_policy",
                    settings.organization_id,
                    changes,
                    settings.updated_at,
                    crm_domain::timeline::About::NONE
                )?;
                tx.commit().await
            }
        }
    };
}

impl_sla!(SqliteStore);
impl_sla!(PgStore);
