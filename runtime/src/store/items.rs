//! The basics every item shares: the item type, its error, and reading and writing attribute
//! values, with every attribute name taken from [`super::schema`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::Timestamp;

/// An item, as the SDK holds it.
pub type Item = HashMap<String, AttributeValue>;

/// An item that does not hold what its type promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item attribute `{attribute}`: {problem}")]
pub struct ItemError {
    /// The attribute.
    pub attribute: &'static str,
    /// What is wrong.
    pub problem: &'static str,
}

/// The error of an attribute that is absent or of the wrong type.
pub fn missing(attribute: &'static str) -> ItemError {
    ItemError {
        attribute,
        problem: "missing or of the wrong type",
    }
}

/// The error of an attribute whose value does not parse.
pub fn malformed(attribute: &'static str) -> ItemError {
    ItemError {
        attribute,
        problem: "malformed",
    }
}

/// A string attribute value.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute.
pub fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| missing(attribute))
}

/// A number attribute.
pub fn get_n<T: std::str::FromStr>(item: &Item, attribute: &'static str) -> Result<T, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_n().ok())
        .ok_or_else(|| missing(attribute))?
        .parse()
        .map_err(|_| malformed(attribute))
}

/// A number attribute that may be absent.
pub fn get_optional_n<T: std::str::FromStr>(
    item: &Item,
    attribute: &'static str,
) -> Result<Option<T>, ItemError> {
    if item.contains_key(attribute) {
        get_n(item, attribute).map(Some)
    } else {
        Ok(None)
    }
}

/// A boolean attribute.
pub fn get_bool(item: &Item, attribute: &'static str) -> Result<bool, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .ok_or_else(|| missing(attribute))
}

/// A timestamp attribute (milliseconds).
pub fn timestamp(item: &Item, attribute: &'static str) -> Result<Timestamp, ItemError> {
    get_n(item, attribute).map(Timestamp::from_millis)
}

/// A timestamp attribute that may be absent.
pub fn optional_timestamp(
    item: &Item,
    attribute: &'static str,
) -> Result<Option<Timestamp>, ItemError> {
    Ok(get_optional_n(item, attribute)?.map(Timestamp::from_millis))
}
