//! The repository ports: what the application needs from storage. The persistence crate
//! implements each of them for SQLite and PostgreSQL; the contract tests hold both to the
//! behaviour documented here.
//!
//! Every method that touches tenant data takes the caller's `organization_id` and never sees a
//! row of another organisation: such a row answers [`RepoError::NotFound`] exactly as a missing
//! one. Every method may also return [`RepoError::Unavailable`] (no connection within the pool's
//! timeout, database down) and [`RepoError::Internal`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::{Account, AccountQuery};
use crate::audit::{AuditAction, AuditContext, AuditEvent, AuditFilter, FieldChange};
use crate::competitor::{Competitor, CompetitorProduct, CompetitorProductQuery, CompetitorQuery, DealCompetitor};
use crate::competitor_report::{CompetitorDealGroup, CompetitorLossGroup, CompetitorReportQuery, PriceGapGroup};
use crate::contact::{Contact, ContactQuery};
use crate::conversion::ConversionPlan;
use crate::error::RepoError;
use crate::invoice::{Invoice, InvoiceQuery, Payment};
use crate::lead::{Lead, LeadQuery};
use crate::list::{Page, Sort, SortField, Window};
use crate::opportunity::{ContactRole, Opportunity, OpportunityQuery, StageChange, StageHistoryEntry};
use crate::order::{Order, OrderQuery};
use crate::permissions::Role;
use crate::product::{Product, ProductQuery};
use crate::quote::{Acceptance, Quote, QuoteQuery};
use crate::reports::{ForecastOpenGroup, ForecastWonGroup, PipelineGroup, PipelineQuery};
use crate::string_enum;
use crate::user::{Organization, Principal, User, UserCredentials};
use crate::value::Email;

#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// Creates an organisation and its first user in one transaction, with the user's audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when any user already has that email: an email
    /// identifies a login across organisations.
    async fn create_organization(
        &self,
        organization: &Organization,
        admin: &User,
        password_hash: &str,
        request_id: &str,
    ) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when there is no such organisation.
    async fn get_organization(&self, organization_id: Uuid) -> Result<Organization, RepoError>;
}

string_enum!(
    UserSortField {
        CreatedAt => "created_at",
        Name => "name",
        Email => "email",
    }
);

impl SortField for UserSortField {
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn allowed() -> &'static [&'static str] {
        Self::NAMES
    }
    fn parse(name: &str) -> Result<Self, crate::error::FieldError> {
        UserSortField::parse("sort", name)
    }
}

impl User {
    pub fn position(&self, field: UserSortField) -> crate::list::KeysetPosition {
        use crate::list::{KeysetPosition, SortValue};
        let value = match field {
            UserSortField::CreatedAt => SortValue::Timestamp(self.created_at),
            UserSortField::Name => SortValue::Text(self.name.as_str().to_owned()),
            UserSortField::Email => SortValue::Text(self.email.as_str().to_owned()),
        };
        KeysetPosition { value, id: self.id }
    }
}

/// A user list query, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub roles: Vec<Role>,
    pub active: Option<bool>,
    pub search: Option<String>,
    pub sort: Sort<UserSortField>,
    pub window: Window,
}

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Adds a user with its audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when any user already has that email.
    async fn insert_user(&self, user: &User, password_hash: &str, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such user.
    async fn get_user(&self, organization_id: Uuid, user_id: Uuid) -> Result<User, RepoError>;

    /// The user with this email and its password hash, in whichever organisation; `None` when
    /// there is none.
    async fn find_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, RepoError>;

    /// Who an access token acts as: `None` when the user does not exist in that organisation or
    /// is deactivated.
    async fn find_principal(&self, organization_id: Uuid, user_id: Uuid) -> Result<Option<Principal>, RepoError>;

    async fn list_users(&self, organization_id: Uuid, query: &UserQuery) -> Result<Page<User>, RepoError>;

    /// Stores `user` (already changed by the domain) when its stored version is
    /// `expected_version`, with an update audit event. Deactivating a user revokes its refresh
    /// tokens in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`] when the version moved on.
    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}

/// A refresh token as stored: only its SHA-256 hash, never the token itself.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    /// All tokens rotated from one login share a family; reuse of a rotated token revokes it.
    pub family_id: Uuid,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was live; it is now spent and the new one is stored in its family.
    Rotated { organization_id: Uuid, user_id: Uuid },
    /// The token had already been rotated or revoked: its whole family is now revoked.
    Reused,
    /// No such token, or it expired.
    Invalid,
}

#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), RepoError>;

    /// Atomically spends the organisation's token hashed as `presented_hash` and stores
    /// `next_hash` in its family (same user, organisation, family) with `next_id` and
    /// `next_expires_at`.
    async fn rotate_refresh_token(
        &self,
        organization_id: Uuid,
        presented_hash: &str,
        next_id: Uuid,
        next_hash: &str,
        now: DateTime<Utc>,
        next_expires_at: DateTime<Utc>,
    ) -> Result<RefreshRotation, RepoError>;

    /// Revokes the family of the user's token hashed as `presented_hash`; `false` when the user
    /// has no such token.
    async fn revoke_refresh_family(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        presented_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Revokes every refresh token of the user.
    async fn revoke_user_refresh_tokens(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
}

/// The scope an idempotency key lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope {
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub key: String,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One try at running a keyed request: the attempt's own id, which the write's audit events carry
/// (and which fences the write: an attempt whose claim was taken over cannot commit), and the
/// server process running it, whose heartbeat tells whether the attempt can still finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyAttempt {
    pub attempt_id: Uuid,
    pub instance_id: Uuid,
}

/// The instants a claim is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTimes {
    pub now: DateTime<Utc>,
    /// A record created before this has expired: the key is free again, whatever it holds.
    pub expired_before: DateTime<Utc>,
    /// An unfinished claim older than this is abandoned, whoever holds it.
    pub abandoned_before: DateTime<Utc>,
    /// An unfinished claim of a process whose last heartbeat is older than this is abandoned:
    /// that process is gone.
    pub silent_since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free (or its earlier use expired or was abandoned before its write
    /// committed): the caller runs the request and then completes or releases the key.
    Acquired,
    /// The key is in use by `attempt_id`: `response` is `None` until that attempt's response is
    /// kept; `committed` says that its write has committed (its response may have been lost in a
    /// crash, and can be rebuilt from what the write left: [`IdempotencyRepository::attempt_outcome`]).
    Existing { request_hash: String, attempt_id: Option<Uuid>, committed: bool, response: Option<StoredResponse> },
}

/// What a committed attempt wrote, from its audit events, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptWrite {
    pub action: crate::audit::AuditAction,
    pub entity_type: String,
    pub entity_id: Uuid,
}

#[async_trait]
pub trait IdempotencyRepository: Send + Sync {
    /// Claims `scope` for `attempt`, a request whose fingerprint is `request_hash`. A record that
    /// expired, or an unfinished claim that was abandoned (see [`ClaimTimes`]) and whose write
    /// did not commit, counts as free and is taken over.
    async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
        attempt: &IdempotencyAttempt,
        times: &ClaimTimes,
    ) -> Result<IdempotencyClaim, RepoError>;

    /// Records the response of `attempt_id`, if the claim is still that attempt's.
    async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        attempt_id: Uuid,
        response: &StoredResponse,
    ) -> Result<(), RepoError>;

    /// Frees `scope` after a request that should not be replayed (a server error), unless the
    /// claim is no longer `attempt_id`'s or its write committed.
    async fn release_idempotency_key(&self, scope: &IdempotencyScope, attempt_id: Uuid) -> Result<(), RepoError>;

    /// What `attempt_id` wrote in the organisation, from the audit events its write left.
    async fn attempt_outcome(&self, organization_id: Uuid, attempt_id: Uuid) -> Result<Vec<AttemptWrite>, RepoError>;

    /// Records that the server process `instance_id` is alive at `now`.
    async fn beat(&self, instance_id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError>;

    /// Forgets a server process that stops.
    async fn retire_instance(&self, instance_id: Uuid) -> Result<(), RepoError>;

    /// Deletes every record created before `expired_before` (and the heartbeats of processes
    /// silent since then); answers how many records.
    async fn purge_idempotency_keys(&self, expired_before: DateTime<Utc>) -> Result<u64, RepoError>;
}

#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Events newest first.
    async fn list_audit_events(
        &self,
        organization_id: Uuid,
        filter: &AuditFilter,
        window: &Window,
    ) -> Result<Page<AuditEvent>, RepoError>;
}

#[async_trait]
pub trait LeadRepository: Send + Sync {
    /// Stores a new lead with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the organisation.
    async fn insert_lead(&self, lead: &Lead, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such lead (archived ones are found).
    async fn get_lead(&self, organization_id: Uuid, lead_id: Uuid) -> Result<Lead, RepoError>;

    /// Stores `lead` (already changed by the domain) when its stored version is
    /// `expected_version`, with an audit event of `action` listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`] when the version moved on;
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn update_lead(
        &self,
        lead: &Lead,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_leads(&self, organization_id: Uuid, query: &LeadQuery) -> Result<Page<Lead>, RepoError>;

    /// One bounded step of upkeep of the lead search index, for every organisation at once (it is
    /// one index). Returns whether there was work to do; the caller repeats until there is none.
    /// A no-op where the database keeps its indexes itself.
    async fn tidy_lead_search(&self) -> Result<bool, RepoError>;
}

#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Stores a new account with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the
    /// organisation. The caller checks `parent_account_id` first with [`Self::account_lineage`].
    async fn insert_account(&self, account: &Account, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such account (archived ones are found).
    async fn get_account(&self, organization_id: Uuid, account_id: Uuid) -> Result<Account, RepoError>;

    /// Stores `account` (already changed by the domain) when its stored version is
    /// `expected_version`, with an audit event of `action` listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `owner_id`.
    async fn update_account(
        &self,
        account: &Account,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_accounts(&self, organization_id: Uuid, query: &AccountQuery) -> Result<Page<Account>, RepoError>;

    /// The account and the chain of its parents, nearest first, at most 100 deep.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such account.
    async fn account_lineage(&self, organization_id: Uuid, account_id: Uuid) -> Result<Vec<Uuid>, RepoError>;
}

#[async_trait]
pub trait ContactRepository: Send + Sync {
    /// Stores a new contact with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `email` when an active contact of the organisation has that
    /// email; [`RepoError::MissingReference`] on `owner_id` or `account_id`.
    async fn insert_contact(&self, contact: &Contact, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such contact (archived ones are found).
    async fn get_contact(&self, organization_id: Uuid, contact_id: Uuid) -> Result<Contact, RepoError>;

    /// The active contact of the organisation with this email, if any.
    async fn find_active_contact_by_email(
        &self,
        organization_id: Uuid,
        email: &Email,
    ) -> Result<Option<Contact>, RepoError>;

    /// Stores `contact` (already changed by the domain) when its stored version is
    /// `expected_version`, with an audit event of `action` listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::Duplicate`] on
    /// `email` (also when a restore would make two active contacts share one);
    /// [`RepoError::MissingReference`] on `owner_id` or `account_id`.
    async fn update_contact(
        &self,
        contact: &Contact,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_contacts(&self, organization_id: Uuid, query: &ContactQuery) -> Result<Page<Contact>, RepoError>;
}

#[async_trait]
pub trait OpportunityRepository: Send + Sync {
    /// Stores a new opportunity, its first stage-history entry and its audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`; the caller checks `account_id` and
    /// `contact_id` first.
    async fn insert_opportunity(
        &self,
        opportunity: &Opportunity,
        stage: &StageChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such opportunity.
    async fn get_opportunity(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Opportunity, RepoError>;

    /// Stores `opportunity` when its stored version is `expected_version`, with the stage change
    /// (if any) appended to its history and an audit event, in one transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `owner_id`.
    async fn update_opportunity(
        &self,
        opportunity: &Opportunity,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        stage: Option<&StageChange>,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_opportunities(
        &self,
        organization_id: Uuid,
        query: &OpportunityQuery,
    ) -> Result<Page<Opportunity>, RepoError>;

    /// One page of the opportunity's stage changes, oldest first (by `changed_at`, then id).
    /// An opportunity of another organisation has none.
    async fn stage_history(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
        window: &Window,
    ) -> Result<Page<StageHistoryEntry>, RepoError>;

    /// The contacts of an opportunity with their roles, primary first, then by when they were added.
    async fn contact_roles(&self, organization_id: Uuid, opportunity_id: Uuid) -> Result<Vec<ContactRole>, RepoError>;

    /// Sets a contact's role (adding the contact when it has none); a primary role makes every
    /// other contact of the deal not primary. Writes an audit event on the opportunity.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `contact_id`.
    async fn put_contact_role(
        &self,
        organization_id: Uuid,
        role: &ContactRole,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Removes a contact from an opportunity, with an audit event.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when the contact has no role in the opportunity.
    async fn delete_contact_role(
        &self,
        organization_id: Uuid,
        opportunity_id: Uuid,
        contact_id: Uuid,
        change: &FieldChange,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;
}

#[async_trait]
pub trait ConversionRepository: Send + Sync {
    /// Writes a lead conversion in one transaction: the converted lead, the account and contact
    /// created or merged into, the opportunity and its first stage, and an audit event for each.
    /// Nothing is written when any part fails.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the lead or a merge target changed since it was read;
    /// [`RepoError::Duplicate`] on `email` when a new contact's email belongs to an active
    /// contact; [`RepoError::MissingReference`] on `owner_id`.
    async fn apply_conversion(&self, plan: &ConversionPlan, audit: &AuditContext) -> Result<(), RepoError>;

    /// Active accounts whose name equals `name` ignoring case, at most 20: likely duplicates of a
    /// company about to become an account.
    async fn find_accounts_by_name(&self, organization_id: Uuid, name: &str) -> Result<Vec<Account>, RepoError>;
}

#[async_trait]
pub trait CompetitorRepository: Send + Sync {
    /// Stores a new competitor with its create audit event.
    async fn insert_competitor(&self, competitor: &Competitor, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such competitor (archived ones are found).
    async fn get_competitor(&self, organization_id: Uuid, competitor_id: Uuid) -> Result<Competitor, RepoError>;

    /// Stores `competitor` (already changed by the domain) when its stored version is
    /// `expected_version`, with an audit event of `action` listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`] when the version moved on.
    async fn update_competitor(
        &self,
        competitor: &Competitor,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_competitors(
        &self,
        organization_id: Uuid,
        query: &CompetitorQuery,
    ) -> Result<Page<Competitor>, RepoError>;

    /// Stores a competitor's new product with its create audit event.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `competitor_id` or `compared_product_id` when that
    /// record is not in the organisation.
    async fn insert_competitor_product(
        &self,
        product: &CompetitorProduct,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the competitor has no such product in the organisation.
    async fn get_competitor_product(
        &self,
        organization_id: Uuid,
        competitor_id: Uuid,
        product_id: Uuid,
    ) -> Result<CompetitorProduct, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`]
    /// on `compared_product_id`.
    async fn update_competitor_product(
        &self,
        product: &CompetitorProduct,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// Deletes a competitor's product for good, with a `delete` audit event listing `changes`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is no such product; [`RepoError::VersionMismatch`] when
    /// its version is not `expected_version`.
    async fn delete_competitor_product(
        &self,
        product: &CompetitorProduct,
        expected_version: i64,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_competitor_products(
        &self,
        organization_id: Uuid,
        query: &CompetitorProductQuery,
    ) -> Result<Page<CompetitorProduct>, RepoError>;
}

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

#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product with its audit event.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `sku` when another product of the organisation has it.
    async fn insert_product(&self, product: &Product, audit: &AuditContext) -> Result<(), RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such product.
    async fn get_product(&self, organization_id: Uuid, product_id: Uuid) -> Result<Product, RepoError>;

    /// The organisation's products among `product_ids`, archived or not, in one query; ids it
    /// does not hold are left out.
    async fn get_products(&self, organization_id: Uuid, product_ids: &[Uuid]) -> Result<Vec<Product>, RepoError>;

    /// The product of the organisation with this SKU, archived or not.
    async fn find_product_by_sku(&self, organization_id: Uuid, sku: &str) -> Result<Option<Product>, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::Duplicate`] on `sku`.
    async fn update_product(
        &self,
        product: &Product,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_products(&self, organization_id: Uuid, query: &ProductQuery) -> Result<Page<Product>, RepoError>;
}

/// Quotes, orders, invoices and payments. Inserting a document gives it the next number of the
/// organisation's sequence for its kind in the same transaction, whatever number the document
/// carried: concurrent inserts never share a number and a number is never reused.
#[async_trait]
pub trait DocumentRepository: Send + Sync {
    /// Numbers and stores a new quote with its audit event; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id` when the owner is not a user of the organisation.
    async fn insert_quote(&self, quote: &Quote, audit: &AuditContext) -> Result<Quote, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such quote.
    async fn get_quote(&self, organization_id: Uuid, quote_id: Uuid) -> Result<Quote, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_quote(
        &self,
        quote: &Quote,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_quotes(&self, organization_id: Uuid, query: &QuoteQuery) -> Result<Page<Quote>, RepoError>;

    /// In one transaction: the accepted quote (if still at `quote_version`), the opportunity
    /// closed won (if still at `opportunity_version`) with its stage change, and the new order,
    /// numbered; answers the order as stored.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the quote or the opportunity changed since read.
    async fn accept_quote(
        &self,
        acceptance: &Acceptance,
        quote_version: i64,
        opportunity_version: i64,
        order: &Order,
        audit: &AuditContext,
    ) -> Result<Order, RepoError>;

    /// Numbers and stores an order of its own; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_order(&self, order: &Order, audit: &AuditContext) -> Result<Order, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such order.
    async fn get_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Order, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_order(
        &self,
        order: &Order,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_orders(&self, organization_id: Uuid, query: &OrderQuery) -> Result<Page<Order>, RepoError>;

    /// Numbers and stores a new invoice; answers it as stored.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] on `order_id` when the order already has an invoice that is not
    /// void; [`RepoError::MissingReference`] on `owner_id`.
    async fn insert_invoice(&self, invoice: &Invoice, audit: &AuditContext) -> Result<Invoice, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`] when the organisation has no such invoice.
    async fn get_invoice(&self, organization_id: Uuid, invoice_id: Uuid) -> Result<Invoice, RepoError>;

    /// The order's invoice that is not void, if any.
    async fn find_invoice_of_order(&self, organization_id: Uuid, order_id: Uuid) -> Result<Option<Invoice>, RepoError>;

    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::VersionMismatch`]; [`RepoError::MissingReference`] on `owner_id`.
    async fn update_invoice(
        &self,
        invoice: &Invoice,
        expected_version: i64,
        action: AuditAction,
        changes: &[FieldChange],
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    async fn list_invoices(&self, organization_id: Uuid, query: &InvoiceQuery) -> Result<Page<Invoice>, RepoError>;

    /// Stores a payment and the invoice it changes (if still at `expected_version`) in one
    /// transaction, so that concurrent payments can never pass the total.
    ///
    /// # Errors
    /// [`RepoError::VersionMismatch`] when the invoice changed since read.
    async fn record_payment(
        &self,
        invoice: &Invoice,
        expected_version: i64,
        changes: &[FieldChange],
        payment: &Payment,
        audit: &AuditContext,
    ) -> Result<(), RepoError>;

    /// One page of the invoice's payments, oldest first (by `paid_at`, then id). An invoice of
    /// another organisation has none.
    async fn list_payments(
        &self,
        organization_id: Uuid,
        invoice_id: Uuid,
        window: &Window,
    ) -> Result<Page<Payment>, RepoError>;
}

#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Answers once the database has run a trivial query.
    async fn ping(&self) -> Result<(), RepoError>;
}

/// Everything the application needs from storage, as one object.
pub trait Store:
    OrganizationRepository
    + UserRepository
    + RefreshTokenRepository
    + IdempotencyRepository
    + AuditRepository
    + LeadRepository
    + AccountRepository
    + ContactRepository
    + OpportunityRepository
    + ConversionRepository
    + ReportRepository
    + ProductRepository
    + CompetitorRepository
    + DealCompetitorRepository
    + DocumentRepository
    + HealthCheck
{
}

impl<T> Store for T where
    T: OrganizationRepository
        + UserRepository
        + RefreshTokenRepository
        + IdempotencyRepository
        + AuditRepository
        + LeadRepository
        + AccountRepository
        + ContactRepository
        + OpportunityRepository
        + ConversionRepository
        + ReportRepository
        + ProductRepository
        + CompetitorRepository
        + DealCompetitorRepository
        + DocumentRepository
        + HealthCheck
{
}
