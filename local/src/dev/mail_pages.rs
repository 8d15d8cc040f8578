//! The sent-mail pages of the dev server: the last mails the local mailer sent, as a page and
//! as JSON.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::{AppState, RECENT_MAILS};
use crate::proxy::{FaultProxy, SentMail};

fn recent(ses: &FaultProxy) -> Vec<SentMail> {
    ses.sent().into_iter().rev().take(RECENT_MAILS).collect()
}

/// The recent mails, newest first, as JSON (for scripts and tests).
pub(super) async fn mail_json(State(state): State<Arc<AppState>>) -> axum::Json<Value> {
    let mails: Vec<Value> = recent(&state.ses)
        .iter()
        .map(|mail| {
            json!({
                "id": mail.id,
                "to": mail.to,
                "subject": mail.subject,
                "link": mail.link(),
                "text": mail.text,
            })
        })
        .collect();
    axum::Json(json!({ "mails": mails }))
}

/// The recent mails, newest first, as a page.
pub(super) async fn mail_page(State(state): State<Arc<AppState>>) -> Html<String> {
    let mut rows = String::new();
    for mail in recent(&state.ses) {
        let link = mail.link().unwrap_or_default();
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><a href=\"{link}\">{link}</a></td><td><pre>{}</pre></td></tr>",
            escape(&mail.to),
            escape(&mail.subject),
            escape(&mail.text),
            link = escape(&link),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"4\">No mail sent yet.</td></tr>");
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sent mail</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"><meta http-equiv=\"refresh\" content=\"5\"></head>\
         <body><main class=\"wide\"><h1>Sent mail</h1><p>The last {RECENT_MAILS} mails the local mailer sent, newest first.</p>\
         <table><thead><tr><th>To</th><th>Subject</th><th>Link</th><th>Text</th></tr></thead>\
         <tbody>{rows}</tbody></table></main></body></html>"
    ))
}

/// Text made safe to place in HTML.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
