//! The DTOs of a competitor's products.

use crm_domain::competitor::CompetitorProduct;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::timestamp;
use crate::extract::double_option;
use crate::routes::values::MoneyDto;
use crate::schema::fields;

/// A competitor's new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Babbage Mill", "price": {"amount": 1100000, "currency": "GBP"},
    "compared_product_id": "0193a8f2-7c1e-7d3a-9b1e-2f4c5d6e7f80", "notes": "Sold with two years of service"
}))]
pub struct CreateCompetitorProductRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    pub price: MoneyDto,
    /// The product of our price book it competes with (an active product of the organisation).
    pub compared_product_id: Option<Uuid>,
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<String>,
}

/// A partial update: an absent field stays; `compared_product_id` and `notes` can be cleared.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"price": {"amount": 1050000, "currency": "GBP"}}))]
pub struct UpdateCompetitorProductRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = MoneyDto)]
    pub price: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub compared_product_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitorProductResponse {
    pub id: Uuid,
    pub competitor_id: Uuid,
    pub name: String,
    pub price: MoneyDto,
    pub compared_product_id: Option<Uuid>,
    pub notes: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub created_by: Uuid,
    pub version: i64,
}

impl From<&CompetitorProduct> for CompetitorProductResponse {
    fn from(p: &CompetitorProduct) -> Self {
        Self {
            id: p.id,
            competitor_id: p.competitor_id,
            name: p.name.as_str().to_owned(),
            price: MoneyDto::from_domain(&p.price),
            compared_product_id: p.compared_product_id,
            notes: p.notes.as_ref().map(|v| v.as_str().to_owned()),
            created_at: timestamp(p.created_at),
            updated_at: timestamp(p.updated_at),
            created_by: p.created_by,
            version: p.version,
        }
    }
}

/// A page of a competitor's products.
pub type CompetitorProductList = crate::resource::Page<CompetitorProductResponse>;

/// The query parameters of `GET /api/v1/competitors/{id}/products`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompetitorProductListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `name`.
    #[param(schema_with = super::dto::sort_schema)]
    pub sort: Option<String>,
    /// Case-insensitive search in the name.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    /// Only the products compared with this product of ours.
    #[param(value_type = Option<Uuid>)]
    pub compared_product_id: Option<String>,
}
