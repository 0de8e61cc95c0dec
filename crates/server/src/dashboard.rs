//! The dashboard: a page and its script, style and translations, embedded in the binary and
//! served at `/` and `/dashboard/…` (nothing is fetched from elsewhere). It renders the API v1
//! answers and verifies entries in the reader's browser.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The files, by path under `/dashboard/`, with their media types.
const FILES: [(&str, &str, &str); 5] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../dashboard/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../dashboard/app.css"),
    ),
    (
        "i18n/en.ftl",
        "text/plain; charset=utf-8",
        include_str!("../dashboard/i18n/en.ftl"),
    ),
    (
        "i18n/uk.ftl",
        "text/plain; charset=utf-8",
        include_str!("../dashboard/i18n/uk.ftl"),
    ),
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../dashboard/index.html"),
    ),
];

fn file(path: &str) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, media, body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, *media),
                (header::CACHE_CONTROL, "no-cache"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'",
                ),
            ],
            *body,
        )
            .into_response(),
        None => crate::problem::Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("/dashboard/{path}: no such file of the dashboard"),
        )
        .into_response(),
    }
}

/// `GET /`: the dashboard's page.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /dashboard/{*path}`: its script, style and translations.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(&path)
}

#[cfg(test)]
mod tests {
    /// The translation files, by language.
    const LANGUAGES: [(&str, &str); 2] = [
        ("en", include_str!("../dashboard/i18n/en.ftl")),
        ("uk", include_str!("../dashboard/i18n/uk.ftl")),
    ];

    fn keys(text: &str) -> Vec<&str> {
        let mut k: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
            .collect();
        k.sort_unstable();
        k
    }

    /// Every message exists in every language, and every message the script asks for exists.
    #[test]
    fn every_string_is_in_every_language() {
        let english = keys(LANGUAGES[0].1);
        for (lang, text) in LANGUAGES {
            assert_eq!(keys(text), english, "{lang} differs from en");
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            {
                assert!(line.contains(" = "), "{lang}: `{line}` is not a message");
            }
        }
        let script = include_str!("../dashboard/app.js");
        let html = include_str!("../dashboard/index.html");
        let asked = script
            .split(['"', '`', '\''])
            .chain(html.split('"'))
            .filter(|s| english.contains(s))
            .count();
        assert!(asked > 20, "the script asks for the messages");
        // Each call `t("key"` (not `split("`, `concat("`…).
        for (at, _) in script.match_indices("t(\"") {
            let before = script[..at].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            let key = script[at + 3..].split('"').next().unwrap_or_default();
            // `t("col-" + field)`: a family of messages.
            let known = if key.ends_with('-') {
                english.iter().any(|k| k.starts_with(key))
            } else {
                english.contains(&key)
            };
            assert!(known, "app.js asks for `{key}`, which en.ftl lacks");
        }
        for quoted in html.split("data-t=\"").skip(1) {
            let key = quoted.split('"').next().unwrap_or_default();
            assert!(
                english.contains(&key),
                "index.html asks for `{key}`, which en.ftl lacks"
            );
        }
    }
}
