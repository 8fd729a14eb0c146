//! The competitors of each deal, and the competitor report.

use async_trait::async_trait;
use uuid::Uuid;

use crate::audit::{AuditContext, FieldChange};
use crate::competitor::DealCompetitor;
use crate::competitor_report::{CompetitorDealGroup, CompetitorLossGroup, CompetitorReportQuery, PriceGapGroup};
use crate::error::RepoError;
use crate::opportunity::{Opportunity, StageChange};

#[async_trait]
pub trait DealCompetitorRepository: Send + Sync {
    /// The competitors of an opportunity, the highest threat first, then by when they were added.
    async fn deal_competitors(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
    ) -> Result<Vec<DealCompetitor>, RepoError>;

    /// Adds a competitor to an opportunity or changes its threat level and notes, with an audit
    /// event on the opportunity listing `change`.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `competitor_id` or `opportunity_id`.
    async fn put_deal_competitor(
        &self,
        organization_id: Uuid,
        link: &DealCompetitor,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Removes a competitor from an opportunity, with an audit event on the opportunity.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the competitor is not in the opportunity.
    async fn delete_deal_competitor(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
        competitor_id: Uuid,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Stores a deal closed lost to a competitor exactly as
    /// [`OpportunityRepository::update_opportunity`] does, and in the same transaction adds
    /// `link` (the competitor, as a high threat) to its competitors unless the competitor is
    /// already there; `link_change` joins the audit event only when the link is added.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `lost_to_competitor_id` when the organisation has no such competitor.
    #[allow(clippy::too_many_arguments)]
    async fn close_lost_to_competitor(
        &self,
        opportunity: &Opportunity,
        expected_version: i64,
        changes: &[FieldChange],
        stage: &StageChange,
        link: &DealCompetitor,
        link_change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// The competitor report's groups: per active competitor (by name) the counts of its active
    /// deals; the active deals lost to each competitor per currency; the price gap of each
    /// competitor's products compared with ours in the same currency (our price above zero).
    async fn competitor_report_groups(
        &self,
        organization_id: Uuid,
        query: &CompetitorReportQuery,
    ) -> Result<(Vec<CompetitorDealGroup>, Vec<CompetitorLossGroup>, Vec<PriceGapGroup>), RepoError>;
}
