//! "Did you mean": the known names nearest to one given, instead of a list of every name.

/// How long a list of known names a hint prints at most, in characters, when none is near.
const LIST_MAX: usize = 200;

/// The known names nearest to `given` (ignoring case), best first, at most three.
pub fn nearest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let given = given.trim().to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(&given, &k.to_lowercase()), k))
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// A hint to follow "unknown `given`": "; did you mean `a` or `b`?", or, when nothing is near,
/// the known names if they are few, else how many there are and `where_listed`.
pub fn hint<'a>(
    given: &str,
    known: impl IntoIterator<Item = &'a str>,
    where_listed: &str,
) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    let near = nearest(given, known.iter().copied());
    if !near.is_empty() {
        let quoted: Vec<String> = near.iter().map(|k| format!("`{k}`")).collect();
        return match quoted.split_last() {
            Some((last, [])) => format!("; did you mean {last}?"),
            Some((last, rest)) => format!("; did you mean {} or {last}?", rest.join(", ")),
            None => String::new(),
        };
    }
    if known.is_empty() {
        "; there are none".to_owned()
    } else if known.iter().map(|k| k.len() + 2).sum::<usize>() <= LIST_MAX {
        format!("; the known ones are: {}", known.join(", "))
    } else {
        format!("; {} are known ({where_listed})", known.len())
    }
}

/// A party code as the compact declares it: `given` trimmed and matched without regard to
/// case. An unknown code gets the nearest declared ones.
pub fn party_code(compact: &compact_model::Compact, given: &str) -> crate::Result<String> {
    let trimmed = given.trim();
    compact
        .parties
        .keys()
        .find(|k| k.eq_ignore_ascii_case(trimmed))
        .cloned()
        .ok_or_else(|| {
            crate::ServiceError::bad_input(format!(
                "unknown party `{trimmed}`{}",
                hint(
                    trimmed,
                    compact.parties.keys().map(String::as_str),
                    "the compact's parties/ directory"
                )
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_long_lists_are_not_printed() {
        let known = ["gb-military-2024", "gb-military-2025", "us-financial-2024"];
        assert_eq!(
            hint("gb-military-2042", known, "x"),
            "; did you mean `gb-military-2024` or `gb-military-2025`?"
        );
        assert_eq!(
            nearest("Gb-Military-2024", known),
            vec!["gb-military-2024", "gb-military-2025"]
        );
        let many: Vec<String> = (0..120).map(|i| format!("c{i:03}-thing")).collect();
        let h = hint(
            "zzzz",
            many.iter().map(String::as_str),
            "see `compact show`",
        );
        assert_eq!(h, "; 120 are known (see `compact show`)");
        assert_eq!(
            hint("zz", ["AB", "CD"], "x"),
            "; the known ones are: AB, CD"
        );
    }
}
