//! The contact DTOs and their conversion to domain types.

use crm_domain::ValidationErrors;
use crm_domain::account::LifecycleStage;
use crm_domain::address::Tags;
use crm_domain::contact::{Contact, ContactDraft, ContactPatch, ContactSortField};
use crm_domain::lead::LeadSource;
use crm_domain::value::{CustomFields, Email, LongText, Name, Phone};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::conventions::{optional_timestamp, timestamp};
use crate::extract::{double_option, nullable, opt, required};
use crate::routes::accounts::Tag;
use crate::schema::{any_of_list, fields, one_of, sort_param};

pub(crate) fn stage_schema() -> Object {
    one_of(LifecycleStage::NAMES, false)
}
pub(crate) fn source_schema() -> Object {
    one_of(LeadSource::NAMES, true)
}

/// A new contact. Only `last_name` is required; without `account_id` the contact is a person
/// buying for themselves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example", "mobile": "+1 555 0100",
    "title": "Rear Admiral", "lifecycle_stage": "customer", "source": "referral", "tags": ["decision-maker"]
}))]
pub struct CreateContactRequest {
    #[schema(schema_with = fields::optional_name)]
    pub first_name: Option<String>,
    #[schema(schema_with = fields::name)]
    pub last_name: String,
    /// Unique among the organisation's active contacts.
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<String>,
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<String>,
    #[schema(schema_with = fields::optional_phone)]
    pub mobile: Option<String>,
    #[schema(schema_with = fields::optional_name)]
    pub title: Option<String>,
    pub account_id: Option<Uuid>,
    /// Defaults to `prospect`.
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: Option<String>,
    #[schema(schema_with = source_schema)]
    pub source: Option<String>,
    #[schema(max_items = 50)]
    pub tags: Option<Vec<Tag>>,
    /// Defaults to `false`.
    pub do_not_contact: Option<bool>,
    pub owner_id: Option<Uuid>,
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<String>,
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

fn tags(errors: &mut ValidationErrors, raw: Vec<Tag>) -> Option<Tags> {
    let raw: Vec<String> = raw.into_iter().map(|t| t.0).collect();
    match Tags::parse("tags", &raw) {
        Ok(tags) => Some(tags),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

use crate::extract::custom_fields;

impl CreateContactRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ContactDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let first_name = opt(&mut errors, self.first_name.as_deref(), |v| Name::parse("first_name", v));
        let last_name = errors.collect(Name::parse("last_name", &self.last_name));
        let email = opt(&mut errors, self.email.as_deref(), |v| Email::parse("email", v));
        let phone = opt(&mut errors, self.phone.as_deref(), |v| Phone::parse("phone", v));
        let mobile = opt(&mut errors, self.mobile.as_deref(), |v| Phone::parse("mobile", v));
        let title = opt(&mut errors, self.title.as_deref(), |v| Name::parse("title", v));
        let lifecycle_stage =
            opt(&mut errors, self.lifecycle_stage.as_deref(), |v| LifecycleStage::parse("lifecycle_stage", v));
        let source = opt(&mut errors, self.source.as_deref(), |v| LeadSource::parse("source", v));
        let tags = self.tags.and_then(|t| tags(&mut errors, t));
        let description = opt(&mut errors, self.description.as_deref(), |v| LongText::parse("description", v));
        let custom_fields = self.custom_fields.and_then(|m| custom_fields(&mut errors, m));
        errors.into_result()?;
        let Some(last_name) = last_name else { return Err(ValidationErrors::new()) };
        Ok(ContactDraft {
            first_name,
            last_name,
            email,
            phone,
            mobile,
            title,
            account_id: self.account_id,
            lifecycle_stage,
            source,
            tags: tags.unwrap_or_default(),
            do_not_contact: self.do_not_contact,
            owner_id: self.owner_id,
            description,
            custom_fields,
        })
    }
}

/// A partial update: an absent field stays as it is, `null` clears it. `last_name`,
/// `lifecycle_stage`, `tags`, `do_not_contact` and `owner_id` cannot be cleared.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"do_not_contact": true, "mobile": null}))]
pub struct UpdateContactRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::name)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_email)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_phone)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_phone)]
    pub mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_name)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub account_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = source_schema)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<Tag>, max_items = 50)]
    pub tags: Option<Option<Vec<Tag>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub do_not_contact: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Uuid)]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = fields::optional_long_text)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::optional_custom_fields)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl UpdateContactRequest {
    /// # Errors
    /// Every invalid field at once.
    pub fn try_into_domain(self) -> Result<ContactPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let last_name =
            required(&mut errors, "last_name", self.last_name, |v: String, e| e.collect(Name::parse("last_name", &v)));
        let lifecycle_stage = required(&mut errors, "lifecycle_stage", self.lifecycle_stage, |v: String, e| {
            e.collect(LifecycleStage::parse("lifecycle_stage", &v))
        });
        let tags = required(&mut errors, "tags", self.tags, |v, e| tags(e, v));
        let do_not_contact = required(&mut errors, "do_not_contact", self.do_not_contact, |v, _| Some(v));
        let owner_id = required(&mut errors, "owner_id", self.owner_id, |v, _| Some(v));
        let patch = ContactPatch {
            first_name: nullable(&mut errors, self.first_name, |v| Name::parse("first_name", v)),
            last_name,
            email: nullable(&mut errors, self.email, |v| Email::parse("email", v)),
            phone: nullable(&mut errors, self.phone, |v| Phone::parse("phone", v)),
            mobile: nullable(&mut errors, self.mobile, |v| Phone::parse("mobile", v)),
            title: nullable(&mut errors, self.title, |v| Name::parse("title", v)),
            account_id: self.account_id,
            lifecycle_stage,
            source: nullable(&mut errors, self.source, |v| LeadSource::parse("source", v)),
            tags,
            do_not_contact,
            owner_id,
            description: nullable(&mut errors, self.description, |v| LongText::parse("description", v)),
            custom_fields: match self.custom_fields {
                None => None,
                Some(None) => Some(CustomFields::empty()),
                Some(Some(map)) => custom_fields(&mut errors, map),
            },
        };
        errors.into_result().map(|()| patch)
    }
}

/// A contact as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactResponse {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub title: Option<String>,
    /// `null` for a person buying for themselves.
    pub account_id: Option<Uuid>,
    #[schema(schema_with = stage_schema)]
    pub lifecycle_stage: &'static str,
    #[schema(schema_with = source_schema)]
    pub source: Option<&'static str>,
    pub tags: Vec<String>,
    pub do_not_contact: bool,
    pub owner_id: Uuid,
    pub description: Option<String>,
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
    /// When the latest done activity about it happened (failed attempts included); `null` when
    /// there is none. Kept by the database in the transaction of every activity change.
    #[schema(format = DateTime)]
    pub last_interaction_at: Option<String>,
    /// The kind of that activity.
    #[schema(schema_with = crate::routes::activities::nullable_kind_schema)]
    pub last_interaction_kind: Option<&'static str>,
    /// The due date of the earliest planned activity about it; `null` when nothing is planned.
    #[schema(format = DateTime)]
    pub next_activity_at: Option<String>,
    /// Its open complaints: tickets of category `complaint` not yet solved (new, open, pending
    /// or on hold) and not archived. Kept by the server; a change bumps the version.
    pub open_complaints: i64,
}

impl From<&Contact> for ContactResponse {
    fn from(c: &Contact) -> Self {
        let text = |v: &Option<Name>| v.as_ref().map(|v| v.as_str().to_owned());
        let phone = |v: &Option<Phone>| v.as_ref().map(|v| v.as_str().to_owned());
        Self {
            id: c.id,
            first_name: text(&c.first_name),
            last_name: c.last_name.as_str().to_owned(),
            email: c.email.as_ref().map(|v| v.as_str().to_owned()),
            phone: phone(&c.phone),
            mobile: phone(&c.mobile),
            title: text(&c.title),
            account_id: c.account_id,
            lifecycle_stage: c.lifecycle_stage.as_str(),
            source: c.source.map(LeadSource::as_str),
            tags: c.tags.as_slice().to_vec(),
            do_not_contact: c.do_not_contact,
            owner_id: c.owner_id,
            description: c.description.as_ref().map(|v| v.as_str().to_owned()),
            custom_fields: serde_json::from_str(c.custom_fields.as_json_text())
                .unwrap_or_else(|_| serde_json::json!({})),
            created_at: timestamp(c.created_at),
            updated_at: timestamp(c.updated_at),
            created_by: c.created_by,
            version: c.version,
            archived_at: optional_timestamp(c.archived_at),
            last_interaction_at: optional_timestamp(c.interactions.last_at),
            last_interaction_kind: c.interactions.last_kind.map(crm_domain::activity::ActivityKind::as_str),
            next_activity_at: optional_timestamp(c.interactions.next_at),
            open_complaints: c.open_complaints,
        }
    }
}

/// A page of contacts.
pub type ContactList = crate::resource::Page<ContactResponse>;

pub(crate) fn stage_filter_schema() -> Object {
    any_of_list(LifecycleStage::NAMES)
}
pub(crate) fn sort_schema() -> Object {
    sort_param(ContactSortField::NAMES)
}
pub(crate) fn account_filter_schema() -> Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some("^(none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"))
        .description(Some("An account id, or `none` for people buying for themselves"))
        .build()
}

/// The query parameters of the contact lists. Any other parameter is refused with a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `last_name`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = account_filter_schema)]
    pub account_id: Option<String>,
    #[param(schema_with = stage_filter_schema)]
    pub lifecycle_stage: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub do_not_contact: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// Comma-separated email addresses, matched exactly and without regard to case; at most 100
    /// of them and 2,000 characters in all.
    #[param(schema_with = crate::schema::email_list_schema)]
    pub email: Option<String>,
    /// Case-insensitive search in first and last name and email.
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    /// `false` (default): active contacts only; `true`: archived too; `only`: archived only.
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
    /// Only those whose last interaction was strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_before: Option<String>,
    /// Only those whose last interaction was strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_after: Option<String>,
    /// `true`: only those never interacted with; `false`: only those interacted with.
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub no_interaction: Option<String>,
    /// `none`: only those with nothing planned (the ones nobody follows up); `any`: only those
    /// with something planned.
    #[param(schema_with = crate::routes::activities::next_activity_schema)]
    pub next_activity: Option<String>,
    /// `overdue`: only the people buying for themselves due for attention under the organisation's attention policy
    /// (`/settings/attention`): their last interaction is older than their class allows, or
    /// they were never reached. Sorted most overdue first unless `sort` says otherwise.
    #[param(schema_with = crate::routes::attention::attention_schema)]
    pub attention: Option<String>,
}

/// The query parameters of `GET /api/v1/accounts/{id}/contacts`: those of the contact list,
/// without `account_id`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountContactListQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Default `last_name`.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    #[param(schema_with = stage_filter_schema)]
    pub lifecycle_stage: Option<String>,
    /// Comma-separated user ids.
    #[param(schema_with = crate::schema::uuid_list_schema)]
    pub owner_id: Option<String>,
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub do_not_contact: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<String>,
    /// Comma-separated email addresses, matched exactly and without regard to case; at most 100
    /// of them and 2,000 characters in all.
    #[param(schema_with = crate::schema::email_list_schema)]
    pub email: Option<String>,
    #[param(schema_with = crate::schema::search_schema)]
    pub q: Option<String>,
    #[param(schema_with = crate::routes::leads::archived_schema)]
    pub archived: Option<String>,
    /// Only those whose last interaction was strictly before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_before: Option<String>,
    /// Only those whose last interaction was strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub last_interaction_after: Option<String>,
    /// `true`: only those never interacted with; `false`: only those interacted with.
    #[param(schema_with = crate::routes::users::bool_schema)]
    pub no_interaction: Option<String>,
    /// `none`: only those with nothing planned (the ones nobody follows up); `any`: only those
    /// with something planned.
    #[param(schema_with = crate::routes::activities::next_activity_schema)]
    pub next_activity: Option<String>,
}

impl From<AccountContactListQuery> for ContactListQuery {
    fn from(q: AccountContactListQuery) -> Self {
        ContactListQuery {
            limit: q.limit,
            cursor: q.cursor,
            sort: q.sort,
            account_id: None,
            attention: None,
            lifecycle_stage: q.lifecycle_stage,
            owner_id: q.owner_id,
            do_not_contact: q.do_not_contact,
            created_after: q.created_after,
            created_before: q.created_before,
            email: q.email,
            q: q.q,
            archived: q.archived,
            last_interaction_before: q.last_interaction_before,
            last_interaction_after: q.last_interaction_after,
            no_interaction: q.no_interaction,
            next_activity: q.next_activity,
        }
    }
}
