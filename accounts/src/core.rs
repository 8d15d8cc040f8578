//! What every account function shares, built once per container: the store, the password
//! hasher, the rules' settings and the clock; and the steps the handlers repeat (hash off the
//! executor, decide and persist with a retry on conflict, admit a password attempt under the
//! throttle).

use std::sync::{Arc, PoisonError};

use lambdauth_domain::random::{OsRandomness, RandomnessUnavailable};
use lambdauth_domain::usecases::login::{self, LoginAnswer};
use lambdauth_domain::usecases::{Change, Decision, Write};
use lambdauth_domain::{
    Clock, Email, NewPassword, PasswordAttempt, PasswordCheck, PasswordHasher, Settings,
    StoredPassword, Timestamp, TokenHash, User,
};
use lambdauth_runtime::api::{ApiError, ApiResponse, HandlerError};
use lambdauth_runtime::config::OutboxConfig;
use lambdauth_runtime::function::{Context, StartError};
use lambdauth_runtime::retry::{Try, until_persisted};
use lambdauth_runtime::sealer::TokenSealer;
use lambdauth_runtime::security::{self, SecurityEvent};
use lambdauth_runtime::store::StoreError;
use tokio::sync::Semaphore;

use crate::config::CoreConfig;
use crate::store::UserStore;

/// The shared part of every function.
#[derive(Clone)]
pub struct Core {
    /// The table.
    pub store: UserStore,
    /// The hasher (with its dummy hash for unknown users).
    pub hasher: Arc<PasswordHasher>,
    /// The rules' knobs.
    pub settings: Settings,
    /// Where the rules read the time.
    pub clock: Arc<dyn Clock + Send + Sync>,
    /// One permit per core: a hash holds its memory (19 MiB at the default cost) only while it
    /// runs, and requests beyond the cores wait their turn instead of all hashing at once.
    hash_permits: Arc<Semaphore>,
}

/// A login stopped after its password was checked (and rehashed when it matched an old hash):
/// what [`Core::finish_login`] concludes. Login runs the two halves back to back; splitting them
/// lets a test change the account in between through the same code.
#[derive(Debug)]
pub struct CheckedLogin {
    attempt: Arc<PasswordAttempt>,
    device: Option<TokenHash>,
    admitted: Box<User>,
    check: PasswordCheck,
    rehashed: Option<StoredPassword>,
}

impl CheckedLogin {
    /// Whether the password matched.
    pub fn matched(&self) -> bool {
        self.check.matched()
    }

    /// Whether a new hash is waiting to replace the stored one.
    pub fn rehashed(&self) -> bool {
        self.rehashed.is_some()
    }
}

/// A password attempt admitted by the throttle, with the failure already counted.
#[derive(Debug)]
pub enum Admitted {
    /// On this user, as written with the attempt counted.
    User(Box<User>),
    /// On an address with no account.
    Unknown,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// The core over `store`, configured by `config`, reading `context`'s clock.
    pub fn new(
        config: &CoreConfig,
        store: UserStore,
        context: &Context,
    ) -> Result<Self, StartError> {
        Ok(Self {
            store,
            hasher: Arc::new(
                PasswordHasher::new(config.hashing, &mut OsRandomness)
                    .map_err(|error| StartError::unusable("the password hasher", error))?,
            ),
            settings: config.settings,
            clock: Arc::clone(&context.clock),
            hash_permits: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            )),
        })
    }

    /// The core over the users table `config` names, for a function that never mails.
    pub fn over_users(config: &CoreConfig, context: &Context) -> Result<Self, StartError> {
        Self::new(
            config,
            UserStore::new(context.dynamodb(), &config.table_name),
            context,
        )
    }

    /// The core over the users table `config` names, putting the mails its decisions make in
    /// the outbox table `outbox` names, in the same transaction.
    pub fn mailing(
        config: &CoreConfig,
        outbox: &OutboxConfig,
        context: &Context,
    ) -> Result<Self, StartError> {
        let store = UserStore::new(context.dynamodb(), &config.table_name)
            .with_outbox(outbox.table_name.clone());
        Self::new(config, store, context)
    }

    /// The one answer of every failed password attempt on `email` from `source` (the
    /// original's `{<answer>: false}`, `login` or `changed`), recorded as the security event
    /// `LoginFailed`.
    pub fn failed_attempt(
        &self,
        email: &Email,
        source: Option<&str>,
        answer: &'static str,
    ) -> ApiResponse {
        security::record(
            &SecurityEvent::LoginFailed { address: email },
            source,
            self.now(),
        );
        ApiError::InvalidCredentials { answer }.into_response()
    }

    /// Now, as the clock says.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher) -> Result<T, HandlerError> + Send + 'static,
    ) -> Result<T, HandlerError> {
        let hasher = Arc::clone(&self.hasher);
        let _permit = self
            .hash_permits
            .acquire()
            .await
            .map_err(|error| HandlerError::internal("waiting for a hashing permit", error))?;
        tokio::task::spawn_blocking(move || work(&hasher))
            .await
            .map_err(|error| HandlerError::internal("running a hash", error))?
    }

    /// Hashes a password being set, on a blocking thread.
    pub async fn hash(&self, password: NewPassword) -> Result<StoredPassword, HandlerError> {
        self.blocking(move |hasher| Ok(hasher.hash(&password, &mut OsRandomness)?))
            .await
    }

    /// Checks an attempt on a blocking thread against `stored`, or against the dummy hash when
    /// there is no account, and rehashes it when it matched a hash that needs replacing.
    ///
    /// Every path costs the same ([`PasswordHasher::check_attempt`]): the time of the answer
    /// tells neither an unknown address, nor a carried-over or older hash, nor a match.
    pub async fn check(
        &self,
        attempt: Arc<PasswordAttempt>,
        stored: Option<StoredPassword>,
    ) -> Result<(PasswordCheck, Option<StoredPassword>), HandlerError> {
        self.blocking(move |hasher| {
            Ok(hasher.check_attempt(&attempt, stored.as_ref(), &mut OsRandomness)?)
        })
        .await
    }

    /// For the requests that may mail (signup, lost password): loads the user of `email`, decides
    /// with `decide`, seals the mail's token with `sealer` and persists the change in one
    /// transaction, deciding again on fresh state when another request changed the user in
    /// between. Whatever it decides (a new account, a notice, nothing at all inside a cooldown),
    /// it makes the same calls in the same order: one read, one `Encrypt` (of a throwaway token
    /// when no link is mailed) and one `TransactWriteItems` (a condition check that writes
    /// nothing when there is nothing to write), so the calls do not tell what the address is.
    pub async fn decide_and_persist_alike<A>(
        &self,
        email: &Email,
        sealer: &TokenSealer,
        decide: impl FnMut(Option<&User>, Timestamp) -> Result<Decision<A>, RandomnessUnavailable>,
    ) -> Result<A, HandlerError> {
        // Each try reads the user itself (one read a try, none after the last), so the decision
        // is made inside the try's future: a lock hands it the one `decide`.
        let decide = std::sync::Mutex::new(decide);
        until_persisted((), |()| {
            let decide = &decide;
            async move {
                let user = self.store.load_user(email).await?;
                let now = self.now();
                let decision =
                    (decide.lock().unwrap_or_else(PoisonError::into_inner))(user.as_ref(), now)?;
                let change = decision.change.as_ref();
                let sealed_token = sealer
                    .seal_every_time(change.and_then(|c| c.mail.as_ref()), email, now)
                    .await?;
                let read_version = user.as_ref().map(|user| user.version);
                match self
                    .store
                    .apply_in_transaction(email, read_version, change, sealed_token)
                    .await
                {
                    Ok(()) => Ok(Try::Done(decision.answer)),
                    Err(StoreError::Conflict) => Ok(Try::Lost(())),
                    Err(error) => Err(error.into()),
                }
            }
        })
        .await
    }

    /// Loads the user of `email`, decides with `decide`, and persists the change (whose mail, if
    /// any, carries no link), deciding again on fresh state when another request changed the
    /// user in between.
    pub async fn decide_and_persist<A>(
        &self,
        email: &Email,
        decide: impl FnMut(Option<&User>, Timestamp) -> Result<Decision<A>, RandomnessUnavailable>,
    ) -> Result<A, HandlerError> {
        let user = self.store.load_user(email).await?;
        persist_decided(&self.store, email, user, &*self.clock, decide).await
    }

    /// Admits a password attempt on `email` from the device whose token hashes to `device` (if
    /// any) under the login throttle: the failure is counted by a conditional write *before* the
    /// password is checked, so parallel attempts cannot share one reading of the count; on that
    /// device's own count when the account knows it, on the account's otherwise. A locked
    /// address (or device) answers 429 and no password is checked; the refusal is recorded as an
    /// `AccountLocked` security event from `source`.
    pub async fn admit_from(
        &self,
        email: &Email,
        device: Option<&TokenHash>,
        source: Option<&str>,
    ) -> Result<Admitted, HandlerError> {
        let settings = &self.settings;
        until_persisted((), |()| async move {
            let now = self.now();
            let locked = |wait| {
                security::record(
                    &SecurityEvent::AccountLocked { address: email },
                    source,
                    now,
                );
                HandlerError::from(wait)
            };
            let (user, throttle, version) = self.store.load_account(email).await?;
            if let Some(user) = user {
                let admitted = login::admit_from(&user, device, now, settings).map_err(locked)?;
                let change = Change {
                    write: Write::Update {
                        user: admitted.clone(),
                        expected_version: user.version,
                    },
                    mail: None,
                };
                return Ok(if persist(&self.store, &change).await? {
                    Try::Done(Admitted::User(Box::new(admitted)))
                } else {
                    Try::Lost(())
                });
            }
            let admitted = login::admit_unknown(throttle, now, settings).map_err(locked)?;
            match self
                .store
                .save_throttle(email, &admitted, version, &settings.lockout)
                .await
            {
                Ok(()) => Ok(Try::Done(Admitted::Unknown)),
                Err(StoreError::Conflict) => Ok(Try::Lost(())),
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    /// The first half of a login: the attempt admitted under the throttle and its password
    /// checked. `None` for an address with no account, after paying the same hash.
    pub async fn check_login(
        &self,
        email: &Email,
        attempt: PasswordAttempt,
        device: Option<TokenHash>,
        source: Option<&str>,
    ) -> Result<Option<CheckedLogin>, HandlerError> {
        let attempt = Arc::new(attempt);
        let Admitted::User(admitted) = self.admit_from(email, device.as_ref(), source).await?
        else {
            self.check(attempt, None).await?;
            return Ok(None);
        };
        let (check, rehashed) = self
            .check(Arc::clone(&attempt), Some(admitted.password.clone()))
            .await?;
        Ok(Some(CheckedLogin {
            attempt,
            device,
            admitted,
            check,
            rehashed,
        }))
    }

    /// The second half of a login: its outcome persisted (the failure forgiven, the rehash
    /// written) on the state it was decided from. `None` when the password changed meanwhile to
    /// one the attempt does not match.
    pub async fn finish_login(
        &self,
        checked: CheckedLogin,
    ) -> Result<Option<LoginAnswer>, HandlerError> {
        let CheckedLogin {
            attempt,
            device,
            admitted,
            check,
            rehashed,
        } = checked;
        let email = admitted.email.clone();
        let concluded = self
            .conclude(admitted, |user, now| {
                login::conclude(
                    user,
                    check,
                    rehashed.clone(),
                    device.as_ref(),
                    now,
                    &self.settings,
                    &mut OsRandomness,
                )
            })
            .await?;
        if concluded.is_some() || !check.matched() {
            return Ok(concluded);
        }
        // The stored hash changed after the right password was checked: a change or a reset
        // wins, but a parallel login of the same password may only have rehashed it. Checking
        // once more against what is stored now tells the two apart (this race alone pays it).
        let Some(current) = self.store.load_user(&email).await? else {
            return Ok(None);
        };
        let (again, _) = self.check(attempt, Some(current.password.clone())).await?;
        if !again.matched() {
            return Ok(None);
        }
        self.conclude(Box::new(current), |user, now| {
            login::conclude(
                user,
                again,
                None,
                device.as_ref(),
                now,
                &self.settings,
                &mut OsRandomness,
            )
        })
        .await
    }

    /// Concludes an admitted attempt on `admitted` with `conclude`, persisting its change. When
    /// another request changed the user in between, it concludes again on the fresh state if the
    /// password is still the one checked; `None` when it is not (the attempt then failed).
    pub async fn conclude<A>(
        &self,
        admitted: Box<User>,
        mut conclude: impl FnMut(&User, Timestamp) -> Result<Decision<A>, RandomnessUnavailable>,
    ) -> Result<Option<A>, HandlerError> {
        let checked = admitted.password.clone();
        let checked_password = &checked;
        until_persisted(*admitted, |user| {
            let decision = conclude(&user, self.now());
            async move {
                let decision = decision?;
                let Some(change) = decision.change else {
                    return Ok(Try::Done(Some(decision.answer)));
                };
                if persist(&self.store, &change).await? {
                    return Ok(Try::Done(Some(decision.answer)));
                }
                // Concluded again on the user as it is now, if the password is still the one
                // checked; otherwise the attempt failed.
                match self.store.load_user(&user.email).await? {
                    Some(fresh) if fresh.password == *checked_password => Ok(Try::Lost(fresh)),
                    _ => Ok(Try::Done(None)),
                }
            }
        })
        .await
    }
}

/// Decides with `decide` on `user` (the user of `email` as just read, if any) and persists the
/// change (whose mail, if any, carries no link), deciding again on the user read afresh when
/// another request changed it in between. `clock` dates each decision.
pub async fn persist_decided<A>(
    store: &UserStore,
    email: &Email,
    user: Option<User>,
    clock: &(dyn Clock + Send + Sync),
    mut decide: impl FnMut(Option<&User>, Timestamp) -> Result<Decision<A>, RandomnessUnavailable>,
) -> Result<A, HandlerError> {
    until_persisted(user, |user| {
        let decision = decide(user.as_ref(), clock.now());
        async move {
            let decision = decision?;
            let Some(change) = decision.change else {
                return Ok(Try::Done(decision.answer));
            };
            if persist(store, &change).await? {
                Ok(Try::Done(decision.answer))
            } else {
                Ok(Try::Lost(store.load_user(email).await?))
            }
        }
    })
    .await
}

/// Persists `change` in `store`, whose mail (if any) carries no link; `false` when the user
/// changed since it was read.
async fn persist(store: &UserStore, change: &Change) -> Result<bool, HandlerError> {
    if change.mail.as_ref().is_some_and(|mail| mail.link.is_some()) {
        return Err(HandlerError::bug(
            "a mail with a link is sealed by decide_and_persist_alike",
        ));
    }
    match store.apply(change, None).await {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(error) => Err(error.into()),
    }
}
