//! Password hashing and checking (argon2id), bounded: each hash works through about 19 MiB and
//! tens of milliseconds of one core, and the login endpoint is open to anyone. A fixed number of
//! threads of their own do the work, so that no more than that many hashes run at once, and each
//! thread keeps its working memory from one hash to the next: the memory a flood of logins can
//! make the server hold is that, whatever the flood (argon2's own allocation per hash, freed into
//! the allocator's shared arenas, grew a test process to 580 MiB in ten seconds). A request that
//! finds every thread busy waits a moment for a turn, then answers 503 with `Retry-After`.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, oneshot};

use crate::problem::ApiError;

/// A hashing thread's working memory, kept between hashes.
type Memory = Vec<Block>;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads and the turns to use them.
pub struct PasswordHashing {
    turns: Arc<Semaphore>,
    wait: Duration,
    jobs: mpsc::Sender<Job>,
}

impl PasswordHashing {
    /// `threads` hashing threads (at least one); a request waits at most `wait` for one of them.
    pub fn new(threads: usize, wait: Duration) -> Self {
        let threads = threads.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("crm-password-{n}")).spawn(move || {
                let mut memory = Memory::new();
                loop {
                    let job = receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                    match job {
                        Ok(job) => job(&mut memory),
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            });
            if let Err(error) = spawned {
                tracing::error!(error = %error, "could not start a password hashing thread");
            }
        }
        Self { turns: Arc::new(Semaphore::new(threads)), wait, jobs: sender }
    }

    /// The number of hashing threads the server starts by default: one per core, at most four.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get).clamp(1, 4)
    }

    /// Runs `work` on a hashing thread, with its memory, once one is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let turn = match tokio::time::timeout(self.wait, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(_)) | Err(_) => {
                return Err(ApiError::Busy {
                    detail: "too many passwords are being checked at once; retry in a moment".to_owned(),
                    retry_after_seconds: 1,
                });
            }
        };
        let (sender, receiver) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = sender.send(work(memory));
        });
        self.jobs.send(job).map_err(|_| ApiError::internal("the password hashing threads are gone"))?;
        let outcome = receiver.await.map_err(|_| ApiError::internal("a password hashing thread failed"));
        drop(turn);
        outcome
    }

    /// An argon2id hash of `password` (default cost), in PHC form.
    ///
    /// # Errors
    /// 503 when the hashing threads stay busy; internal when hashing fails.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_with(memory, password.as_bytes())).await?.map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash`. Without a hash (no such user) it checks against a
    /// dummy hash, so that both failures take the same time, and answers false.
    ///
    /// # Errors
    /// 503 when the hashing threads stay busy.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        self.run(move |memory| {
            let known = hash.is_some();
            let Some(hash) = hash.or_else(|| dummy_hash(memory)) else { return false };
            verify_with(memory, password.as_bytes(), &hash) && known
        })
        .await
    }
}

/// `memory`, grown to the blocks `params` needs (never shrunk), as the slice argon2 works in.
fn blocks<'a>(memory: &'a mut Memory, params: &Params) -> &'a mut [Block] {
    let count = params.block_count();
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, String> {
    let params = Params::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = Salt::new(&salt).map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, blocks(memory, &params))
        .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(hash.to_string())
}

/// Whether `password` hashes to the PHC string `phc` (whatever its algorithm, version and cost),
/// compared in constant time.
fn verify_with(memory: &mut Memory, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let Ok(version) = hash.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt, &mut out, blocks(memory, &params))
        .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// A hash of a random password that no one knows.
fn dummy_hash(memory: &mut Memory) -> Option<String> {
    static DUMMY_HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DUMMY_HASH.get_or_init(|| hash_with(memory, uuid::Uuid::new_v4().to_string().as_bytes()).ok()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_and_a_wrong_password_does_not() {
        let hashing = PasswordHashing::new(1, Duration::from_secs(5));
        let hash = hashing.hash("correct horse battery".to_owned()).await.ok();
        assert!(hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$")));
        assert_eq!(hashing.verify("correct horse battery".to_owned(), hash.clone()).await.ok(), Some(true));
        assert_eq!(hashing.verify("wrong".to_owned(), hash).await.ok(), Some(false));
        assert_eq!(hashing.verify("anything".to_owned(), None).await.ok(), Some(false));
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_verify() {
        use argon2::password_hash::PasswordHasher;
        let made = Argon2::default().hash_password(b"correct horse battery").map(|h| h.to_string()).ok();
        let hashing = PasswordHashing::new(1, Duration::from_secs(5));
        assert_eq!(hashing.verify("correct horse battery".to_owned(), made.clone()).await.ok(), Some(true));
        assert_eq!(hashing.verify("correct horse".to_owned(), made).await.ok(), Some(false));
    }

    #[tokio::test]
    async fn when_every_thread_stays_busy_the_next_caller_is_told_to_come_back() {
        let hashing = Arc::new(PasswordHashing::new(1, Duration::from_millis(20)));
        let busy = hashing.clone();
        let (started, was_started) = oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn(async move {
            busy.run(move |_| {
                let _ = started.send(());
                let _ = released.recv();
            })
            .await
        });
        let _ = was_started.await;
        match hashing.hash("correct horse battery".to_owned()).await {
            Err(ApiError::Busy { retry_after_seconds: 1, .. }) => {}
            other => panic!("expected 503, got {other:?}"),
        }
        let _ = release.send(());
        assert!(matches!(first.await, Ok(Ok(()))));
        assert!(hashing.hash("correct horse battery".to_owned()).await.is_ok(), "free again");
    }
}
