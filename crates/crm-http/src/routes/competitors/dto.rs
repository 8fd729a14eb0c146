//! The competitor DTOs and their conversion to domain types.

use crm_domain::ValidationErrors;
use crm_domain::competitor::{Competitor, CompetitorDraft, CompetitorPatch, CompetitorSortField};
use crm_domain::value::{CustomFields, LongText, Name, Url};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{custom_fields, double_option, nullable, opt, required};
use crate::schema::{fields, sort_param};

/// A new competitor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Babbage Engines", "website": "https://babbage.example", "strengths": "Cheap, fast delivery",
    "weaknesses": "No support contracts", "notes": "Met them at the 2026 fair", "custom_fields": {"region": "EMEA"}
}))]
pub struct CreateCompetitorRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub strengths: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub weaknesses: Option<String>,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateCompetitorRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<CompetitorDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.collect(Name::parse("name", &self.name));
        let website = opt(&mut errors, self.website.as_deref(), |v| Url::parse("website", v));
        let strengths = opt(&mut errors, self.strengths.as_deref(), |v| LongText::parse("strengths", v));
        let weaknesses = opt(&mut errors, self.weaknesses.as_deref(), |v| LongText::parse("weaknesses", v));
        let notes = opt(&mut errors, self.notes.as_deref(), |v| LongText::parse("notes", v));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let Some(name) = name else { return Err(ValidationErrors::new()) };
        Ok(CompetitorDraft { name, website, strengths, weaknesses, notes, custom_fields })
    }
}

/// A partial update: an absent field stays, `null` clears it (`name` cannot be cleared).
/// `custom_fields` is replaced as a whole, and `null` empties it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"weaknesses": "Slow support", "notes": null}))]
pub struct UpdateCompetitorRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_url)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub strengths: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub weaknesses: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateCompetitorRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<CompetitorPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = CompetitorPatch {
            name: required(&mut errors, "name", self.name, |v: String, e| e.collect(Name::parse("name", &v))),
            website: nullable(&mut errors, self.website, |v| Url::parse("website", v)),
            strengths: nullable(&mut errors, self.strengths, |v| LongText::parse("strengths", v)),
            weaknesses: nullable(&mut errors, self.weaknesses, |v| LongText::parse("weaknesses", v)),
            notes: nullable(&mut errors, self.notes, |v| LongText::parse("notes", v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

/// A competitor as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitorResponse {
    pub id: Uuid,
    pub name: String,
    pub website: Option<String>,
    pub strengths: Option<String>,
    pub weaknesses: Option<String>,
    pub notes: Option<String>,
    #[schema(schema_with = crate::schema::custom_fields)]
    pub custom_fields: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
    #[schema(format = DateTime)]
    pub archived_at: Option<String>,
}

impl From<&Competitor> for CompetitorResponse {
    fn from(c: &Competitor) -> Self {
        let text = |v: &Option<LongText>| v.as_ref().map(|v| v.as_str().to_owned());
        Self {
            id: c.id,
            name: c.name.as_str().to_owned(),
            website: c.website.as_ref().map(|v| v.as_str().to_owned()),
            strengths: text(&c.strengths),
            weaknesses: text(&c.weaknesses),
            notes: text(&c.notes),
            custom_fields: serde_json::from_str(c.custom_fields.as_json_text())
                .unwrap_or_else(|_| serde_json::json!({})),
            created_at: timestamp(c.created_at),
            updated_at: timestamp(c.updated_at),
            created_by: c.created_by,
            version: c.version,
            archived_at: optional_timestamp(c.archived_at),
        }
    }
}

/// A page of competitors.
pub type CompetitorList = crate::resource::Page<CompetitorResponse>;

pub(crate) fn sort_schema() -> Object {
    sort_param(CompetitorSortField::NAMES)
}

/// The query parameters of `GET /api/v1/competitors`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompetitorListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `name`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Case-insensitive search in the name.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
}
