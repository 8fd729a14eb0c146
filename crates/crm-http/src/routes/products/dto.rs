//! The product DTOs.

use crm_domain::ValidationErrors;
use crm_domain::money::Money;
use crm_domain::product::{Percent, Product, ProductDraft, ProductPatch, ProductSortField, Sku};
use crm_domain::value::{CustomFields, LongText, Name};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{custom_fields, double_option, nullable, required};
use crate::routes::values::MoneyDto;
use crate::schema::{fields, sort_param};

pub(crate) fn sku_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
        .examples([serde_json::Value::from("ENG-001")])
        .build()
}

pub(crate) fn percent_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Number))
        .minimum(Some(0.0))
        .maximum(Some(100.0))
        .multiple_of(Some(0.01))
        .examples([serde_json::Value::from(5.5)])
        .description(Some("A percentage from 0 to 100 with at most two decimals: 5.5 is 5.5%"))
        .build()
}

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Difference Engine", "sku": "ENG-001", "unit_price": {"amount": 1250000, "currency": "GBP"}, "tax_rate": 20}))]
pub struct CreateProductRequest {
    #[schema(schema_with = fields::name)]
    pub name: String,
    /// Unique in the organisation.
    #[schema(schema_with = sku_schema)]
    pub sku: String,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    pub unit_price: MoneyDto,
    /// The default tax rate of quote lines; defaults to 0.
    #[schema(schema_with = percent_schema)]
    pub tax_rate: Option<f64>,
    /// Defaults to `true`.
    pub active: Option<bool>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

fn money(errors: &mut ValidationErrors, dto: &MoneyDto) -> Option<Money> {
    dto.parse("unit_price", errors)
}

impl CreateProductRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ProductDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.collect(Name::parse("name", &self.name));
        let sku = errors.collect(Sku::parse("sku", &self.sku));
        let description = self.description.as_deref().and_then(|v| errors.collect(LongText::parse("description", v)));
        let unit_price = money(&mut errors, &self.unit_price);
        let tax_rate = self.tax_rate.and_then(|v| errors.collect(Percent::parse("tax_rate", v)));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let (Some(name), Some(sku), Some(unit_price)) = (name, sku, unit_price) else {
            return Err(ValidationErrors::new());
        };
        Ok(ProductDraft { name, sku, description, unit_price, tax_rate, active: self.active, custom_fields })
    }
}

/// A partial update: absent fields stay; only `description` can be cleared.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateProductRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = sku_schema)]
    pub sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = MoneyDto)]
    pub unit_price: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = percent_schema)]
    pub tax_rate: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateProductRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ProductPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = ProductPatch {
            name: required(&mut errors, "name", self.name, |v: String, e| e.collect(Name::parse("name", &v))),
            sku: required(&mut errors, "sku", self.sku, |v: String, e| e.collect(Sku::parse("sku", &v))),
            description: nullable(&mut errors, self.description, |v| LongText::parse("description", v)),
            unit_price: required(&mut errors, "unit_price", self.unit_price, |v, e| money(e, &v)),
            tax_rate: required(&mut errors, "tax_rate", self.tax_rate, |v, e| e.collect(Percent::parse("tax_rate", v))),
            active: required(&mut errors, "active", self.active, |v, _| Some(v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: Uuid,
    pub name: String,
    pub sku: String,
    pub description: Option<String>,
    pub unit_price: MoneyDto,
    /// Percent, at most two decimals.
    pub tax_rate: f64,
    pub active: bool,
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

impl From<&Product> for ProductResponse {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id,
            name: p.name.as_str().to_owned(),
            sku: p.sku.as_str().to_owned(),
            description: p.description.as_ref().map(|v| v.as_str().to_owned()),
            unit_price: MoneyDto::from_domain(&p.unit_price),
            tax_rate: p.tax_rate.as_f64(),
            active: p.active,
            custom_fields: crate::extract::custom_fields_value(&p.custom_fields),
            created_at: timestamp(p.created_at),
            updated_at: timestamp(p.updated_at),
            created_by: p.created_by,
            version: p.version,
            archived_at: optional_timestamp(p.archived_at),
        }
    }
}

/// A page of products.
pub type ProductList = crate::resource::Page<ProductResponse>;

pub(crate) fn sort_schema() -> Object {
    sort_param(ProductSortField::NAMES)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `name`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub active: Option<String>,
    #[param(schema_with = crate::schema::codes::optional_currency_param)]
    pub currency: Option<String>,
    /// Case-insensitive search in name and SKU.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
}
