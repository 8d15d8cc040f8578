//! The mail LambdAuth sends: one template per kind with an HTML part, a plain-text part and a
//! subject, per locale, compiled into the binary and rendered with `minijinja` (HTML parts are
//! auto-escaped). Also the links the mails carry, and the choice of a locale from a request's
//! `Accept-Language`.

use std::time::Duration;

use lambdauth_domain::{Locale, MailKind};
use minijinja::{Environment, context};

/// A template that does not load: a build bug, caught by the tests that render every template.
pub use minijinja::Error as TemplateError;
use thiserror::Error;

/// The locales with templates; the first is the fallback.
pub const LOCALES: [&str; 2] = ["en", "de"];

/// Rendering failed: a template bug, never the recipient's doing.
#[derive(Debug, Error)]
#[error("rendering the {kind} mail ({locale}) failed: {source}")]
pub struct RenderError {
    kind: MailKind,
    locale: &'static str,
    #[source]
    source: minijinja::Error,
}

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// One line.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part.
    pub text: String,
}

/// What a mail says besides its kind.
#[derive(Debug, Clone, Copy)]
pub struct MailContent<'a> {
    /// The recipient's address.
    pub email: &'a str,
    /// The one-time link, for kinds that carry one.
    pub link: Option<&'a str>,
    /// How long the link stays valid.
    pub valid_for: Option<Duration>,
    /// A verification mail to an address that already had a signup waiting says so.
    pub earlier_signup_pending: bool,
}

/// The three parts of one kind in one locale, as `(name, source)`.
macro_rules! parts {
    ($locale:literal, $kind:literal) => {
        &[
            (
                concat!($locale, "/", $kind, ".html"),
                include_str!(concat!("../templates/", $locale, "/", $kind, ".html")),
            ),
            (
                concat!($locale, "/", $kind, ".txt"),
                include_str!(concat!("../templates/", $locale, "/", $kind, ".txt")),
            ),
            (
                concat!($locale, "/", $kind, ".subject"),
                include_str!(concat!("../templates/", $locale, "/", $kind, ".subject")),
            ),
        ]
    };
}

/// Every template source, by name.
const SOURCES: &[&[(&str, &str)]] = &[
    &[
        ("layout.html", include_str!("../templates/layout.html")),
        ("button.html", include_str!("../templates/button.html")),
    ],
    parts!("en", "verification"),
    parts!("en", "password-reset"),
    parts!("en", "password-changed"),
    parts!("en", "already-registered"),
    parts!("de", "verification"),
    parts!("de", "password-reset"),
    parts!("de", "password-changed"),
    parts!("de", "already-registered"),
];

/// The compiled templates and the product's name. Build one per process.
pub struct Templates {
    env: Environment<'static>,
    product_name: String,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("product_name", &self.product_name)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// Loads every template. A template that does not parse is a build bug, caught by the tests
    /// that render every kind in every locale.
    pub fn new(product_name: impl Into<String>) -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // `.html` parts are HTML-escaped, `.txt` and `.subject` are not (the default callback).
        for (name, source) in SOURCES.iter().copied().flatten() {
            env.add_template(name, source)?;
        }
        Ok(Self {
            env,
            product_name: product_name.into(),
        })
    }

    /// Renders `kind` in the locale closest to `locale` (its language, else English).
    pub fn render(
        &self,
        kind: MailKind,
        locale: &Locale,
        content: &MailContent<'_>,
    ) -> Result<RenderedMail, RenderError> {
        let locale = resolve(locale);
        let valid_hours = content.valid_for.map(|d| d.as_secs().div_ceil(3600).max(1));
        let ctx = context! {
            product_name => &self.product_name,
            email => content.email,
            link => content.link,
            valid_hours => valid_hours,
            earlier_signup_pending => content.earlier_signup_pending,
            locale => locale,
        };
        let render = |part: &str| {
            self.env
                .get_template(&format!("{locale}/{}.{part}", kind.as_str()))
                .and_then(|template| template.render(&ctx))
                .map_err(|source| RenderError {
                    kind,
                    locale,
                    source,
                })
        };
        let subject = render("subject")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RenderedMail {
            subject,
            html: render("html")?,
            text: render("txt")?,
        })
    }
}

/// The supported locale closest to `locale`: itself, its language, or English.
pub fn resolve(locale: &Locale) -> &'static str {
    LOCALES
        .iter()
        .find(|supported| **supported == locale.as_str())
        .or_else(|| {
            LOCALES
                .iter()
                .find(|supported| **supported == locale.language())
        })
        .copied()
        .unwrap_or(LOCALES[0])
}

/// The supported locale a request's `Accept-Language` prefers most, English when none matches.
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let mut best: Option<(f32, &'static str)> = None;
    for entry in accept_language.unwrap_or_default().split(',') {
        let mut parts = entry.split(';');
        let Some(tag) = parts.next().and_then(Locale::parse) else {
            continue;
        };
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let supported = LOCALES
            .iter()
            .find(|s| **s == tag.as_str() || **s == tag.language())
            .copied();
        if let Some(supported) = supported
            && quality > 0.0
            && best.is_none_or(|(q, _)| quality > q)
        {
            best = Some((quality, supported));
        }
    }
    best.and_then(|(_, tag)| Locale::parse(tag))
        .unwrap_or_default()
}

/// A link to `page` carrying the address and a token with the original's parameter names, in
/// the URL's fragment: `page#email=…&verify=…` or `page#email=…&lost=…`. A browser never sends
/// the fragment, so no server or proxy on the way logs the token (the pages still read the
/// original's query form for links mailed before).
pub fn link(page: &str, email: &str, token_parameter: &str, token: &str) -> String {
    let fragment = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair(token_parameter, token)
        .finish();
    let page = page.split_once('#').map_or(page, |(before, _)| before);
    format!("{page}#{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::new("My <Authentication>").unwrap()
    }

    fn content(kind: MailKind) -> MailContent<'static> {
        MailContent {
            email: "o'neil+x@example.com",
            link: kind
                .has_link()
                .then_some("https://auth.example.com/verify.html#email=a%40b.c&verify=T0k3n-_x"),
            valid_for: kind.has_link().then_some(Duration::from_hours(24)),
            earlier_signup_pending: false,
        }
    }

    #[test]
    fn a_verification_after_an_earlier_signup_says_so_in_every_locale() {
        let templates = templates();
        for locale in LOCALES {
            let locale = Locale::parse(locale).unwrap();
            let plain = templates
                .render(
                    MailKind::Verification,
                    &locale,
                    &content(MailKind::Verification),
                )
                .unwrap();
            let noted = MailContent {
                earlier_signup_pending: true,
                ..content(MailKind::Verification)
            };
            let noted = templates
                .render(MailKind::Verification, &locale, &noted)
                .unwrap();
            for (with, without) in [(&noted.text, &plain.text), (&noted.html, &plain.html)] {
                assert!(with.len() > without.len() + 100, "{locale}: {with}");
            }
            let marker = if locale.as_str() == "de" {
                "bereits einmal"
            } else {
                "already signed up once"
            };
            assert!(
                noted.text.contains(marker) && noted.html.contains(marker),
                "{locale}"
            );
            assert!(!plain.text.contains(marker), "{locale}");
        }
    }

    #[test]
    fn every_kind_renders_in_every_locale() {
        let templates = templates();
        for locale in LOCALES {
            let locale = Locale::parse(locale).unwrap();
            for kind in MailKind::ALL {
                let mail = templates.render(kind, &locale, &content(kind)).unwrap();
                assert!(
                    !mail.subject.is_empty() && !mail.subject.contains('\n'),
                    "{kind} {locale}"
                );
                assert!(
                    mail.subject.contains("My <Authentication>"),
                    "{kind} {locale}: {}",
                    mail.subject
                );
                assert!(mail.html.starts_with("<!DOCTYPE html>"), "{kind} {locale}");
                assert!(
                    mail.html.contains(&format!("lang=\"{locale}\"")),
                    "{kind} {locale}"
                );
                assert!(
                    mail.text.contains("o'neil+x@example.com"),
                    "{kind} {locale}"
                );
                if kind.has_link() {
                    let link = content(kind).link.unwrap();
                    assert!(mail.text.contains(link), "{kind} {locale}");
                    assert!(mail.html.contains("verify=T0k3n-_x"), "{kind} {locale}");
                    assert!(mail.text.contains("24"), "{kind} {locale}");
                }
            }
        }
    }

    #[test]
    fn html_parts_escape_what_they_show() {
        let mail = templates()
            .render(
                MailKind::Verification,
                &Locale::english(),
                &content(MailKind::Verification),
            )
            .unwrap();
        assert!(mail.html.contains("My &lt;Authentication&gt;"));
        assert!(!mail.html.contains("My <Authentication>"));
        assert!(
            mail.html.contains("o&#x27;neil+x@example.com"),
            "{}",
            mail.html
        );
        assert!(mail.html.contains("email=a%40b.c&amp;verify=T0k3n-_x"));
        // The text part is not HTML and is not escaped.
        assert!(mail.text.contains("My <Authentication>"));
    }

    #[test]
    fn locales_are_chosen_from_the_tag_the_language_or_english() {
        let templates = templates();
        let german = templates
            .render(
                MailKind::PasswordChanged,
                &Locale::parse("de-AT").unwrap(),
                &content(MailKind::PasswordChanged),
            )
            .unwrap();
        assert!(
            german.subject.starts_with("Ihr Passwort"),
            "{}",
            german.subject
        );
        let fallback = templates
            .render(
                MailKind::PasswordChanged,
                &Locale::parse("ja").unwrap(),
                &content(MailKind::PasswordChanged),
            )
            .unwrap();
        assert!(
            fallback.subject.starts_with("Your "),
            "{}",
            fallback.subject
        );
    }

    #[test]
    fn one_hour_is_singular() {
        let mut c = content(MailKind::PasswordReset);
        c.valid_for = Some(Duration::from_hours(1));
        let mail = templates()
            .render(MailKind::PasswordReset, &Locale::english(), &c)
            .unwrap();
        assert!(mail.text.contains("valid for 1 hour "), "{}", mail.text);
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_locale() {
        assert_eq!(negotiate(Some("de-DE,de;q=0.9,en;q=0.8")).as_str(), "de");
        assert_eq!(
            negotiate(Some("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4")).as_str(),
            "de"
        );
        assert_eq!(negotiate(Some("en;q=0.3, de;q=0.7")).as_str(), "de");
        assert_eq!(negotiate(Some("ja")).as_str(), "en");
        assert_eq!(negotiate(Some("de;q=0")).as_str(), "en");
        assert_eq!(negotiate(Some("garbage;;,,")).as_str(), "en");
        assert_eq!(negotiate(None).as_str(), "en");
    }

    #[test]
    fn links_carry_the_address_and_token_encoded() {
        assert_eq!(
            link(
                "https://x.org/verify.html",
                "erin+tag@example.co.uk",
                "verify",
                "abc_-123"
            ),
            "https://x.org/verify.html#email=erin%2Btag%40example.co.uk&verify=abc_-123"
        );
        assert_eq!(
            link("https://x.org/reset.html?lang=de", "a@b.co", "lost", "t"),
            "https://x.org/reset.html?lang=de#email=a%40b.co&lost=t"
        );
        assert_eq!(
            link("https://x.org/reset.html#old", "a@b.co", "lost", "t"),
            "https://x.org/reset.html#email=a%40b.co&lost=t"
        );
    }
}
