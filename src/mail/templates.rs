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
}
