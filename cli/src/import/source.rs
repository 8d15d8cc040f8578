//! Reading the legacy users: the JSON file that `aws dynamodb scan` prints, or a live table
//! scanned in parallel segments. Either way the items are converted here from DynamoDB's attribute
//! values to the domain's neutral [`LegacyRow`]s, so the rest of the import never handles an attribute value.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::legacy::{LegacyRow, LegacyValue};
use lambdauth_runtime::aws_error::{AwsFailure, classify};
use lambdauth_runtime::store::StoreError;
use tokio::task::JoinSet;

use super::progress::Progress;
use super::{ImportError, ImportOptions, ImportSummary, LegacySource, MAX_SEGMENTS, with_backoff};

/// The legacy rows, in batches in a fixed order (one for a scan file, one per scan segment).
pub(super) async fn read_source(
    client: &Client,
    options: &ImportOptions,
    progress: &Progress,
    summary: &mut ImportSummary,
) -> Result<Vec<Vec<LegacyRow>>, ImportError> {
    match &options.source {
        LegacySource::ScanFile(path) => {
            let (rows, warnings) = read_scan_file(path)?;
            progress.read(rows.len());
            summary.warnings.extend(warnings);
            Ok(vec![rows])
        }
        LegacySource::Table { name, segments } => {
            scan_table(client, name, *segments, progress, &options.stop).await
        }
    }
}

/// Scans `table` in `segments` parallel parts, each page retried with back-off when throttled.
/// The rows come back per segment, in segment order, so "the first row" of a case duplicate is
/// the same on every run with the same segments.
async fn scan_table(
    client: &Client,
    table: &str,
    segments: u32,
    progress: &Progress,
    stop: &Arc<AtomicBool>,
) -> Result<Vec<Vec<LegacyRow>>, ImportError> {
    if !(1..=MAX_SEGMENTS).contains(&segments) {
        return Err(ImportError::InvalidOption(format!(
            "--segments must be between 1 and {MAX_SEGMENTS}"
        )));
    }
    let mut scans = JoinSet::new();
    for segment in 0..segments {
        let client = client.clone();
        let table = table.to_owned();
        let progress = progress.clone();
        let stop = Arc::clone(stop);
        scans.spawn(async move {
            let rows = scan_segment(&client, &table, segment, segments, &progress, &stop).await;
            (segment, rows)
        });
    }
    let mut by_segment = Vec::with_capacity(scans.len());
    while let Some(joined) = scans.join_next().await {
        let (segment, rows) = joined.map_err(|e| {
            ImportError::Scan(AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: format!("a scan task failed: {e}"),
            })
        })?;
        by_segment.push((segment, rows.map_err(ImportError::Scan)?));
    }
    by_segment.sort_by_key(|(segment, _)| *segment);
    Ok(by_segment.into_iter().map(|(_, rows)| rows).collect())
}

async fn scan_segment(
    client: &Client,
    table: &str,
    segment: u32,
    segments: u32,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Vec<LegacyRow>, AwsFailure> {
    let (segment, total) = if segments > 1 {
        (i32::try_from(segment).ok(), i32::try_from(segments).ok())
    } else {
        (None, None)
    };
    let mut rows = Vec::new();
    let mut start_key = None;
    loop {
        let page = with_backoff(|| async {
            client
                .scan()
                .table_name(table)
                .set_segment(segment)
                .set_total_segments(total)
                .set_exclusive_start_key(start_key.clone())
                .send()
                .await
                .map_err(|e| StoreError::Aws(classify("DynamoDB", &e)))
        })
        .await
        .map_err(|error| match error {
            StoreError::Aws(failure) => failure,
            other => AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: other.to_string(),
            },
        })?;
        let items = page.items.unwrap_or_default();
        progress.read(items.len());
        rows.extend(items.iter().map(legacy_row));
        start_key = page.last_evaluated_key;
        if start_key.is_none() || stop.load(Ordering::Relaxed) {
            return Ok(rows);
        }
    }
}

/// A DynamoDB item as a legacy row.
pub fn legacy_row<S: std::hash::BuildHasher>(
    item: &HashMap<String, AttributeValue, S>,
) -> LegacyRow {
    item.iter()
        .map(|(name, value)| (name.clone(), legacy_value(value)))
        .collect()
}

fn legacy_value(value: &AttributeValue) -> LegacyValue {
    match value {
        AttributeValue::S(text) => LegacyValue::Text(text.clone()),
        AttributeValue::Bool(flag) => LegacyValue::Bool(*flag),
        AttributeValue::N(number) => LegacyValue::Number(number.clone()),
        AttributeValue::B(_) => LegacyValue::Other("B".to_owned()),
        AttributeValue::Bs(_) => LegacyValue::Other("BS".to_owned()),
        AttributeValue::L(_) => LegacyValue::Other("L".to_owned()),
        AttributeValue::M(_) => LegacyValue::Other("M".to_owned()),
        AttributeValue::Ns(_) => LegacyValue::Other("NS".to_owned()),
        AttributeValue::Null(_) => LegacyValue::Other("NULL".to_owned()),
        AttributeValue::Ss(_) => LegacyValue::Other("SS".to_owned()),
        _ => LegacyValue::Other("unknown".to_owned()),
    }
}

/// Reads the JSON of `aws dynamodb scan`: the rows, and warnings (a partial scan).
pub fn read_scan_file(
    path: &std::path::Path,
) -> Result<(Vec<LegacyRow>, Vec<String>), ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::ReadScanFile {
        path: path.to_owned(),
        source,
    })?;
    parse_scan_json(&text).map_err(|problem| ImportError::MalformedScanFile {
        path: path.to_owned(),
        problem,
    })
}

/// Parses the JSON of `aws dynamodb scan` (`{"Items": [{"email": {"S": "…"}, …}, …]}`).
pub fn parse_scan_json(text: &str) -> Result<(Vec<LegacyRow>, Vec<String>), String> {
    let scan: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items = scan
        .get("Items")
        .and_then(serde_json::Value::as_array)
        .ok_or("there is no `Items` array")?;
    let rows = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let attributes = item
                .as_object()
                .ok_or_else(|| format!("item {index} is not an object"))?;
            Ok(attributes
                .iter()
                .map(|(name, value)| (name.clone(), json_legacy_value(value)))
                .collect())
        })
        .collect::<Result<Vec<LegacyRow>, String>>()?;
    let mut warnings = Vec::new();
    if scan.get("LastEvaluatedKey").is_some() || scan.get("NextToken").is_some() {
        warnings.push(
            "the scan file holds one page of a longer scan; users on other pages are not imported"
                .to_owned(),
        );
    }
    Ok((rows, warnings))
}

/// One attribute value in DynamoDB's JSON form (`{"S": "…"}`, `{"BOOL": true}`, …).
fn json_legacy_value(value: &serde_json::Value) -> LegacyValue {
    let Some(typed) = value.as_object().filter(|typed| typed.len() == 1) else {
        return LegacyValue::Other("malformed".to_owned());
    };
    match typed.iter().next() {
        Some((kind, serde_json::Value::String(text))) if kind == "S" => {
            LegacyValue::Text(text.clone())
        }
        Some((kind, serde_json::Value::String(number))) if kind == "N" => {
            LegacyValue::Number(number.clone())
        }
        Some((kind, serde_json::Value::Bool(flag))) if kind == "BOOL" => LegacyValue::Bool(*flag),
        Some((kind, _)) => LegacyValue::Other(kind.clone()),
        None => LegacyValue::Other("malformed".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_json_becomes_rows_of_neutral_values() {
        let (rows, warnings) = parse_scan_json(
            r#"{"Items": [{"email": {"S": "A@example.com"}, "verified": {"BOOL": true},
                 "count": {"N": "3"}, "tags": {"SS": ["x"]}, "odd": "bare"}],
                "Count": 1, "ScannedCount": 1}"#,
        )
        .unwrap();
        assert!(warnings.is_empty());
        let row = &rows[0];
        assert_eq!(row["email"], LegacyValue::Text("A@example.com".to_owned()));
        assert_eq!(row["verified"], LegacyValue::Bool(true));
        assert_eq!(row["count"], LegacyValue::Number("3".to_owned()));
        assert_eq!(row["tags"], LegacyValue::Other("SS".to_owned()));
        assert_eq!(row["odd"], LegacyValue::Other("malformed".to_owned()));
    }

    #[test]
    fn a_partial_scan_is_warned_about() {
        let (rows, warnings) =
            parse_scan_json(r#"{"Items": [], "LastEvaluatedKey": {"email": {"S": "x"}}}"#).unwrap();
        assert!(rows.is_empty());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn what_is_not_a_scan_is_an_error() {
        assert!(parse_scan_json("not json").is_err());
        assert!(parse_scan_json(r#"{"Count": 0}"#).is_err());
        assert!(parse_scan_json(r#"{"Items": [1]}"#).is_err());
    }

    #[test]
    fn dynamodb_values_become_neutral_values() {
        let item = HashMap::from([
            (
                "email".to_owned(),
                AttributeValue::S("a@example.com".to_owned()),
            ),
            ("verified".to_owned(), AttributeValue::Bool(false)),
            ("n".to_owned(), AttributeValue::N("1".to_owned())),
            ("nothing".to_owned(), AttributeValue::Null(true)),
        ]);
        let row = legacy_row(&item);
        assert_eq!(row["email"], LegacyValue::Text("a@example.com".to_owned()));
        assert_eq!(row["verified"], LegacyValue::Bool(false));
        assert_eq!(row["n"], LegacyValue::Number("1".to_owned()));
        assert_eq!(row["nothing"], LegacyValue::Other("NULL".to_owned()));
    }
}
