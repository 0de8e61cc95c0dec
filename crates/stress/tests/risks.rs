//! Reading risk files: the shape, and every error at its place.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use compact_stress::{DelayOption, Risks};

fn guarantors() -> Vec<String> {
    ["CA", "DE", "US"].iter().map(|s| (*s).to_owned()).collect()
}

const GOOD: &str = r#"# why this file exists
[default]
withdrawal = 0.02
reason = "a default"
delay = [{ months = 0, probability = 0.7 }, { months = 6, probability = 0.2 }, { months = 12, probability = 0.1 }]

[[guarantors]]
party = "US"
withdrawal = 0.10
reason = "elections"
delay = [{ months = 0, probability = 0.5 }, { months = 6, probability = 0.5 }]

[[guarantors]]
party = "DE"
withdrawal = 0

[[shocks]]
name = "north-america"
members = ["US", "CA"]
probability = 0.01
reason = "illustrative"
"#;

#[test]
fn a_good_file_is_read() {
    let r = Risks::parse("stress.toml", GOOD, &guarantors()).unwrap();
    assert_eq!(r.default.withdrawal, 0.02);
    assert_eq!(r.default.delay.len(), 3);
    assert_eq!(r.guarantors.len(), 2);
    assert_eq!(r.profile("US").withdrawal, 0.10);
    assert_eq!(
        r.profile("US").delay,
        [
            DelayOption {
                months: 0,
                probability: 0.5
            },
            DelayOption {
                months: 6,
                probability: 0.5
            }
        ]
    );
    assert_eq!(r.profile("US").reason.as_deref(), Some("elections"));
    // an integer probability is read; a guarantor without delay takes the default's
    assert_eq!(r.profile("DE").withdrawal, 0.0);
    assert_eq!(r.profile("DE").delay, r.default.delay);
    // an unlisted guarantor takes the default
    assert_eq!(r.profile("CA"), &r.default);
    assert_eq!(r.shocks[0].members, ["CA", "US"]);
    assert_eq!(r.shocks[0].probability, 0.01);
    assert!(r.validate(&guarantors()).is_ok());
}

/// The findings of `text` as (line, col, message).
fn errors(text: &str) -> Vec<(usize, usize, String)> {
    let diags = Risks::parse("stress.toml", text, &guarantors()).unwrap_err();
    assert!(!diags.is_empty());
    diags
        .iter()
        .map(|d| {
            assert!(d.is_error());
            assert_eq!(d.path, "stress.toml");
            let (line, col) = d.line_col(text).expect("a span");
            (line, col, d.message.clone())
        })
        .collect()
}

fn one(text: &str) -> (usize, usize, String) {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "{e:?}");
    e.remove(0)
}

#[test]
fn a_probability_outside_zero_to_one_is_pointed_at() {
    let (line, col, msg) = one("[default]\nwithdrawal = 1.5\n");
    assert_eq!((line, col), (2, 14));
    assert_eq!(
        msg,
        "withdrawal probability 1.5 is outside [0, 1]: give a probability such as 0.05"
    );
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\n\n[[shocks]]\nname = \"x\"\nmembers = [\"US\"]\nprobability = -0.2\n",
    );
    assert_eq!((line, col), (7, 15));
    assert!(msg.starts_with("shock probability -0.2 is outside [0, 1]"));
    let (line, col, _) = one("[default]\nwithdrawal = nan\n");
    assert_eq!((line, col), (2, 14));
}

#[test]
fn an_unknown_party_is_pointed_at_and_the_guarantors_listed() {
    let text = "[default]\nwithdrawal = 0.1\n\n[[guarantors]]\nparty = \"XX\"\nwithdrawal = 0.2\n";
    let diags = Risks::parse("stress.toml", text, &guarantors()).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line_col(text), Some((5, 9)));
    assert_eq!(
        diags[0].message,
        "unknown party `XX`: not a guarantor of the compact"
    );
    assert_eq!(
        diags[0].help.as_deref(),
        Some("the guarantors are CA, DE, US")
    );
    // and in a shock
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\n[[shocks]]\nname = \"x\"\nmembers = [\"US\", \"GB\"]\nprobability = 0.1\n",
    );
    assert_eq!((line, col), (5, 18));
    assert!(msg.starts_with("unknown party `GB`"));
}

#[test]
fn a_delay_distribution_must_sum_to_one() {
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 0.5 }, { months = 6, probability = 0.4 }]\n",
    );
    assert_eq!((line, col), (3, 9));
    assert_eq!(msg, "the delay probabilities sum to 0.9, not 1");
    // within 1e-9 is fine
    assert!(
        Risks::parse(
            "s",
            "[default]\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 0.3333333333 }, { months = 6, probability = 0.6666666667 }]\n",
            &guarantors()
        )
        .is_ok()
    );
}

#[test]
fn negative_and_too_long_delays_are_refused() {
    let (line, col, msg) =
        one("[default]\nwithdrawal = 0.1\ndelay = [{ months = -3, probability = 1 }]\n");
    assert_eq!((line, col), (3, 21));
    assert_eq!(
        msg,
        "negative delay: -3 months; a delay is 0 months or more"
    );
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\n\n[[guarantors]]\nparty = \"US\"\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 0.5 }, { months = 130, probability = 0.5 }]\n",
    );
    assert_eq!((line, col), (7, 56));
    assert_eq!(
        msg,
        "a delay of 130 months is out of range: give 0 to 120 months"
    );
}

#[test]
fn unknown_keys_are_refused() {
    let (line, col, msg) = one("[default]\nwithdrawal = 0.1\nwithdrawl = 0.2\n");
    assert_eq!(line, 3, "{col} {msg}");
    assert!(msg.contains("unknown field `withdrawl`"), "{msg}");
    let (line, _, msg) = one("[default]\nwithdrawal = 0.1\n\n[[shock]]\nname = \"x\"\n");
    assert_eq!(line, 4, "{msg}");
    assert!(msg.contains("unknown field `shock`"), "{msg}");
}

#[test]
fn a_shock_needs_members() {
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\n\n[[shocks]]\nname = \"empty\"\nmembers = []\nprobability = 0.1\n",
    );
    assert_eq!((line, col), (6, 11));
    assert_eq!(
        msg,
        "shock `empty` has no members: name the parties that leave together"
    );
}

#[test]
fn a_party_given_twice_is_refused() {
    let (line, col, msg) = one(
        "[default]\nwithdrawal = 0.1\n[[guarantors]]\nparty = \"US\"\nwithdrawal = 0.1\n[[guarantors]]\nparty = \"US\"\nwithdrawal = 0.2\n",
    );
    assert_eq!((line, col), (7, 9));
    assert!(msg.starts_with("`US` is given twice"));
}

#[test]
fn every_error_is_reported_in_file_order() {
    let text = "[default]\nwithdrawal = 2\n[[guarantors]]\nparty = \"ZZ\"\nwithdrawal = 0.1\n[[shocks]]\nname = \"s\"\nmembers = []\nprobability = 3\n";
    let e = errors(text);
    let places: Vec<(usize, usize)> = e.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(places, [(2, 14), (4, 9), (8, 11), (9, 15)]);
}

#[test]
fn malformed_toml_and_a_missing_default_are_reported() {
    let (line, _, _) = one("[default]\nwithdrawal = \n");
    assert_eq!(line, 2);
    let diags = Risks::parse(
        "stress.toml",
        "[[guarantors]]\nparty = \"US\"\nwithdrawal = 0.1\n",
        &guarantors(),
    )
    .unwrap_err();
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].message.contains("missing field `default`"),
        "{}",
        diags[0].message
    );
    // rendered as path:line:col by the caller
    let text = "[default]\nwithdrawal = 1.5\n";
    let d = &Risks::parse("stress.toml", text, &guarantors()).unwrap_err()[0];
    assert!(
        d.render(Some(text))
            .starts_with("stress.toml:2:14: error: withdrawal probability 1.5")
    );
}
