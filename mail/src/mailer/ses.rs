//! Sending through SES v2 and what its failures mean.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use lambdauth_domain::mask_addresses;
use lambdauth_mail_templates::RenderedMail;

/// Why SES did not accept a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// Throttling, a 5xx, a timeout: try again later.
    Transient(String),
    /// The message or address is refused, or the sender is not verified: retrying cannot help.
    Permanent(String),
    /// The account's sending is paused or suspended: nothing goes out until an operator acts.
    Paused(String),
}

const TRANSIENT_CODES: &[&str] = &[
    "TooManyRequestsException",
    "LimitExceededException",
    "InternalFailure",
    "ServiceUnavailable",
    "ThrottlingException",
];
const PAUSED_CODES: &[&str] = &["AccountSuspendedException", "SendingPausedException"];

/// Classifies a failed `SendEmail`. SES names the addresses it refuses in its messages: every
/// address in the text is masked here, before anything logs or stores it.
pub fn classify<E>(error: &SdkError<E, HttpResponse>) -> SendFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match classify_unmasked(error) {
        SendFailure::Transient(detail) => SendFailure::Transient(mask_addresses(&detail)),
        SendFailure::Permanent(detail) => SendFailure::Permanent(mask_addresses(&detail)),
        SendFailure::Paused(detail) => SendFailure::Paused(mask_addresses(&detail)),
    }
}

fn classify_unmasked<E>(error: &SdkError<E, HttpResponse>) -> SendFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::TimeoutError(_) => SendFailure::Transient("timed out".to_owned()),
        SdkError::DispatchFailure(failure) => SendFailure::Transient(
            format!("could not reach SES: {failure:?}")
                .chars()
                .take(200)
                .collect(),
        ),
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("Unknown").to_owned();
            let message = context.err().message().unwrap_or("").to_owned();
            let status = context.raw().status().as_u16();
            let detail = format!("{code}: {message}");
            if PAUSED_CODES.contains(&code.as_str()) {
                SendFailure::Paused(detail)
            } else if TRANSIENT_CODES.contains(&code.as_str()) || status >= 500 || status == 429 {
                SendFailure::Transient(detail)
            } else {
                SendFailure::Permanent(detail)
            }
        }
        SdkError::ResponseError(_) => {
            SendFailure::Transient("an unreadable answer from SES".to_owned())
        }
        other => SendFailure::Permanent(format!("{other}")),
    }
}

/// Sends `mail` from `from` to `to`; SES's message id.
pub async fn send(
    client: &Client,
    from: &str,
    to: &str,
    configuration_set: Option<&str>,
    mail: &RenderedMail,
) -> Result<String, SendFailure> {
    let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
    let (Ok(subject), Ok(html), Ok(text)) = (
        content(&mail.subject),
        content(&mail.html),
        content(&mail.text),
    ) else {
        return Err(SendFailure::Permanent(
            "the rendered mail is incomplete".to_owned(),
        ));
    };
    let message = Message::builder()
        .subject(subject)
        .body(Body::builder().html(html).text(text).build())
        .build();
    let output = client
        .send_email()
        .from_email_address(from)
        .destination(Destination::builder().to_addresses(to).build())
        .content(EmailContent::builder().simple(message).build())
        .set_configuration_set_name(configuration_set.map(str::to_owned))
        .send()
        .await
        .map_err(|e| classify(&e))?;
    Ok(output.message_id.unwrap_or_default())
}
