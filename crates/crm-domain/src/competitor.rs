//! Competitors: the businesses a deal is contested by, their products priced against ours, and
//! their part in each deal (a threat level). A deal lost to a competitor names it in
//! `Opportunity::lost_to_competitor_id`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::money_audit;
use crate::audit::{AuditValue, FieldChange};
use crate::error::FieldError;
use crate::lead::ArchivedFilter;
use crate::list::{KeysetPosition, Sort, SortField, SortValue, Window};
use crate::money::Money;
use crate::opportunity::Opportunity;
use crate::record::{Changes, Record};
use crate::string_enum;
use crate::value::{CustomFields, LongText, Name, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Competitor {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    pub website: Option<Url>,
    pub strengths: Option<LongText>,
    pub weaknesses: Option<LongText>,
    pub notes: Option<LongText>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
}

crate::record::impl_record!(Competitor);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorDraft {
    pub name: Name,
    pub website: Option<Url>,
    pub strengths: Option<LongText>,
    pub weaknesses: Option<LongText>,
    pub notes: Option<LongText>,
    pub custom_fields: Option<CustomFields>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompetitorPatch {
    pub name: Option<Name>,
    pub website: Option<Option<Url>>,
    pub strengths: Option<Option<LongText>>,
    pub weaknesses: Option<Option<LongText>>,
    pub notes: Option<Option<LongText>>,
    pub custom_fields: Option<CustomFields>,
}

/// Why a competitor, one of its products or its place in a deal cannot change as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CompetitorRuleError {
    #[error("the competitor is archived; restore it first")]
    Archived,
    #[error("the opportunity is archived; restore it first")]
    OpportunityArchived,
    #[error("the deal was lost to this competitor; reopen the deal before removing it")]
    LostTo,
}

impl CompetitorRuleError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Archived => "competitor_archived",
            Self::OpportunityArchived => "opportunity_archived",
            Self::LostTo => "lost_to_competitor",
        }
    }
}

fn custom_fields_audit(v: &CustomFields) -> AuditValue {
    AuditValue::Json(v.as_json_text().to_owned())
}

impl Competitor {
    pub fn create(
        id: Uuid,
        organization_id: Uuid,
        actor_id: Uuid,
        draft: CompetitorDraft,
        now: DateTime<Utc>,
    ) -> Competitor {
        Competitor {
            id,
            organization_id,
            name: draft.name,
            website: draft.website,
            strengths: draft.strengths,
            weaknesses: draft.weaknesses,
            notes: draft.notes,
            custom_fields: draft.custom_fields.unwrap_or_else(CustomFields::empty),
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
            archived_at: None,
        }
    }

    /// The competitor after an edit, with the audit changes; no change keeps the version.
    ///
    /// # Errors
    /// [`CompetitorRuleError::Archived`] when archived.
    pub fn apply(
        &self,
        patch: &CompetitorPatch,
        now: DateTime<Utc>,
    ) -> Result<(Competitor, Vec<FieldChange>), CompetitorRuleError> {
        self.ensure_active()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("name", &mut next.name, &patch.name, |v: &Name| AuditValue::text(v));
        c.set("website", &mut next.website, &patch.website, |v| AuditValue::optional(v.as_ref()));
        c.set("strengths", &mut next.strengths, &patch.strengths, |v| AuditValue::optional(v.as_ref()));
        c.set("weaknesses", &mut next.weaknesses, &patch.weaknesses, |v| AuditValue::optional(v.as_ref()));
        c.set("notes", &mut next.notes, &patch.notes, |v| AuditValue::optional(v.as_ref()));
        c.set("custom_fields", &mut next.custom_fields, &patch.custom_fields, custom_fields_audit);
        if !c.0.is_empty() {
            next.touch(now);
        }
        Ok((next, c.0))
    }

    /// # Errors
    /// [`CompetitorRuleError::Archived`] when archived: an archived competitor takes no new
    /// products, product edits or deals.
    pub fn ensure_active(&self) -> Result<(), CompetitorRuleError> {
        if self.archived_at.is_some() { Err(CompetitorRuleError::Archived) } else { Ok(()) }
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        let mut changes = vec![FieldChange::new("name", AuditValue::Null, AuditValue::text(&self.name))];
        let mut put = |field: &str, value: AuditValue| {
            if value != AuditValue::Null {
                changes.push(FieldChange::new(field, AuditValue::Null, value));
            }
        };
        put("website", AuditValue::optional(self.website.as_ref()));
        put("strengths", AuditValue::optional(self.strengths.as_ref()));
        put("weaknesses", AuditValue::optional(self.weaknesses.as_ref()));
        put("notes", AuditValue::optional(self.notes.as_ref()));
        put("custom_fields", custom_fields_audit(&self.custom_fields));
        changes
    }

    pub fn position(&self, field: CompetitorSortField) -> KeysetPosition {
        let value = match field {
            CompetitorSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            CompetitorSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
        };
        KeysetPosition { value, id: self.id }
    }
}

string_enum!(
    CompetitorSortField {
        Name => "name",
        CreatedAt => "created_at",
    }
);

impl SortField for CompetitorSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, FieldError> {
        CompetitorSortField::parse("sort", name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorQuery {
    /// Case-insensitive text searched in the name.
    pub search: Option<String>,
    pub archived: ArchivedFilter,
    pub sort: Sort<CompetitorSortField>,
    pub window: Window,
}

/// A competitor's product, priced, and optionally the product of ours it competes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorProduct {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub competitor_id: Uuid,
    pub name: Name,
    pub price: Money,
    /// A product of our price book.
    pub compared_product_id: Option<Uuid>,
    pub notes: Option<LongText>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorProductDraft {
    pub name: Name,
    pub price: Money,
    pub compared_product_id: Option<Uuid>,
    pub notes: Option<LongText>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompetitorProductPatch {
    pub name: Option<Name>,
    pub price: Option<Money>,
    pub compared_product_id: Option<Option<Uuid>>,
    pub notes: Option<Option<LongText>>,
}

impl CompetitorProduct {
    /// A new product of `competitor`.
    ///
    /// # Errors
    /// [`CompetitorRuleError::Archived`] when the competitor is archived.
    pub fn create(
        id: Uuid,
        competitor: &Competitor,
        actor_id: Uuid,
        draft: CompetitorProductDraft,
        now: DateTime<Utc>,
    ) -> Result<CompetitorProduct, CompetitorRuleError> {
        competitor.ensure_active()?;
        Ok(CompetitorProduct {
            id,
            organization_id: competitor.organization_id,
            competitor_id: competitor.id,
            name: draft.name,
            price: draft.price,
            compared_product_id: draft.compared_product_id,
            notes: draft.notes,
            created_at: now,
            updated_at: now,
            created_by: actor_id,
            version: 1,
        })
    }

    /// The product after an edit, with the audit changes; no change keeps the version.
    ///
    /// # Errors
    /// [`CompetitorRuleError::Archived`] when its competitor is archived.
    pub fn apply(
        &self,
        competitor: &Competitor,
        patch: &CompetitorProductPatch,
        now: DateTime<Utc>,
    ) -> Result<(CompetitorProduct, Vec<FieldChange>), CompetitorRuleError> {
        competitor.ensure_active()?;
        let mut next = self.clone();
        let mut c = Changes::new();
        c.set("name", &mut next.name, &patch.name, |v: &Name| AuditValue::text(v));
        c.set("price", &mut next.price, &patch.price, |v: &Money| money_audit(Some(v)));
        c.set("compared_product_id", &mut next.compared_product_id, &patch.compared_product_id, |v| {
            AuditValue::optional(v.as_ref())
        });
        c.set("notes", &mut next.notes, &patch.notes, |v| AuditValue::optional(v.as_ref()));
        if !c.0.is_empty() {
            next.version += 1;
            next.updated_at = now;
        }
        Ok((next, c.0))
    }

    fn fields(&self) -> Vec<(&'static str, AuditValue)> {
        vec![
            ("competitor_id", AuditValue::text(self.competitor_id)),
            ("name", AuditValue::text(&self.name)),
            ("price", money_audit(Some(&self.price))),
            ("compared_product_id", AuditValue::optional(self.compared_product_id.as_ref())),
            ("notes", AuditValue::optional(self.notes.as_ref())),
        ]
    }

    pub fn creation_changes(&self) -> Vec<FieldChange> {
        self.fields()
            .into_iter()
            .filter(|(_, v)| *v != AuditValue::Null)
            .map(|(field, v)| FieldChange::new(field, AuditValue::Null, v))
            .collect()
    }

    /// The audit changes of a hard delete: every stored field to `null`.
    pub fn deletion_changes(&self) -> Vec<FieldChange> {
        self.fields()
            .into_iter()
            .filter(|(_, v)| *v != AuditValue::Null)
            .map(|(field, v)| FieldChange::new(field, v, AuditValue::Null))
            .collect()
    }

    pub fn position(&self, field: CompetitorSortField) -> KeysetPosition {
        let value = match field {
            CompetitorSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            CompetitorSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
        };
        KeysetPosition { value, id: self.id }
    }
}

/// A competitor's product list; it sorts like competitors (`name` or `created_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitorProductQuery {
    pub competitor_id: Uuid,
    /// Case-insensitive text searched in the name.
    pub search: Option<String>,
    pub compared_product_id: Option<Uuid>,
    pub sort: Sort<CompetitorSortField>,
    pub window: Window,
}

string_enum!(
    /// How dangerous a competitor is to one deal.
    ThreatLevel {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

/// A competitor's place in one deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealCompetitor {
    pub opportunity_id: Uuid,
    pub competitor_id: Uuid,
    pub threat_level: ThreatLevel,
    pub notes: Option<LongText>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DealCompetitor {
    /// Sets (adds or changes) a competitor in a deal. `previous` is its current place in the deal.
    ///
    /// # Errors
    /// [`CompetitorRuleError::OpportunityArchived`] or [`CompetitorRuleError::Archived`] when the
    /// deal or the competitor is archived. A closed deal may still record its competitors.
    pub fn set(
        deal: &Opportunity,
        competitor: &Competitor,
        previous: Option<&DealCompetitor>,
        threat_level: ThreatLevel,
        notes: Option<LongText>,
        now: DateTime<Utc>,
    ) -> Result<(DealCompetitor, FieldChange), CompetitorRuleError> {
        if deal.archived_at.is_some() {
            return Err(CompetitorRuleError::OpportunityArchived);
        }
        competitor.ensure_active()?;
        let next = DealCompetitor {
            opportunity_id: deal.id,
            competitor_id: competitor.id,
            threat_level,
            notes,
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: now,
        };
        let change = Self::change(previous, Some(&next), competitor.id);
        Ok((next, change))
    }

    /// Whether `self` puts its competitor in the deal exactly as `other` does (same threat level
    /// and notes): setting it again changes nothing and is not written.
    pub fn same_place_as(&self, other: &DealCompetitor) -> bool {
        self.competitor_id == other.competitor_id
            && self.threat_level == other.threat_level
            && self.notes == other.notes
    }

    /// The competitor a deal is lost to joins its competitors as a high threat.
    pub fn lost_to(opportunity_id: Uuid, competitor_id: Uuid, now: DateTime<Utc>) -> (DealCompetitor, FieldChange) {
        let link = DealCompetitor {
            opportunity_id,
            competitor_id,
            threat_level: ThreatLevel::High,
            notes: None,
            created_at: now,
            updated_at: now,
        };
        let change = Self::change(None, Some(&link), competitor_id);
        (link, change)
    }

    /// Removes a competitor from a deal.
    ///
    /// # Errors
    /// [`CompetitorRuleError::OpportunityArchived`] when the deal is archived;
    /// [`CompetitorRuleError::LostTo`] when the deal is closed lost to this competitor.
    pub fn remove(deal: &Opportunity, previous: &DealCompetitor) -> Result<FieldChange, CompetitorRuleError> {
        if deal.archived_at.is_some() {
            return Err(CompetitorRuleError::OpportunityArchived);
        }
        if deal.lost_to_competitor_id == Some(previous.competitor_id) {
            return Err(CompetitorRuleError::LostTo);
        }
        Ok(Self::change(Some(previous), None, previous.competitor_id))
    }

    /// The audit change on the opportunity: `competitors.<id>` from the old place (or null) to
    /// the new one.
    pub fn change(
        previous: Option<&DealCompetitor>,
        next: Option<&DealCompetitor>,
        competitor_id: Uuid,
    ) -> FieldChange {
        let value = |d: Option<&DealCompetitor>| {
            d.map_or(AuditValue::Null, |d| {
                AuditValue::Object(vec![
                    ("threat_level".to_owned(), AuditValue::text(d.threat_level)),
                    ("notes".to_owned(), AuditValue::optional(d.notes.as_ref())),
                ])
            })
        };
        FieldChange::new(&format!("competitors.{competitor_id}"), value(previous), value(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::opportunity::{OpportunityDraft, Outcome};

    fn competitor() -> Competitor {
        let draft = CompetitorDraft {
            name: Name::from_trusted("Babbage & Co".into()),
            website: None,
            strengths: Some(LongText::from_trusted("cheap".into())),
            weaknesses: None,
            notes: None,
            custom_fields: None,
        };
        Competitor::create(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), draft, Utc::now())
    }

    fn deal(organization_id: Uuid) -> Opportunity {
        let draft = OpportunityDraft {
            name: Name::from_trusted("Deal".into()),
            account_id: Some(Uuid::now_v7()),
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
        Opportunity::create(Uuid::now_v7(), organization_id, Uuid::now_v7(), draft, Utc::now()).unwrap().0
    }

    #[test]
    fn an_edit_records_its_changes_and_an_archived_competitor_refuses_edits() {
        let c = competitor();
        let patch = CompetitorPatch {
            strengths: Some(None),
            weaknesses: Some(Some(LongText::from_trusted("slow".into()))),
            ..CompetitorPatch::default()
        };
        let (next, changes) = c.apply(&patch, Utc::now()).unwrap();
        assert_eq!(next.version, 2);
        assert_eq!(changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["strengths", "weaknesses"]);
        let (same, none) = next.apply(&patch, Utc::now()).unwrap();
        assert!(none.is_empty());
        assert_eq!(same.version, 2, "a patch that changes nothing keeps the version");
        let (archived, _) = crate::record::archive(&same, Utc::now()).unwrap();
        assert_eq!(archived.apply(&patch, Utc::now()).err(), Some(CompetitorRuleError::Archived));
    }

    #[test]
    fn an_archived_competitor_takes_no_products_and_no_deals() {
        let c = competitor();
        let eur = Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"));
        let draft = CompetitorProductDraft {
            name: Name::from_trusted("Mill".into()),
            price: Money { amount: 900, currency: eur },
            compared_product_id: None,
            notes: None,
        };
        let product = CompetitorProduct::create(Uuid::now_v7(), &c, Uuid::now_v7(), draft.clone(), Utc::now()).unwrap();
        assert_eq!((product.competitor_id, product.version), (c.id, 1));
        let patch = CompetitorProductPatch { price: Some(Money { amount: 950, currency: eur }), ..Default::default() };
        let (next, changes) = product.apply(&c, &patch, Utc::now()).unwrap();
        assert_eq!((next.version, changes.len()), (2, 1));
        assert_eq!(
            product.deletion_changes().iter().map(|c| c.new.clone()).collect::<Vec<_>>(),
            vec![AuditValue::Null; 3]
        );
        let (archived, _) = crate::record::archive(&c, Utc::now()).unwrap();
        assert_eq!(
            CompetitorProduct::create(Uuid::now_v7(), &archived, Uuid::now_v7(), draft, Utc::now()).err(),
            Some(CompetitorRuleError::Archived)
        );
        assert_eq!(product.apply(&archived, &patch, Utc::now()).err(), Some(CompetitorRuleError::Archived));
        let d = deal(c.organization_id);
        assert_eq!(
            DealCompetitor::set(&d, &archived, None, ThreatLevel::Low, None, Utc::now()).err(),
            Some(CompetitorRuleError::Archived)
        );
    }

    #[test]
    fn a_deal_keeps_the_competitor_it_was_lost_to_until_reopened() {
        let c = competitor();
        let mut d = deal(c.organization_id);
        d.amount =
            Some(Money { amount: 100, currency: Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}")) });
        let (link, change) = DealCompetitor::set(&d, &c, None, ThreatLevel::Medium, None, Utc::now()).unwrap();
        assert_eq!(change.old, AuditValue::Null);
        let (changed, change) = DealCompetitor::set(&d, &c, Some(&link), ThreatLevel::High, None, Utc::now()).unwrap();
        assert_eq!(changed.created_at, link.created_at, "a change keeps when the competitor was added");
        assert_ne!(change.old, AuditValue::Null);
        let (again, _) = DealCompetitor::set(&d, &c, Some(&changed), ThreatLevel::High, None, Utc::now()).unwrap();
        assert!(again.same_place_as(&changed), "the same threat and notes change nothing");
        assert!(!changed.same_place_as(&link));
        let actor = Uuid::now_v7();
        let (lost, _, _) = d.close(Outcome::Lost, None, Some(c.id), Utc::now(), actor, Utc::now()).unwrap();
        assert_eq!(lost.lost_to_competitor_id, Some(c.id));
        assert_eq!(DealCompetitor::remove(&lost, &changed).err(), Some(CompetitorRuleError::LostTo));
        let (reopened, changes, _) = lost.reopen(None, actor, Utc::now()).unwrap();
        assert_eq!(reopened.lost_to_competitor_id, None);
        assert!(changes.iter().any(|c| c.field == "lost_to_competitor_id"));
        assert!(DealCompetitor::remove(&reopened, &changed).is_ok());
        let (archived, _) = crate::record::archive(&reopened, Utc::now()).unwrap();
        assert_eq!(DealCompetitor::remove(&archived, &changed).err(), Some(CompetitorRuleError::OpportunityArchived));
        let (high, _) = DealCompetitor::lost_to(d.id, c.id, Utc::now());
        assert_eq!(high.threat_level, ThreatLevel::High);
    }
}
