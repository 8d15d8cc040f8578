//! The outbox item: how a mail decided by a use case is written (in the transaction of the
//! change that decided it) and read back by the mailer, the CLI and the tests. Both sides of the
//! pipeline share this one format.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::mail::MailLink;
use lambdauth_domain::{Email, Locale, MailKind, MailStatus, OutboxMail, OutgoingMail};

use super::items::{
    Item, ItemError, get_optional_n, get_s, malformed, n, optional_timestamp, s, timestamp,
};
use super::schema::{
    MAIL_RETENTION_DAYS, MAIL_SORT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE,
    TYPE_ATTRIBUTE, attribute, item_type,
};

/// The key of outbox item `mail_id` to `recipient`.
pub fn mail_key(recipient: &str, mail_id: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(recipient)),
        (
            SORT_KEY.to_owned(),
            s(format!("{MAIL_SORT_KEY_PREFIX}{mail_id}")),
        ),
    ])
}

/// The outbox item of `mail`, with the link's token as KMS ciphertext (`sealed_token`).
pub fn mail_to_item(mail: &OutgoingMail, sealed_token: Option<Vec<u8>>) -> Item {
    let mut item = mail_key(mail.recipient.as_str(), mail.id.as_str());
    item.insert(TYPE_ATTRIBUTE.to_owned(), s(item_type::MAIL));
    item.insert(attribute::MAIL_ID.to_owned(), s(mail.id.as_str()));
    item.insert(attribute::KIND.to_owned(), s(mail.kind.as_str()));
    item.insert(attribute::RECIPIENT.to_owned(), s(mail.recipient.as_str()));
    item.insert(attribute::LOCALE.to_owned(), s(mail.locale.as_str()));
    item.insert(
        attribute::STATUS.to_owned(),
        s(MailStatus::Pending.as_str()),
    );
    item.insert(attribute::ATTEMPTS.to_owned(), n(0));
    item.insert(
        attribute::CREATED_AT.to_owned(),
        n(mail.created_at.as_millis()),
    );
    let retention = mail
        .created_at
        .plus(Duration::from_hours(24 * MAIL_RETENTION_DAYS));
    item.insert(TTL_ATTRIBUTE.to_owned(), n(retention.as_secs()));
    if let (Some(MailLink { expires_at, .. }), Some(ciphertext)) = (&mail.link, sealed_token) {
        item.insert(
            attribute::LINK_TOKEN.to_owned(),
            AttributeValue::B(Blob::new(ciphertext)),
        );
        item.insert(
            attribute::LINK_EXPIRES_AT.to_owned(),
            n(expires_at.as_millis()),
        );
    }
    if mail.earlier_signup_pending {
        item.insert(
            attribute::EARLIER_SIGNUP_PENDING.to_owned(),
            AttributeValue::Bool(true),
        );
    }
    item
}

/// The outbox item in `item`.
pub fn mail_from_item(item: &Item) -> Result<OutboxMail, ItemError> {
    Ok(OutboxMail {
        id: get_s(item, attribute::MAIL_ID)?.to_owned(),
        kind: MailKind::parse(get_s(item, attribute::KIND)?)
            .ok_or_else(|| malformed(attribute::KIND))?,
        recipient: Email::parse(get_s(item, attribute::RECIPIENT)?)
            .map_err(|_| malformed(attribute::RECIPIENT))?,
        locale: Locale::parse(get_s(item, attribute::LOCALE)?).unwrap_or_default(),
        status: MailStatus::parse(get_s(item, attribute::STATUS)?)
            .ok_or_else(|| malformed(attribute::STATUS))?,
        attempts: get_optional_n(item, attribute::ATTEMPTS)?.unwrap_or(0),
        link_ciphertext: item
            .get(attribute::LINK_TOKEN)
            .and_then(|v| v.as_b().ok())
            .map(|blob| blob.as_ref().to_vec()),
        link_expires_at: optional_timestamp(item, attribute::LINK_EXPIRES_AT)?,
        lease_until: optional_timestamp(item, attribute::LEASE_UNTIL)?,
        last_error: item
            .get(attribute::LAST_ERROR)
            .and_then(|v| v.as_s().ok())
            .cloned(),
        ses_message_id: item
            .get(attribute::SES_MESSAGE_ID)
            .and_then(|v| v.as_s().ok())
            .cloned(),
        created_at: timestamp(item, attribute::CREATED_AT)?,
        earlier_signup_pending: item
            .get(attribute::EARLIER_SIGNUP_PENDING)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        updated_at: optional_timestamp(item, attribute::UPDATED_AT)?,
    })
}

#[cfg(test)]
mod tests {
    use lambdauth_domain::mail::MailLink;
    use lambdauth_domain::random::OsRandomness;
    use lambdauth_domain::{MailId, Timestamp, Token};

    use super::*;

    #[test]
    fn an_outbox_item_holds_ciphertext_not_the_token() {
        let token = Token::generate(&mut OsRandomness).unwrap();
        let mail = OutgoingMail {
            id: MailId::generate(Timestamp::from_millis(1000), &mut OsRandomness).unwrap(),
            kind: MailKind::Verification,
            recipient: Email::parse("a@example.com").unwrap(),
            locale: Locale::english(),
            link: Some(MailLink {
                token: token.clone(),
                expires_at: Timestamp::from_millis(2000),
            }),
            created_at: Timestamp::from_millis(1000),
            earlier_signup_pending: true,
        };
        let item = mail_to_item(&mail, Some(vec![1, 2, 3]));
        assert!(mail_from_item(&item).unwrap().earlier_signup_pending);
        assert_eq!(item["status"].as_s().unwrap(), "pending");
        assert_eq!(item["linkToken"].as_b().unwrap().as_ref(), &[1, 2, 3]);
        let text = format!("{item:?}");
        assert!(!text.contains(token.expose()));
    }
}
