//! The competitors of each deal, closing a deal lost to a competitor, and the competitor report.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use crm_domain::RepoError;
use crm_domain::audit::{AuditAction, AuditContext, FieldChange};
use crm_domain::competitor::{DealCompetitor, ThreatLevel};
use crm_domain::competitor_report::{CompetitorDealGroup, CompetitorLossGroup, CompetitorReportQuery, PriceGapGroup};
use crm_domain::money::Currency;
use crm_domain::opportunity::{Opportunity, OpportunityStage, StageChange};
use crm_domain::ports::DealCompetitorRepository;
use crm_domain::timeline::About;
use crm_domain::value::{LongText, Name};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::audit::write_audit;
use crate::backend::{PgStore, SqliteStore};
use crate::error::{Violations, corrupt, map, plain};
use crate::opportunities::write_stage_change;

type LinkRow = (Uuid, Uuid, String, Option<String>, DateTime<Utc>, DateTime<Utc>);

fn link_from_row(row: LinkRow) -> Result<DealCompetitor, RepoError> {
    let (opportunity_id, competitor_id, threat_level, notes, created_at, updated_at) = row;
    Ok(DealCompetitor {
        opportunity_id,
        competitor_id,
        threat_level: ThreatLevel::parse("threat_level", &threat_level).map_err(|_| corrupt("threat level"))?,
        notes: notes.map(LongText::from_trusted),
        created_at,
        updated_at,
    })
}

/// The start of the day after `day`, in UTC: the exclusive end of that day.
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    (day + Duration::days(1)).and_time(NaiveTime::MIN).and_utc()
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn open_stages() -> Vec<&'static str> {
    OpportunityStage::OPEN.iter().map(|s| s.as_str()).collect()
}

/// Appends ` AND o.closed_at >= … AND o.closed_at < …` for the report's closing window.
macro_rules! push_closed_window {
    ($qb:expr, $query:expr) => {
        if let Some(after) = $query.closed_after {
            $qb.push(" AND o.closed_at >= ").push_bind(start_of(after));
        }
        if let Some(before) = $query.closed_before {
            $qb.push(" AND o.closed_at < ").push_bind(end_of(before));
        }
    };
}

type DealRow = (Uuid, String, i64, i64, i64);
/// The competitor, the currency, the count and the amount in two parts (see `reports::amount_of`).
type LossRow = (Uuid, Option<String>, i64, i64, i64);
type GapRow = (Uuid, i64, f64);

macro_rules! impl_deal_competitors {
    ($Store:ident, $Db:ty) => {
        #[async_trait]
        impl DealCompetitorRepository for $Store {
            async fn deal_competitors(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Vec<DealCompetitor>, RepoError> {
                let rows: Vec<LinkRow> = sqlx::query_as(
                    "SELECT opportunity_id, competitor_id, threat_level, notes, created_at, updated_at \
                     FROM opportunity_competitors WHERE organization_id = $1 AND opportunity_id = $2 \
                     ORDER BY CASE threat_level WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, created_at, competitor_id",
                )
                .bind(organization_id)
                .bind(opportunity_id)
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;
                rows.into_iter().map(link_from_row).collect()
            }

            async fn put_deal_competitor(
                &self,
                organization_id: Uuid,
                link: &DealCompetitor,
                change: &FieldChange,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO opportunity_competitors (organization_id, opportunity_id, competitor_id, threat_level, notes, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (organization_id, opportunity_id, competitor_id) \
                     DO UPDATE SET threat_level = excluded.threat_level, notes = excluded.notes, updated_at = excluded.updated_at",
                )
                .bind(organization_id)
                .bind(link.opportunity_id)
                .bind(link.competitor_id)
                .bind(link.threat_level.as_str())
                .bind(link.notes.as_ref().map(|v| v.as_str()))
                .bind(link.created_at)
                .bind(link.updated_at)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, Violations { unique: None, foreign_key: Some("competitor_id") }))?;
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", link.opportunity_id, std::slice::from_ref(change), link.updated_at, About::opportunity(link.opportunity_id))?;
                tx.commit().await
            }

            async fn delete_deal_competitor(
                &self,
                organization_id: Uuid,
                opportunity_id: Uuid,
                competitor_id: Uuid,
                change: &FieldChange,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query(
                    "DELETE FROM opportunity_competitors WHERE organization_id = $1 AND opportunity_id = $2 AND competitor_id = $3",
                )
                .bind(organization_id)
                .bind(opportunity_id)
                .bind(competitor_id)
                .execute(tx.conn())
                .await
                .map_err(plain)?
                .rows_affected();
                if deleted == 0 {
                    return Err(RepoError::NotFound);
                }
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", opportunity_id, std::slice::from_ref(change), Utc::now(), About::opportunity(opportunity_id))?;
                tx.commit().await
            }

            async fn close_lost_to_competitor(
                &self,
                opportunity: &Opportunity,
                expected_version: i64,
                changes: &[FieldChange],
                stage: &StageChange,
                link: &DealCompetitor,
                link_change: &FieldChange,
                audit: &AuditContext,
            ) -> Result<(), RepoError> {
                let mut tx = self.begin_write().await?;
                Self::update_record(tx.conn(), opportunity, expected_version).await?;
                write_stage_change!(tx.conn(), opportunity, stage)?;
                // The link's foreign key proves that the competitor is one of the organisation's.
                let linked = sqlx::query(
                    "INSERT INTO opportunity_competitors (organization_id, opportunity_id, competitor_id, threat_level, notes, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (organization_id, opportunity_id, competitor_id) DO NOTHING",
                )
                .bind(opportunity.organization_id)
                .bind(opportunity.id)
                .bind(link.competitor_id)
                .bind(link.threat_level.as_str())
                .bind(link.notes.as_ref().map(|v| v.as_str()))
                .bind(link.created_at)
                .bind(link.updated_at)
                .execute(tx.conn())
                .await
                .map_err(|e| map(e, Violations { unique: None, foreign_key: Some("lost_to_competitor_id") }))?
                .rows_affected();
                let mut all = changes.to_vec();
                if linked > 0 {
                    all.push(link_change.clone());
                }
                write_audit!(tx.conn(), audit, AuditAction::Update, "opportunity", opportunity.id, &all, opportunity.updated_at, About::opportunity(opportunity.id))?;
                tx.commit().await
            }

            async fn competitor_report_groups(
                &self,
                organization_id: Uuid,
                query: &CompetitorReportQuery,
            ) -> Result<(Vec<CompetitorDealGroup>, Vec<CompetitorLossGroup>, Vec<PriceGapGroup>), RepoError> {
                // Per active competitor: its active deals, those won (in the closing window) and those open.
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT c.id, c.name, COUNT(o.id), \
                     COALESCE(SUM(CASE WHEN o.stage = 'closed_won'",
                );
                push_closed_window!(qb, query);
                qb.push(" THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN o.stage IN (");
                {
                    let mut separated = qb.separated(", ");
                    for stage in open_stages() {
                        separated.push_bind(stage);
                    }
                }
                qb.push(
                    ") THEN 1 ELSE 0 END), 0) \
                     FROM competitors c \
                     LEFT JOIN opportunity_competitors oc ON oc.organization_id = c.organization_id AND oc.competitor_id = c.id \
                     LEFT JOIN opportunities o ON o.organization_id = oc.organization_id AND o.id = oc.opportunity_id \
                     AND o.archived_at IS NULL",
                );
                crate::list::push_any_id(&mut qb, "o.owner_id", &query.owner_ids);
                qb.push(" WHERE c.organization_id = ").push_bind(organization_id);
                qb.push(" AND c.archived_at IS NULL GROUP BY c.id, c.name ORDER BY c.name, c.id");
                let deals: Vec<DealRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;

                // The active deals lost to each active competitor, per currency.
                let mut qb = QueryBuilder::<$Db>::new(
                    "SELECT o.lost_to_competitor_id, o.currency, COUNT(*), \
                     CAST(COALESCE(SUM(o.amount / 2147483648), 0) AS BIGINT), CAST(COALESCE(SUM(o.amount % 2147483648), 0) AS BIGINT) \
                     FROM opportunities o JOIN competitors c \
                     ON c.organization_id = o.organization_id AND c.id = o.lost_to_competitor_id AND c.archived_at IS NULL \
                     WHERE o.organization_id = ",
                );
                qb.push_bind(organization_id);
                qb.push(" AND o.archived_at IS NULL AND o.stage = 'closed_lost'");
                crate::list::push_any_id(&mut qb, "o.owner_id", &query.owner_ids);
                push_closed_window!(qb, query);
                qb.push(" GROUP BY o.lost_to_competitor_id, o.currency");
                let losses: Vec<LossRow> = qb.build_query_as().fetch_all(&self.pool).await.map_err(plain)?;

                // The price gap of each competitor's products compared with ours in the same currency.
                let gaps: Vec<GapRow> = sqlx::query_as(
                    "SELECT p.competitor_id, COUNT(*), \
                     CAST(AVG((p.price - q.unit_price) * 100.0 / q.unit_price) AS DOUBLE PRECISION) \
                     FROM competitor_products p JOIN products q \
                     ON q.organization_id = p.organization_id AND q.id = p.compared_product_id \
                     WHERE p.organization_id = $1 AND p.currency = q.currency AND q.unit_price > 0 \
                     GROUP BY p.competitor_id",
                )
                .bind(organization_id)
                .fetch_all(&self.pool)
                .await
                .map_err(plain)?;

                let deals = deals
                    .into_iter()
                    .map(|(competitor_id, name, opportunities, won, open)| CompetitorDealGroup {
                        competitor_id,
                        name: Name::from_trusted(name),
                        opportunities,
                        won,
                        open,
                    })
                    .collect();
                let losses = losses
                    .into_iter()
                    .map(|(competitor_id, code, count, high, low)| {
                        let currency = code
                            .as_deref()
                            .map(|c| Currency::parse("currency", c).map_err(|_| corrupt("currency")))
                            .transpose()?;
                        Ok(CompetitorLossGroup { competitor_id, currency, count, amount: crate::reports::amount_of(high, low) })
                    })
                    .collect::<Result<Vec<_>, RepoError>>()?;
                let gaps = gaps
                    .into_iter()
                    .map(|(competitor_id, compared, average_percent)| PriceGapGroup { competitor_id, compared, average_percent })
                    .collect();
                Ok((deals, losses, gaps))
            }
        }
    };
}

impl_deal_competitors!(SqliteStore, sqlx::Sqlite);
impl_deal_competitors!(PgStore, sqlx::Postgres);
