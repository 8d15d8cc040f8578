//! Logging out everywhere: every session of the user ends in one write of the user item.

use super::{Decision, next_version};
use crate::{Timestamp, User};

/// Ends every session of `user` (its devices stay known: the password did not change); nothing
/// to do when the user is gone.
pub fn end_every_session(user: Option<&User>, now: Timestamp) -> Decision<()> {
    let Some(user) = user else {
        return Decision::answer(());
    };
    let mut after = next_version(user, now);
    after.sessions.generation += 1;
    Decision::update((), user, after, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::testing::*;

    #[test]
    fn every_session_ends_with_one_conditional_write() {
        let user = verified_user();
        let decision = end_every_session(Some(&user), now());
        let change = decision.change.unwrap();
        assert_eq!(
            change.write.user().sessions.generation,
            user.sessions.generation + 1
        );
        assert!(matches!(
            change.write,
            crate::usecases::Write::Update { expected_version, .. } if expected_version == user.version
        ));
        assert_eq!(end_every_session(None, now()).change, None);
    }
}
