//! Optimistic concurrency as one combinator: read, decide, write on the condition that nothing
//! changed; when another request changed it first, read again and decide again, at most
//! [`MAX_TRIES`] times, and then answer that the item is contended (429, retry in a second).
//! Every use case persists through [`until_persisted`]; what it reads, decides and writes is its
//! own, the loop and its limit are here once.

use std::time::Duration;

use lambdauth_domain::RetryAfter;

use crate::api::HandlerError;

/// How many times a decision is made on fresh state after losing a write race before the
/// request gives up with a 429.
pub const MAX_TRIES: usize = 8;

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Try<A, S = ()> {
    /// Decided and persisted (or nothing needed persisting): the answer.
    Done(A),
    /// Another request changed the state after it was read: decide again, on the fresh state
    /// this carries (what the next try starts from).
    Lost(S),
}

/// Runs `attempt` on `first`, and again on the state each lost try hands on, until a try is
/// [`Try::Done`], at most [`MAX_TRIES`] times; an error ends it at once.
///
/// The state is handed from try to try by value (not borrowed by the closure), so that each
/// try's future owns what it works on and a handler's future stays `Send`.
pub async fn until_persisted<S, A, Fut>(
    first: S,
    mut attempt: impl FnMut(S) -> Fut,
) -> Result<A, HandlerError>
where
    Fut: Future<Output = Result<Try<A, S>, HandlerError>>,
{
    let mut state = first;
    for _ in 0..MAX_TRIES {
        match attempt(state).await? {
            Try::Done(answer) => return Ok(answer),
            Try::Lost(fresh) => state = fresh,
        }
    }
    Err(contended())
}

/// The answer of a request that lost every write race: try again in a second.
pub fn contended() -> HandlerError {
    RetryAfter::new(Duration::from_secs(1)).into()
}

#[cfg(test)]
mod tests {
    use crate::api::ApiError;

    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    /// A stored value and its version, as a conditional write sees it.
    #[derive(Debug, Default)]
    struct Stored {
        version: std::sync::Mutex<u64>,
    }

    impl Stored {
        fn read(&self) -> u64 {
            *self.version.lock().unwrap()
        }

        /// Writes if the version is still `read`: `false` when another writer came first.
        fn write_if(&self, read: u64) -> bool {
            let mut version = self.version.lock().unwrap();
            if *version == read {
                *version += 1;
                true
            } else {
                false
            }
        }
    }

    #[test]
    fn a_lost_race_is_decided_again_on_fresh_state() {
        let stored = Stored::default();
        let stored = &stored;
        // Two parallel writers win the first two races.
        let mut rivals = 2;
        let answer = block_on(until_persisted(stored.read(), move |read| {
            if rivals > 0 {
                rivals -= 1;
                assert!(stored.write_if(stored.read()));
            }
            async move {
                if stored.write_if(read) {
                    Ok(Try::Done(read))
                } else {
                    Ok(Try::Lost(stored.read()))
                }
            }
        }))
        .unwrap();
        assert_eq!(answer, 2, "decided on the state the winners left");
        assert_eq!(stored.read(), 3);
    }

    #[test]
    fn after_the_last_try_the_answer_is_contended_with_a_wait() {
        let mut tries = 0;
        let error = block_on(until_persisted((), |()| {
            tries += 1;
            async { Ok::<Try<()>, HandlerError>(Try::Lost(())) }
        }))
        .unwrap_err();
        assert_eq!(tries, MAX_TRIES);
        let HandlerError::Refused(ApiError::TooManyRequests(wait)) = error else {
            panic!("{error:?}");
        };
        assert_eq!(wait, RetryAfter::new(Duration::from_secs(1)));
    }

    #[test]
    fn an_error_ends_the_loop_at_once() {
        let mut tries = 0;
        let error = block_on(until_persisted((), |()| {
            tries += 1;
            async { Err::<Try<()>, _>(HandlerError::bug("a broken item")) }
        }))
        .unwrap_err();
        assert_eq!(tries, 1);
        assert!(matches!(error, HandlerError::Internal { .. }));
    }
}
