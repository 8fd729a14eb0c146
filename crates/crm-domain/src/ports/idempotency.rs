//! The claims and kept responses of `Idempotency-Key` requests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::RepoError;

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
