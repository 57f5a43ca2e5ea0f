//! Order ids as the service reads them, for recording what an upload sent
//! ([`order_of`]; the sent sets hash them with
//! [`order_hash`](crate::config::sent::order_hash)). Counting a file's orders already sent is
//! the validator's job (`validate::Options::sent`, the report's `already_sent` section).

use crate::read::Format;
use crate::validate::engine_fields as parse_fields;

/// The order id of a record, as the service reads it; `None` when missing or blank.
pub fn order_of(format: Format, text: &str) -> Option<String> {
    let order = parse_fields(format, text)?.order?;
    if order.trim().is_empty() {
        None
    } else {
        Some(order.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_of_csv_and_json_records() {
        assert_eq!(
            order_of(Format::Csv, "17,/p/1,u1,2026-01-01 00:00:00").as_deref(),
            Some("17")
        );
        assert_eq!(order_of(Format::Csv, " ,/p/1"), None);
        assert_eq!(
            order_of(Format::Json, r#"{"order_id":"A-1","identity":"/p/1"}"#).as_deref(),
            Some("A-1")
        );
    }
}
