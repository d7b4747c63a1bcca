//! Reading request cookies (levee sets few: the read-your-writes token and the admin
//! console's session and sign-in form).

use poem::Request;
use poem::http::header;

/// The value of cookie `name`, from any of the request's `Cookie` headers.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}
