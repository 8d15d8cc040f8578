//! Session items: one per session, in the partition of the user's opaque subject id (where a
//! refresh token and an access token lead without the address), each write conditioned on the
//! version read and on the session not having expired.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::session::RetiredToken;
use lambdauth_domain::{Email, Session, SessionId, SessionPolicy, SubjectId, Timestamp, TokenHash};

use super::UserStore;
use lambdauth_runtime::aws_error::classify;
use lambdauth_runtime::store::StoreError;
use lambdauth_runtime::store::items::{Item, ItemError, get_n, get_s, malformed, n, s, timestamp};
use lambdauth_runtime::store::schema::{
    PARTITION_KEY, SESSION_SORT_KEY_PREFIX, SORT_KEY, SUBJECT_PARTITION_PREFIX, TTL_ATTRIBUTE,
    TYPE_ATTRIBUTE, attribute, item_type,
};

fn partition(subject: &SubjectId) -> AttributeValue {
    s(format!("{SUBJECT_PARTITION_PREFIX}{}", subject.as_str()))
}

/// The key of session `id` of `subject`.
pub fn session_key(subject: &SubjectId, id: &SessionId) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), partition(subject)),
        (
            SORT_KEY.to_owned(),
            s(format!("{SESSION_SORT_KEY_PREFIX}{}", id.as_str())),
        ),
    ])
}

/// The item of `session`; it expires (for DynamoDB's clean-up only) when the session does.
pub fn session_to_item(session: &Session, policy: &SessionPolicy) -> Item {
    let mut item = session_key(&session.subject, &session.id);
    let expires_at = session.expires_at(policy);
    item.insert(TYPE_ATTRIBUTE.to_owned(), s(item_type::SESSION));
    item.insert(attribute::SESSION_ID.to_owned(), s(session.id.as_str()));
    item.insert(attribute::SUBJECT.to_owned(), s(session.subject.as_str()));
    item.insert(attribute::EMAIL.to_owned(), s(session.email.as_str()));
    item.insert(
        attribute::REFRESH_HASH.to_owned(),
        s(session.refresh_hash.to_hex()),
    );
    if let Some(previous) = &session.previous {
        item.insert(
            attribute::PREVIOUS_REFRESH_HASH.to_owned(),
            s(previous.hash.to_hex()),
        );
        item.insert(
            attribute::PREVIOUS_RETIRED_AT.to_owned(),
            n(previous.retired_at.as_millis()),
        );
    }
    item.insert(
        attribute::CREATED_AT.to_owned(),
        n(session.created_at.as_millis()),
    );
    item.insert(
        attribute::LAST_USED_AT.to_owned(),
        n(session.last_used_at.as_millis()),
    );
    if let Some(user_agent) = &session.user_agent {
        item.insert(attribute::USER_AGENT.to_owned(), s(user_agent));
    }
    item.insert(
        attribute::SESSION_GENERATION.to_owned(),
        n(session.generation),
    );
    item.insert(
        attribute::SESSION_EXPIRES_AT.to_owned(),
        n(expires_at.as_millis()),
    );
    item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at.as_secs() + 1));
    item.insert(attribute::VERSION.to_owned(), n(session.version));
    item
}

fn hash(item: &Item, name: &'static str) -> Result<TokenHash, ItemError> {
    TokenHash::from_hex(get_s(item, name)?).ok_or_else(|| malformed(name))
}

/// The session in `item`.
pub fn session_from_item(item: &Item) -> Result<Session, ItemError> {
    let previous = if item.contains_key(attribute::PREVIOUS_REFRESH_HASH) {
        Some(RetiredToken {
            hash: hash(item, attribute::PREVIOUS_REFRESH_HASH)?,
            retired_at: timestamp(item, attribute::PREVIOUS_RETIRED_AT)?,
        })
    } else {
        None
    };
    Ok(Session {
        id: SessionId::parse(get_s(item, attribute::SESSION_ID)?)
            .ok_or_else(|| malformed(attribute::SESSION_ID))?,
        subject: SubjectId::parse(get_s(item, attribute::SUBJECT)?)
            .ok_or_else(|| malformed(attribute::SUBJECT))?,
        email: Email::parse(get_s(item, attribute::EMAIL)?)
            .map_err(|_| malformed(attribute::EMAIL))?,
        refresh_hash: hash(item, attribute::REFRESH_HASH)?,
        previous,
        created_at: timestamp(item, attribute::CREATED_AT)?,
        last_used_at: timestamp(item, attribute::LAST_USED_AT)?,
        user_agent: item
            .get(attribute::USER_AGENT)
            .and_then(|v| v.as_s().ok())
            .cloned(),
        generation: get_n(item, attribute::SESSION_GENERATION)?,
        version: get_n(item, attribute::VERSION)?,
    })
}

impl UserStore {
    /// Writes a new session; it must not exist yet.
    pub async fn create_session(
        &self,
        session: &Session,
        policy: &SessionPolicy,
    ) -> Result<(), StoreError> {
        self.put_if(session_to_item(session, policy), None).await
    }

    /// Replaces a session with its rotated form, if it is still the version `expected` and has
    /// not expired at `now` (checked here, never left to TTL).
    pub async fn replace_session(
        &self,
        session: &Session,
        expected: u64,
        now: Timestamp,
        policy: &SessionPolicy,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_to_item(session, policy)))
            .condition_expression("#version = :expected AND #expires > :now")
            .expression_attribute_names("#version", attribute::VERSION)
            .expression_attribute_names("#expires", attribute::SESSION_EXPIRES_AT)
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|error| super::put_error(&error))?;
        Ok(())
    }

    /// Session `id` of `subject`, read consistently.
    pub async fn load_session(
        &self,
        subject: &SubjectId,
        id: &SessionId,
    ) -> Result<Option<Session>, StoreError> {
        match self.get(session_key(subject, id)).await? {
            Some(item) => Ok(Some(session_from_item(&item)?)),
            None => Ok(None),
        }
    }

    /// Every session item of `subject`, live or not, read consistently.
    pub async fn list_sessions(&self, subject: &SubjectId) -> Result<Vec<Session>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(format!(
                    "{PARTITION_KEY} = :pk AND begins_with({SORT_KEY}, :prefix)"
                ))
                .expression_attribute_values(":pk", partition(subject))
                .expression_attribute_values(":prefix", s(SESSION_SORT_KEY_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("DynamoDB", &e))?;
            for item in output.items() {
                sessions.push(session_from_item(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(sessions);
            }
        }
    }

    /// Deletes session `id` of `subject`; when `expected` is given, only if it is still that
    /// version (else [`StoreError::Conflict`]).
    pub async fn delete_session(
        &self,
        subject: &SubjectId,
        id: &SessionId,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(subject, id)));
        if let Some(expected) = expected {
            request = request
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", attribute::VERSION)
                .expression_attribute_values(":expected", n(expected));
        }
        request.send().await.map_err(|error| {
            if error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::is_conditional_check_failed_exception)
            {
                StoreError::Conflict
            } else {
                classify("DynamoDB", &error).into()
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambdauth_domain::random::OsRandomness;

    #[test]
    fn a_session_survives_a_round_trip_through_its_item() {
        let subject = SubjectId::generate(&mut OsRandomness).unwrap();
        let email = Email::parse("erin@example.com").unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let policy = SessionPolicy::default();
        let (session, token) = lambdauth_domain::session::start(
            &subject,
            &email,
            3,
            Some("curl/8"),
            now,
            &mut OsRandomness,
        )
        .unwrap();
        let item = session_to_item(&session, &policy);
        assert_eq!(session_from_item(&item).unwrap(), session);
        assert!(item["pk"].as_s().unwrap().starts_with("SUBJECT#"));
        assert!(
            !item
                .values()
                .any(|v| v.as_s().is_ok_and(|s| s.contains(token.expose()))),
            "the token is stored hashed only"
        );
        let lambdauth_domain::session::Refresh::Rotated {
            session: rotated, ..
        } = lambdauth_domain::session::refresh(
            &session,
            &token,
            3,
            now,
            &policy,
            &mut OsRandomness,
        )
        .unwrap()
        else {
            panic!("no rotation");
        };
        let item = session_to_item(&rotated, &policy);
        assert_eq!(session_from_item(&item).unwrap(), *rotated);
    }
}
