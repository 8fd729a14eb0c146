//! The pipeline and the forecast.

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::RepoError;
use crate::reports::{ForecastOpenGroup, ForecastWonGroup, PipelineGroup, PipelineQuery};

#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// Open, active opportunities grouped by stage, currency and probability, with their count
    /// and amount; with `as_of`, as the stage history had them at the end of that day.
    async fn pipeline_groups(
        &self,
        organization_id: Uuid,
        query: &PipelineQuery,
    ) -> Result<Vec<PipelineGroup>, RepoError>;

    /// Open deals with an amount expected to close from `from` to `to` (inclusive), grouped by
    /// month, currency and probability; and deals closed won in those days (UTC), grouped by
    /// month and currency.
    async fn forecast_groups(
        &self,
        organization_id: Uuid,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        owner_ids: &[Uuid],
    ) -> Result<(Vec<ForecastOpenGroup>, Vec<ForecastWonGroup>), RepoError>;
}
