//! Email templates (askama, `web/templates/email/`). Each message has a plain-text and an
//! HTML part; askama escapes by file extension, so only the `.html` part is HTML-escaped.

use askama::Template;

/// What the account emails (welcome, password reset, verification, password changed)
/// show: the account, and the link with how long it works (unused by the notice).
pub struct AccountFields<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub site_name: &'a str,
    pub link: &'a str,
    /// How long the link works, as a reader would say it ("30 minutes").
    pub valid_for: &'a str,
}

/// Declares the text and HTML templates of an account email, both reading `m`.
macro_rules! account_templates {
    ($($text:ident $html:ident = $txt_path:tt $html_path:tt;)*) => {$(
        #[derive(Template)]
        #[template(path = $txt_path)]
        struct $text<'a> {
            m: &'a AccountFields<'a>,
        }

        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            m: &'a AccountFields<'a>,
        }
    )*};
}

account_templates! {
    WelcomeText WelcomeHtml = "email/welcome.txt" "email/welcome.html";
    ResetText ResetHtml = "email/password_reset.txt" "email/password_reset.html";
    VerifyText VerifyHtml = "email/verify_email.txt" "email/verify_email.html";
    ChangedText ChangedHtml = "email/password_changed.txt" "email/password_changed.html";
    ChangeText ChangeHtml = "email/change_email.txt" "email/change_email.html";
    ChangeNoticeText ChangeNoticeHtml =
        "email/email_change_requested.txt" "email/email_change_requested.html";
}

/// Which account email to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountEmail {
    /// The welcome email, with the verification link.
    Welcome,
    PasswordReset,
    VerifyEmail,
    /// The notice that a reset link changed the password.
    PasswordChanged,
    /// To the new address of an email change, with the confirmation link.
    ChangeEmail,
    /// To the old address: a change was asked for.
    EmailChangeRequested,
}

/// What the order confirmation shows.
#[derive(Template)]
#[template(path = "email/order_confirmed.txt")]
pub struct OrderConfirmedText<'a> {
    pub name: &'a str,
    pub order_id: &'a str,
    pub total: &'a str,
    pub site_name: &'a str,
}

#[derive(Template)]
#[template(path = "email/order_confirmed.html")]
struct OrderConfirmedHtml<'a> {
    name: &'a str,
    order_id: &'a str,
    total: &'a str,
    site_name: &'a str,
}

/// A rendered message, ready to send.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An account email of `kind` for `m`.
pub fn account(kind: AccountEmail, m: &AccountFields<'_>) -> Result<Rendered, askama::Error> {
    let site = m.site_name;
    let (subject, text, html) = match kind {
        AccountEmail::Welcome => (
            format!("Welcome to {site}"),
            WelcomeText { m }.render()?,
            WelcomeHtml { m }.render()?,
        ),
        AccountEmail::PasswordReset => (
            format!("Reset your {site} password"),
            ResetText { m }.render()?,
            ResetHtml { m }.render()?,
        ),
        AccountEmail::VerifyEmail => (
            format!("Confirm your email address for {site}"),
            VerifyText { m }.render()?,
            VerifyHtml { m }.render()?,
        ),
        AccountEmail::PasswordChanged => (
            format!("Your {site} password was changed"),
            ChangedText { m }.render()?,
            ChangedHtml { m }.render()?,
        ),
        AccountEmail::ChangeEmail => (
            format!("Confirm your new email address for {site}"),
            ChangeText { m }.render()?,
            ChangeHtml { m }.render()?,
        ),
        AccountEmail::EmailChangeRequested => (
            format!("A change of your {site} email address was requested"),
            ChangeNoticeText { m }.render()?,
            ChangeNoticeHtml { m }.render()?,
        ),
    };
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// The confirmation of a completed order.
pub fn order_confirmed(fields: OrderConfirmedText<'_>) -> Result<Rendered, askama::Error> {
    let html = OrderConfirmedHtml {
        name: fields.name,
        order_id: fields.order_id,
        total: fields.total,
        site_name: fields.site_name,
    }
    .render()?;
    Ok(Rendered {
        subject: format!("Your order at {}", fields.site_name),
        text: fields.render()?,
        html,
    })
}

/// What the notice of an endpoint disabled for failing shows.
#[derive(Template)]
#[template(path = "email/webhook_disabled.txt")]
pub struct WebhookDisabledText<'a> {
    pub endpoint_id: &'a str,
    pub url: &'a str,
    pub reason: &'a str,
}

#[derive(Template)]
#[template(path = "email/webhook_disabled.html")]
struct WebhookDisabledHtml<'a> {
    endpoint_id: &'a str,
    url: &'a str,
    reason: &'a str,
}

/// The admins' notice that a webhook endpoint was disabled after failing continuously.
pub fn webhook_disabled(fields: WebhookDisabledText<'_>) -> Result<Rendered, askama::Error> {
    let html = WebhookDisabledHtml {
        endpoint_id: fields.endpoint_id,
        url: fields.url,
        reason: fields.reason,
    }
    .render()?;
    Ok(Rendered {
        subject: "A webhook endpoint was disabled".into(),
        text: fields.render()?,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_escapes_the_name_and_the_text_part_keeps_it() {
        let fields = AccountFields {
            name: "<script>alert(1)</script>",
            email: "ada@example.com",
            site_name: "Shop & Co",
            link: "https://shop.example/verify-email?token=abc&x=1",
            valid_for: "48 hours",
        };
        let mail = account(AccountEmail::Welcome, &fields).expect("renders");
        assert_eq!(mail.subject, "Welcome to Shop & Co");
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("Hello &#60;script&#62;alert(1)&#60;/script&#62;,")
        );
        assert!(mail.html.contains("Welcome to Shop &#38; Co!"));
        assert!(mail.text.starts_with("Hello <script>alert(1)</script>,\n"));
        assert!(mail.text.contains("Welcome to Shop & Co!"));
        assert!(
            mail.text
                .contains("\nhttps://shop.example/verify-email?token=abc&x=1\n")
        );
        assert!(
            mail.html
                .contains("href=\"https://shop.example/verify-email?token=abc&#38;x=1\"")
        );
    }

    #[test]
    fn every_account_email_carries_its_link_or_none() {
        let fields = AccountFields {
            name: "Ada",
            email: "ada@example.com",
            site_name: "Shop",
            link: "https://shop.example/reset-password?token=t0k3n",
            valid_for: "30 minutes",
        };
        for kind in [AccountEmail::PasswordReset, AccountEmail::VerifyEmail] {
            let mail = account(kind, &fields).expect("renders");
            assert!(mail.text.contains(fields.link), "{kind:?}: {}", mail.text);
            assert!(
                mail.text.contains("for 30 minutes"),
                "{kind:?}: {}",
                mail.text
            );
            assert!(mail.html.contains(fields.link), "{kind:?}");
        }
        let notice = account(AccountEmail::PasswordChanged, &fields).expect("renders");
        assert_eq!(notice.subject, "Your Shop password was changed");
        assert!(!notice.text.contains("t0k3n"), "{}", notice.text);
    }

    #[test]
    fn the_webhook_notice_escapes_the_url_in_html_only() {
        let url = "https://x.example/<b>?a=1&b=2";
        let mail = webhook_disabled(WebhookDisabledText {
            endpoint_id: "e1",
            url,
            reason: "failing",
        })
        .expect("renders");
        assert!(mail.text.contains(url), "{}", mail.text);
        assert!(!mail.html.contains("<b>"), "{}", mail.html);
        assert!(
            mail.html.contains("&#60;b&#62;?a=1&#38;b=2"),
            "{}",
            mail.html
        );
    }
}
