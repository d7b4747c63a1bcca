//! The console's CSS, JS and icons, embedded in the binary from `web/static/` and served
//! under content-hashed names (`app.3f9c1a2b4d.css`), so browsers may keep them forever:
//! a changed file gets a new name.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler};
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "web/static/"]
struct Static;

/// Hex digits of the content hash in a served name.
const HASH_LEN: usize = 10;

fn content_hash(file: &EmbeddedFile) -> String {
    let digest = file.metadata.sha256_hash();
    digest[..HASH_LEN / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `app.css` → `app.<hash>.css`.
fn hashed(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// The URL of the embedded file `name` under its hashed name; templates link assets only
/// through this. An unknown name is a programming error caught by the page tests.
pub fn url(name: &str) -> String {
    let hash = Static::get(name).map_or_else(String::new, |file| content_hash(&file));
    format!("/admin/static/{}", hashed(name, &hash))
}

/// The embedded file a hashed name stands for, if its hash is current.
fn lookup(served: &str) -> Option<EmbeddedFile> {
    let (rest, ext) = served.rsplit_once('.')?;
    let (stem, hash) = rest.rsplit_once('.')?;
    let file = Static::get(&format!("{stem}.{ext}"))?;
    (content_hash(&file) == hash).then_some(file)
}

/// `GET /admin/static/:name`.
#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    let Some(file) = lookup(&name) else {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    };
    Response::builder()
        .header(header::CONTENT_TYPE, file.metadata.mimetype())
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_resolve_only_with_the_current_hash() {
        let css = url("app.css");
        let served = css.trim_start_matches("/admin/static/");
        assert!(
            served.starts_with("app.") && served.ends_with(".css"),
            "{css}"
        );
        assert_eq!(served.len(), "app..css".len() + HASH_LEN);
        assert!(lookup(served).is_some());
        assert!(lookup("app.0000000000.css").is_none());
        assert!(lookup("app.css").is_none());
    }
}
