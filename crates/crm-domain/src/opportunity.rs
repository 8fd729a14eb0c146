//! Opportunities: negotiations moving through the pipeline until they close won or lost. Every
//! stage change is kept as history.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::account::money_audit;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::{ArchivedFilter, LeadSource};
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::money::Money;
use crate::record::{Changes, Record, rfc3339};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name};

string_enum!(
    OpportunityStage {
        Prospecting => "prospecting",
        Qualification => "qualification",
        NeedsAnalysis => "needs_analysis",
        Proposal => "proposal",
        Negotiation => "negotiation",
        ClosedWon => "closed_won",
        ClosedLost => "closed_lost",
    }
);

impl OpportunityStage {
    pub const OPEN: &'static [OpportunityStage] = &[
        OpportunityStage::Prospecting,
        OpportunityStage::Qualification,
        OpportunityStage::NeedsAnalysis,
        OpportunityStage::Proposal,
        OpportunityStage::Negotiation,
    ];

    pub fn is_open(self) -> bool {
        !matches!(self, OpportunityStage::ClosedWon | OpportunityStage::ClosedLost)
    }

    /// The probability (percent) a deal gets when it enters this stage.
    pub fn default_probability(self) -> u8 {
        match self {
            OpportunityStage::Prospecting => 10,
            OpportunityStage::Qualification => 20,
            OpportunityStage::NeedsAnalysis => 40,
            OpportunityStage::Proposal => 60,
            OpportunityStage::Negotiation => 80,
            OpportunityStage::ClosedWon => 100,
            OpportunityStage::ClosedLost => 0,
        }
    }

    /// Parses an open stage, for edits and reopening.
    ///
    /// # Errors
    /// `invalid_value` listing the open stages.
    pub fn parse_open(field: &str, raw: &str) -> Result<Self, FieldError> {
        let names: Vec<&str> = Self::OPEN.iter().map(|s| s.as_str()).collect();
        match Self::parse(field, raw) {
            Ok(stage) if stage.is_open() => Ok(stage),
            _ => Err(FieldError::new(
                field,
                "invalid_value",
                format!("must be one of: {} (close a deal with /close)", names.join(", ")),
            )),
        }
    }
}

string_enum!(
    OpportunityKind {
        NewBusiness => "new_business",
        Upsell => "upsell",
        CrossSell => "cross_sell",
        Renewal => "renewal",
    }
);

/// A probability in percent, 0 to 100.
///
/// # Errors
/// `out_of_range` otherwise.
pub fn probability(field: &str, raw: i64) -> Result<u8, FieldError> {
    u8::try_from(raw)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| FieldError::new(field, "out_of_range", "must be between 0 and 100"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opportunity {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    /// The buying business; `None` when a person buys for themselves.
    pub account_id: Option<Uuid>,
    /// The primary contact; the only buyer when there is no account.
    pub contact_id: Option<Uuid>,
    pub amount: Option<Money>,
    pub stage: OpportunityStage,
    pub probability: u8,
    pub expected_close_date: Option<NaiveDate>,
    pub kind: Option<OpportunityKind>,
    pub lead_source: Option<LeadSource>,
    pub next_step: Option<Name>,
    pub owner_id: Uuid,
    pub description: Option<LongText>,
    pub custom_fields: CustomFields,
    pub closed_at: Option<DateTime<Utc>>,
    pub loss_reason: Option<LongText>,
    /// The competitor a lost deal was lost to; set only by closing lost, cleared by reopening.
    pub lost_to_competitor_id: Option<Uuid>,
    /// The open stage the deal was in when it closed; reopening goes back to it by default.
    pub last_open_stage: OpportunityStage,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
    /// The last and the next interaction, kept by the store.
    pub interactions: crate::activity::Interactions,
    /// The support ticket the deal came from (an up-sell or cross-sell handed over by support),
    /// and the product support suggested; set at creation only.
    pub source: Option<TicketSource>,
}

/// Where a deal handed over by support came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketSource {
    pub ticket_id: Uuid,
    pub product_id: Option<Uuid>,
}

crate::record::impl_record!(Opportunity);

/// One step of the stage history: from (none at creation) to, with the amount and probability
/// at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub from_stage: Option<OpportunityStage>,
    pub to_stage: OpportunityStage,
    pub amount: Option<Money>,
    pub probability: u8,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

/// A stored stage change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageHistoryEntry {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub change: StageChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityDraft {
    pub name: Name,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub amount: Option<Money>,
    pub stage: Option<OpportunityStage>,
    pub probability: Option<u8>,
    pub expected_close_date: Option<NaiveDate>,
    pub kind: Option<OpportunityKind>,
    pub lead_source: Option<LeadSource>,
    pub next_step: Option<Name>,
    pub owner_id: Option<Uuid>,
    pub description: Option<LongText>,
    pub custom_fields: Option<CustomFields>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityPatch {
    pub name: Option<Name>,
    pub account_id: Option<Option<Uuid>>,
    pub contact_id: Option<Option<Uuid>>,
    pub amount: Option<Option<Money>>,
    pub stage: Option<OpportunityStage>,
    pub probability: Option<u8>,
    pub expected_close_date: Option<Option<NaiveDate>>,
    pub kind: Option<Option<OpportunityKind>>,
    pub lead_source: Option<Option<LeadSource>>,
    pub next_step: Option<Option<Name>>,
    pub owner_id: Option<Uuid>,
    pub description: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Won,
    Lost,
}

/// Why an opportunity cannot be changed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpportunityRuleError {
    #[error("an opportunity needs an account_id, a contact_id, or both")]
    NoBuyer,
    #[error("the opportunity is archived; restore it first")]
    Archived,
    #[error("the opportunity is closed; reopen it first")]
    Closed,
    #[error("the opportunity is not closed")]
    NotClosed,
    #[error("a deal is closed only with POST /api/v1/opportunities/{{id}}/close")]
    CloseThroughEndpoint,
    #[error("a won deal needs an amount; set one before closing it as won")]
    AmountRequired,
    #[error("only a deal closed as lost can be lost to a competitor")]
    LostToNeedsLost,
}

impl OpportunityRuleError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoBuyer => "buyer_required",
            Self::Archived => "opportunity_archived",
            Self::Closed => "opportunity_closed",
            Self::NotClosed => "opportunity_not_closed",
            Self::CloseThroughEndpoint => "close_through_endpoint",
            Self::AmountRequired => "amount_required",
            Self::LostToNeedsLost => "only_when_lost",
        }
    }
}

fn date_audit(date: Option<&NaiveDate>) -> AuditValue {
    date.map_or(AuditValue::Null, |d| AuditValue::Text(d.to_string()))
}

impl Opportunity {
    /// # Errors
    /// [`OpportunityRuleError::NoBuyer`] without account and contact;
    /// [`OpportunityRuleError::CloseThroughEndpoint`] when created closed.
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        actor_id: Uuid,
        draft: OpportunityDraft,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, StageChange), OpportunityRuleError> {
        if draft.account_id.is_none() && draft.contact_id.is_none() {
            return Err(OpportunityRuleError::NoBuyer);
        }
        let stage = draft.stage.unwrap_or(OpportunityStage::Prospecting);
        if !stage.is_open() {
            return Err(OpportunityRuleError::CloseThroughEndpoint);
        }
        let probability = draft.probability.unwrap_or_else(|| stage.default_probability());
        let opportunity = Opportunity {
            id,
            organization_id,
            name: draft.name,
            account_id: draft.account_id,
            contact_id: draft.contact_id,
            amount: draft.amount,
            stage,
            probability,
            expected_close_date: draft.expected_close_date,
            kind: draft.kind,
            lead_source: draft.lead_source,
            next_step: draft.next_step,
            owner_id: draft.owner_id.unwrap_or(actor_id),
            description: draft.description,
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            closed_at: None,
            loss_reason: None,
            lost_to_competitor_id: None,
            last_open_stage: stage,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
            interactions: crate::activity::Interactions::default(),
            source: None,
        };
        let change = StageChange {
            from_stage: None,
            to_stage: stage,
            amount: draft.amount,
            probability,
            changed_by: actor_id,
            changed_at: now,
        };
        Ok((opportunity, change))
    }

    /// The opportunity after an edit. A stage change (between open stages only) resets the
    /// probability to the new stage's default unless the patch sets one, and is returned for the
    /// history.
    ///
    /// # Errors
    /// [`OpportunityRuleError`] when archived or closed, when the patch would close the deal, or
    /// when it would leave no buyer.
    pub fn apply(
        &self,
        patch: &OpportunityPatch,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, Vec<FieldChange>, Option<StageChange>), OpportunityRuleError> {
        if self.archived_at.is_some() {
            return Err(OpportunityRuleError::Archived);
        }
        if !self.stage.is_open() {
            return Err(OpportunityRuleError::Closed);
        }
        if patch.stage.is_some_and(|s| !s.is_open()) {
            return Err(OpportunityRuleError::CloseThroughEndpoint);
        }
        let mut next = self.clone();
        let mut c = Changes::new();
        let stage_moves = patch.stage.is_some_and(|s| s != self.stage);
        let probability = match (patch.probability, patch.stage) {
            (Some(p), _) => Some(p),
            (None, Some(stage)) if stage_moves => Some(stage.default_probability()),
            _ => None,
        };
        c.set("name", &mut next.name, &patch.name, |v: &Name| AuditValue::text(v));
        c.set("account_id", &mut next.account_id, &patch.account_id, |v| AuditValue::optional(v.as_ref()));
        c.set("contact_id", &mut next.contact_id, &patch.contact_id, |v| AuditValue::optional(v.as_ref()));
        c.set("amount", &mut next.amount, &patch.amount, |v| money_audit(v.as_ref()));
        c.set("stage", &mut next.stage, &patch.stage, |v: &OpportunityStage| AuditValue::text(v));
        c.set("probability", &mut next.probability, &probability, |v: &u8| AuditValue::Integer(i64::from(*v)));
        c.set("expected_close_date", &mut next.expected_close_date, &patch.expected_close_date, |v| {
            date_audit(v.as_ref())
        });
        c.set("kind", &mut next.kind, &patch.kind, |v| AuditValue::optional(v.as_ref()));
        c.set("lead_source", &mut next.lead_source, &patch.lead_source, |v| AuditValue::optional(v.as_ref()));
        c.set("next_step", &mut next.next_step, &patch.next_step, |v| AuditValue::optional(v.as_ref()));
        c.set("owner_id", &mut next.owner_id, &patch.owner_id, |v: &Uuid| AuditValue::text(v));
        c.set("description", &mut next.description, &patch.description, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, |v| {
            AuditValue::Json(v.as_json_text().to_owned())
        });
        if next.account_id.is_none() && next.contact_id.is_none() {
            return Err(OpportunityRuleError::NoBuyer);
        }
        if c.0.is_empty() {
            return Ok((next, c.0, None));
        }
        next.touch(now);
        next.last_open_stage = next.stage;
        let change = stage_moves.then_some(StageChange {
            from_stage: Some(self.stage),
            to_stage: next.stage,
            amount: next.amount,
            probability: next.probability,
            changed_by: actor_id,
            changed_at: now,
        });
        Ok((next, c.0, change))
    }

    /// Closes the deal won or lost at `closed_at`; a lost deal may name the competitor it was
    /// lost to (the caller checks that the competitor exists and is active).
    ///
    /// # Errors
    /// [`OpportunityRuleError`] when archived or already closed, won without an amount, or won
    /// with a competitor it was lost to.
    pub fn close(
        &self,
        outcome: Outcome,
        reason: Option<LongText>,
        lost_to_competitor_id: Option<Uuid>,
        closed_at: DateTime<Utc>,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, Vec<FieldChange>, StageChange), OpportunityRuleError> {
        if self.archived_at.is_some() {
            return Err(OpportunityRuleError::Archived);
        }
        if !self.stage.is_open() {
            return Err(OpportunityRuleError::Closed);
        }
        if outcome == Outcome::Won && lost_to_competitor_id.is_some() {
            return Err(OpportunityRuleError::LostToNeedsLost);
        }
        if outcome == Outcome::Won && self.amount.is_none() {
            return Err(OpportunityRuleError::AmountRequired);
        }
        let stage = match outcome {
            Outcome::Won => OpportunityStage::ClosedWon,
            Outcome::Lost => OpportunityStage::ClosedLost,
        };
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("stage", &mut next.stage, &Some(stage), |v: &OpportunityStage| AuditValue::text(v));
        c.set("probability", &mut next.probability, &Some(stage.default_probability()), |v: &u8| {
            AuditValue::Integer(i64::from(*v))
        });
        c.set("closed_at", &mut next.closed_at, &Some(Some(closed_at)), |v| {
            v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
        });
        let loss_reason = if outcome == Outcome::Lost { reason } else { None };
        c.set("loss_reason", &mut next.loss_reason, &Some(loss_reason), |v| AuditValue::optional(v.as_ref()));
        c.set("lost_to_competitor_id", &mut next.lost_to_competitor_id, &Some(lost_to_competitor_id), |v| {
            AuditValue::optional(v.as_ref())
        });
        next.last_open_stage = self.stage;
        next.touch(now);
        let change = StageChange {
            from_stage: Some(self.stage),
            to_stage: stage,
            amount: next.amount,
            probability: next.probability,
            changed_by: actor_id,
            changed_at: now,
        };
        Ok((next, c.0, change))
    }

    /// Takes a closed deal back to an open stage (by default the one it closed from).
    ///
    /// # Errors
    /// [`OpportunityRuleError`] when archived or not closed.
    pub fn reopen(
        &self,
        stage: Option<OpportunityStage>,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, Vec<FieldChange>, StageChange), OpportunityRuleError> {
        if self.archived_at.is_some() {
            return Err(OpportunityRuleError::Archived);
        }
        if self.stage.is_open() {
            return Err(OpportunityRuleError::NotClosed);
        }
        let stage = stage.filter(|s| s.is_open()).unwrap_or(self.last_open_stage);
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("stage", &mut next.stage, &Some(stage), |v: &OpportunityStage| AuditValue::text(v));
        c.set("probability", &mut next.probability, &Some(stage.default_probability()), |v: &u8| {
            AuditValue::Integer(i64::from(*v))
        });
        c.set("closed_at", &mut next.closed_at, &Some(None), |v| {
            v.map_or(AuditValue::Null, |t| AuditValue::Text(rfc3339(t)))
        });
        c.set("loss_reason", &mut next.loss_reason, &Some(None), |v| AuditValue::optional(v.as_ref()));
        c.set("lost_to_competitor_id", &mut next.lost_to_competitor_id, &Some(None), |v| {
            AuditValue::optional(v.as_ref())
        });
        next.last_open_stage = stage;
        next.touch(now);
        let change = StageChange {
            from_stage: Some(self.stage),
            to_stage: stage,
            amount: next.amount,
            probability: next.probability,
            changed_by: actor_id,
            changed_at: now,
        };
        Ok((next, c.0, change))
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let mut put = |field: &str, value: AuditValue| {
            if value != AuditValue::Null {
                changes.push(FieldChange::new(field, AuditValue::Null, value));
            }
        };
        put("name", AuditValue::text(&self.name));
        put("account_id", AuditValue::optional(self.account_id.as_ref()));
        put("contact_id", AuditValue::optional(self.contact_id.as_ref()));
        put("amount", money_audit(self.amount.as_ref()));
        put("stage", AuditValue::text(self.stage));
        put("probability", AuditValue::Integer(i64::from(self.probability)));
        put("expected_close_date", date_audit(self.expected_close_date.as_ref()));
        put("kind", AuditValue::optional(self.kind.as_ref()));
        put("lead_source", AuditValue::optional(self.lead_source.as_ref()));
        put("next_step", AuditValue::optional(self.next_step.as_ref()));
        put("owner_id", AuditValue::text(self.owner_id));
        put("description", AuditValue::optional(self.description.as_ref()));
        put("custom_fields", AuditValue::Json(self.custom_fields.as_json_text().to_owned()));
        put("source_ticket_id", AuditValue::optional(self.source.map(|s| s.ticket_id).as_ref()));
        put("source_product_id", AuditValue::optional(self.source.and_then(|s| s.product_id).as_ref()));
        changes
    }

    pub fn position(&self, field: OpportunitySortField) -> KeysetPosition {
        let value = match field {
            OpportunitySortField::CreatedAt => SortValue::Timestamp(self.created_at),
            OpportunitySortField::UpdatedAt => SortValue::Timestamp(self.updated_at),
            OpportunitySortField::Name => SortValue::Text(self.name.as_str().to_owned()),
            OpportunitySortField::ExpectedCloseDate => {
                SortValue::Text(self.expected_close_date.map(|d| d.to_string()).unwrap_or_default())
            }
            OpportunitySortField::LastInteractionAt => SortValue::Timestamp(self.interactions.last_sort_key()),
        };
        KeysetPosition { value, id: self.id }
    }
}

string_enum!(
    OpportunitySortField {
        CreatedAt => "created_at",
        UpdatedAt => "updated_at",
        Name => "name",
        ExpectedCloseDate => "expected_close_date",
        LastInteractionAt => "last_interaction_at",
    }
);

impl SortField for OpportunitySortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        OpportunitySortField::parse("sort", name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityQuery {
    pub stages: Vec<OpportunityStage>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub owner_ids: Vec<Uuid>,
    /// Deals that track any of these competitors; empty for any.
    pub competitor_ids: Vec<Uuid>,
    pub expected_close_after: Option<NaiveDate>,
    pub expected_close_before: Option<NaiveDate>,
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub interactions: crate::activity::InteractionFilter,
    pub sort: Sort<OpportunitySortField>,
    pub window: Window,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn deal(amount: Option<i64>) -> Opportunity {
        let eur = Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
        let draft = OpportunityDraft {
            name: Name::from_trusted("Deal".into()),
            account_id: Some(Uuid::now_v7()),
            contact_id: None,
            amount: amount.map(|a| Money { amount: a, currency: eur }),
            stage: None,
            probability: None,
            expected_close_date: None,
            kind: None,
            lead_source: None,
            next_step: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        Opportunity::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now()).unwrap().0
    }

    #[test]
    fn a_new_deal_prospects_at_ten_percent_and_needs_a_buyer() {
        let d = deal(None);
        assert_eq!((d.stage, d.probability), (OpportunityStage::Prospecting, 10));
        let mut draft_without_buyer = OpportunityDraft {
            name: Name::from_trusted("x".into()),
            account_id: None,
            contact_id: None,
            amount: None,
            stage: None,
            probability: None,
            expected_close_date: None,
            kind: None,
            lead_source: None,
            next_step: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        };
        assert_eq!(
            Opportunity::create(
                Uuid::now_v7(),
                Uuid::now_v7(),
                Uuid::now_v7(),
                draft_without_buyer.clone(),
                Utc::now()
            )
            .err(),
            Some(OpportunityRuleError::NoBuyer)
        );
        draft_without_buyer.contact_id = Some(Uuid::now_v7());
        draft_without_buyer.stage = Some(OpportunityStage::ClosedWon);
        assert_eq!(
            Opportunity::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft_without_buyer, Utc::now()).err(),
            Some(OpportunityRuleError::CloseThroughEndpoint)
        );
    }

    #[test]
    fn a_stage_change_resets_the_probability_unless_one_is_given_and_is_recorded() {
        let d = deal(Some(1000));
        let actor = Uuid::now_v7();
        let (next, _, change) = d
            .apply(
                &OpportunityPatch { stage: Some(OpportunityStage::Proposal), ..OpportunityPatch::default() },
                actor,
                Utc::now(),
            )
            .unwrap();
        assert_eq!(next.probability, 60);
        let change = change.unwrap_or_else(|| panic!("no stage change"));
        assert_eq!(
            (change.from_stage, change.to_stage, change.probability),
            (Some(OpportunityStage::Prospecting), OpportunityStage::Proposal, 60)
        );
        let (next, _, _) = next
            .apply(
                &OpportunityPatch {
                    stage: Some(OpportunityStage::Negotiation),
                    probability: Some(55),
                    ..OpportunityPatch::default()
                },
                actor,
                Utc::now(),
            )
            .unwrap();
        assert_eq!(next.probability, 55);
        let (same, _, none) = next
            .apply(&OpportunityPatch { probability: Some(70), ..OpportunityPatch::default() }, actor, Utc::now())
            .unwrap();
        assert_eq!(same.probability, 70);
        assert_eq!(none, None, "a probability override alone is not a stage change");
        let closing = OpportunityPatch { stage: Some(OpportunityStage::ClosedWon), ..OpportunityPatch::default() };
        assert_eq!(same.apply(&closing, actor, Utc::now()).err(), Some(OpportunityRuleError::CloseThroughEndpoint));
    }

    #[test]
    fn closing_and_reopening() {
        let actor = Uuid::now_v7();
        assert_eq!(
            deal(None).close(Outcome::Won, None, None, Utc::now(), actor, Utc::now()).err(),
            Some(OpportunityRuleError::AmountRequired)
        );
        let d = deal(Some(500));
        let (moved, _, _) = d
            .apply(
                &OpportunityPatch { stage: Some(OpportunityStage::Negotiation), ..OpportunityPatch::default() },
                actor,
                Utc::now(),
            )
            .unwrap();
        let reason = LongText::from_trusted("price".into());
        let (lost, changes, change) =
            moved.close(Outcome::Lost, Some(reason.clone()), None, Utc::now(), actor, Utc::now()).unwrap();
        assert_eq!(
            (lost.stage, lost.probability, lost.loss_reason.clone()),
            (OpportunityStage::ClosedLost, 0, Some(reason))
        );
        assert!(changes.iter().any(|c| c.field == "closed_at"));
        assert_eq!(change.from_stage, Some(OpportunityStage::Negotiation));
        assert_eq!(
            lost.apply(&OpportunityPatch::default(), actor, Utc::now()).err(),
            Some(OpportunityRuleError::Closed)
        );
        assert_eq!(
            lost.close(Outcome::Won, None, None, Utc::now(), actor, Utc::now()).err(),
            Some(OpportunityRuleError::Closed)
        );
        let (reopened, _, change) = lost.reopen(None, actor, Utc::now()).unwrap();
        assert_eq!(
            (reopened.stage, reopened.probability, reopened.closed_at, reopened.loss_reason.clone()),
            (OpportunityStage::Negotiation, 80, None, None)
        );
        assert_eq!(change.to_stage, OpportunityStage::Negotiation);
        assert_eq!(reopened.reopen(None, actor, Utc::now()).err(), Some(OpportunityRuleError::NotClosed));
        assert_eq!(
            d.close(Outcome::Won, None, Some(Uuid::now_v7()), Utc::now(), actor, Utc::now()).err(),
            Some(OpportunityRuleError::LostToNeedsLost),
            "a won deal is not lost to anyone"
        );
    }
}

string_enum!(
    /// The part a person plays in a deal's buying decision.
    BuyingRole {
        DecisionMaker => "decision_maker",
        EconomicBuyer => "economic_buyer",
        Evaluator => "evaluator",
        User => "user",
        Influencer => "influencer",
        Gatekeeper => "gatekeeper",
    }
);

/// A contact's role in an opportunity; at most one contact of a deal is primary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRole {
    pub opportunity_id: Uuid,
    pub contact_id: Uuid,
    pub role: BuyingRole,
    pub is_primary: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ContactRole {
    /// The audit change of setting a role: `contacts.<id>` from the old role (or null) to the new.
    pub fn change(previous: Option<&ContactRole>, next: Option<&ContactRole>, contact_id: Uuid) -> FieldChange {
        let value = |r: Option<&ContactRole>| {
            r.map_or(AuditValue::Null, |r| {
                AuditValue::Object(vec![
                    ("role".to_owned(), AuditValue::text(r.role)),
                    ("is_primary".to_owned(), AuditValue::Bool(r.is_primary)),
                ])
            })
        };
        FieldChange::new(&format!("contacts.{contact_id}"), value(previous), value(next))
    }
}
