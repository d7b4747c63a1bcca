//! Email templates (askama, `web/templates/email/`). Each message has a plain-text and an
//! HTML part; askama escapes by file extension, so only the `.html` part is HTML-escaped.

use askama::Template;

#[derive(Template)]
#[template(path = "email/welcome.txt")]
struct WelcomeText<'a> {
    name: &'a str,
    email: &'a str,
    site_name: &'a str,
}

#[derive(Template)]
#[template(path = "email/welcome.html")]
struct WelcomeHtml<'a> {
    name: &'a str,
    email: &'a str,
    site_name: &'a str,
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

/// The welcome email for a new account.
pub fn welcome(name: &str, email: &str, site_name: &str) -> Result<Rendered, askama::Error> {
    Ok(Rendered {
        subject: format!("Welcome to {site_name}"),
        text: WelcomeText {
            name,
            email,
            site_name,
        }
        .render()?,
        html: WelcomeHtml {
            name,
            email,
            site_name,
        }
        .render()?,
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
        let mail =
            welcome("<script>alert(1)</script>", "ada@example.com", "Shop & Co").expect("renders");
        assert_eq!(mail.subject, "Welcome to Shop & Co");
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html
                .contains("Hello &#60;script&#62;alert(1)&#60;/script&#62;,")
        );
        assert!(mail.html.contains("Welcome to Shop &#38; Co!"));
        assert!(mail.text.starts_with("Hello <script>alert(1)</script>,\n"));
        assert!(mail.text.contains("Welcome to Shop & Co!"));
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
