//! A guarantor's response measures, as written in a measures file.

use compact_statement::Measure as ResponseMeasure;

use crate::error::{Result, ServiceError};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasuresFile {
    measures: Vec<ResponseMeasure>,
}

/// How a measures file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasuresSyntax {
    /// TOML: `[[measures]]` tables.
    Toml,
    /// JSON: a list of measures, or `{"measures": [...]}`.
    Json,
}

/// The measures in `text`, written in `syntax`; `shown` names the input in errors, which give
/// its line and column.
pub fn parse_measures(
    text: &str,
    syntax: MeasuresSyntax,
    shown: &str,
) -> Result<Vec<ResponseMeasure>> {
    if syntax == MeasuresSyntax::Toml {
        let parsed: MeasuresFile = toml::from_str(text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|r| compact_model::diag::line_col(text, r.start))
                .unwrap_or((1, 1));
            ServiceError::bad_input(format!("{shown}:{line}:{col}: {}", e.message()))
        })?;
        return Ok(parsed.measures);
    }
    let json = |e: serde_json::Error| {
        ServiceError::bad_input(format!(
            "{shown}:{}:{}: {e} (expected a JSON list of measures, or {{\"measures\": [...]}}, each {{\"kind\": \"accelerate|pledge|sanctions\", \"description\", \"commitment\"?, \"amount\"?}})",
            e.line(),
            e.column()
        ))
    };
    if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(json)
    } else {
        let parsed: MeasuresFile = serde_json::from_str(text).map_err(json)?;
        Ok(parsed.measures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_read_from_toml_and_json_and_errors_say_where() -> Result<()> {
        let toml = "[[measures]]\nkind = \"pledge\"\ndescription = \"more shells\"\n";
        assert_eq!(
            parse_measures(toml, MeasuresSyntax::Toml, "m.toml")?.len(),
            1
        );
        let list = r#"[{"kind": "sanctions", "description": "snap back"}]"#;
        assert_eq!(
            parse_measures(list, MeasuresSyntax::Json, "m.json")?.len(),
            1
        );
        let wrapped = format!("{{\"measures\": {list}}}");
        assert_eq!(
            parse_measures(&wrapped, MeasuresSyntax::Json, "m.json")?.len(),
            1
        );
        let bad = parse_measures("[[measures]]\nkind = 3\n", MeasuresSyntax::Toml, "m.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.starts_with("m.toml:2:"), "{bad}");
        let bad = parse_measures("{\"x\": 1}", MeasuresSyntax::Json, "m.json")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.starts_with("m.json:1:"), "{bad}");
        Ok(())
    }
}
