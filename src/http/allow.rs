//! The `Allow` header of 405 answers (RFC 9110 §15.5.6): the methods a path supports, read
//! from the OpenAPI operations so it cannot drift from the routes.

use poem::http::Method;
use poem_openapi::OpenApi;

/// Each documented path template (`/posts/{slug}`) with the value of its `Allow` header.
pub struct AllowedMethods {
    paths: Vec<(Vec<Segment>, String)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param,
}

impl AllowedMethods {
    /// The methods of every operation `A` documents; a path with GET allows HEAD too,
    /// because poem answers HEAD through the GET route.
    pub fn of<A: OpenApi>() -> Self {
        let paths = A::meta()
            .into_iter()
            .flat_map(|api| api.paths)
            .map(|path| {
                let mut methods: Vec<Method> =
                    path.operations.iter().map(|op| op.method.clone()).collect();
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                let allow = methods
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                (segments(&path.path), allow)
            })
            .collect();
        Self { paths }
    }

    /// The `Allow` value for a request path. Like poem's router, a literal segment wins
    /// over a parameter (`/jobs/replay` over `/jobs/{id}`).
    pub fn for_path(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        self.paths
            .iter()
            .filter(|(template, _)| matches(template, &parts))
            .max_by_key(|(template, _)| {
                template
                    .iter()
                    .map(|s| matches!(s, Segment::Literal(_)))
                    .collect::<Vec<_>>()
            })
            .map(|(_, allow)| allow.as_str())
    }
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') || s.starts_with(':') {
                Segment::Param
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

fn matches(template: &[Segment], parts: &[&str]) -> bool {
    template.len() == parts.len()
        && template
            .iter()
            .zip(parts)
            .all(|(segment, part)| match segment {
                Segment::Literal(literal) => literal == part,
                Segment::Param => !part.is_empty(),
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let allowed = AllowedMethods::of::<crate::http::Apis>();
        assert_eq!(allowed.for_path("/jobs/replay"), Some("POST"));
        assert_eq!(allowed.for_path("/jobs/0e0d"), Some("GET, HEAD"));
        assert_eq!(
            allowed.for_path("/posts/launch"),
            Some("GET, PATCH, DELETE, HEAD")
        );
        assert_eq!(allowed.for_path("/no/such/path"), None);
    }
}
