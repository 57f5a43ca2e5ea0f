//! The validation report: the one data structure every other part reads (CLI, wizard,
//! sandbox server, upload). Its JSON form is a stable contract (see README "Report format").

use serde::{Deserialize, Serialize};

use crate::read::Format;

/// How severe an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The service would cancel the whole import.
    Error,
    /// Accepted, but probably not what the user wants.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// Lower-case name as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Stable issue codes. Their snake_case names are part of the report contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // errors
    /// Not UTF-8 (incl. UTF-16/32 BOMs and NUL bytes).
    Encoding,
    /// A line longer than the configured cap.
    LineTooLong,
    /// A JSON line that doesn't parse as an object.
    JsonSyntax,
    /// null, bool, array or object where a string/number belongs.
    JsonType,
    /// CSV row with fewer than 2 or more than 4 fields.
    FieldCount,
    /// Broken CSV quoting.
    CsvQuote,
    /// The first CSV row is a header.
    HeaderRow,
    /// Order id missing or empty.
    MissingOrderId,
    /// Identity missing or empty.
    MissingIdentity,
    /// created_at in a format the service doesn't accept.
    TimestampFormat,
    /// created_at carrying a zone designator.
    TimestampZone,
    /// Larger than 1 GiB.
    FileTooLarge,
    /// No data at all.
    EmptyFile,
    /// A carriage return not followed by a line feed (CR-only line endings).
    BareCr,
    // warnings
    /// A UTF-8 byte-order mark at the start.
    Bom,
    /// Extension missing or not `.csv` / `.json`: the format was sniffed.
    Extension,
    /// Larger than 10^9 bytes (still under the 1 GiB limit).
    FileNearLimit,
    /// Same order, identity, user and created_at as an earlier row.
    DuplicateRow,
    /// One order id with more than one user id.
    OrderMultipleUsers,
    /// An order with more than the configured number of distinct items.
    LargeOrder,
    /// created_at in the future.
    FutureTimestamp,
    /// created_at before 2000-01-01.
    OldTimestamp,
    /// Ids mangled by a spreadsheet (`1.23E+11`).
    SpreadsheetId,
    /// Ids with leading/trailing whitespace.
    WhitespaceId,
    /// JSON attribute the service doesn't know.
    UnknownAttribute,
    /// Both attribute-name generations in one file.
    MixedAttributeNames,
    /// A JSON object naming a documented attribute twice.
    DuplicateKey,
    /// Fewer than 1,000 orders with at least 2 distinct items.
    FewCoPurchases,
    /// More than 80 % of orders have a single item.
    MostlySingleItem,
    /// Distinct identities are at least 90 % of the valid rows (on 1,000 rows or more): the
    /// identity column is probably a row or line-item id, and nothing is bought twice.
    IdentityUniquePerRow,
    /// One user id on at least 20 % of the orders (of a file of 100 orders or more): usually a
    /// placeholder for guests or a shop's own account, which personalization would read as one
    /// person.
    DominantUser,
    /// Rows whose identity is not in the tracker's catalog (checked when a catalog is given).
    IdentityNotInCatalog,
    /// Rows of orders that earlier uploads already sent to the tracker (checked when the
    /// tracker's sent orders are given).
    OrdersAlreadySent,
    // info
    /// No row has a user id.
    NoUserIds,
    /// No row has a timestamp.
    NoTimestamps,
    /// Some rows have a timestamp, some don't.
    PartialTimestamps,
}

impl Code {
    /// Every code, in report order (errors, warnings, info).
    pub const ALL: [Code; 36] = [
        Code::Encoding,
        Code::LineTooLong,
        Code::JsonSyntax,
        Code::JsonType,
        Code::FieldCount,
        Code::CsvQuote,
        Code::HeaderRow,
        Code::MissingOrderId,
        Code::MissingIdentity,
        Code::TimestampFormat,
        Code::TimestampZone,
        Code::FileTooLarge,
        Code::EmptyFile,
        Code::BareCr,
        Code::Bom,
        Code::Extension,
        Code::FileNearLimit,
        Code::DuplicateRow,
        Code::OrderMultipleUsers,
        Code::LargeOrder,
        Code::FutureTimestamp,
        Code::OldTimestamp,
        Code::SpreadsheetId,
        Code::WhitespaceId,
        Code::UnknownAttribute,
        Code::MixedAttributeNames,
        Code::DuplicateKey,
        Code::FewCoPurchases,
        Code::MostlySingleItem,
        Code::IdentityUniquePerRow,
        Code::DominantUser,
        Code::IdentityNotInCatalog,
        Code::OrdersAlreadySent,
        Code::NoUserIds,
        Code::NoTimestamps,
        Code::PartialTimestamps,
    ];

    /// The severity this code always has.
    pub fn severity(self) -> Severity {
        use Code::*;
        match self {
            Encoding | LineTooLong | JsonSyntax | JsonType | FieldCount | CsvQuote | HeaderRow
            | MissingOrderId | MissingIdentity | TimestampFormat | TimestampZone | FileTooLarge
            | EmptyFile | BareCr => Severity::Error,
            NoUserIds | NoTimestamps | PartialTimestamps => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The stable snake_case name (as in the JSON report).
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            Encoding => "encoding",
            LineTooLong => "line_too_long",
            JsonSyntax => "json_syntax",
            JsonType => "json_type",
            FieldCount => "field_count",
            CsvQuote => "csv_quote",
            HeaderRow => "header_row",
            MissingOrderId => "missing_order_id",
            MissingIdentity => "missing_identity",
            TimestampFormat => "timestamp_format",
            TimestampZone => "timestamp_zone",
            FileTooLarge => "file_too_large",
            EmptyFile => "empty_file",
            BareCr => "bare_cr",
            Bom => "bom",
            Extension => "extension",
            FileNearLimit => "file_near_limit",
            DuplicateRow => "duplicate_row",
            OrderMultipleUsers => "order_multiple_users",
            LargeOrder => "large_order",
            FutureTimestamp => "future_timestamp",
            OldTimestamp => "old_timestamp",
            SpreadsheetId => "spreadsheet_id",
            WhitespaceId => "whitespace_id",
            UnknownAttribute => "unknown_attribute",
            MixedAttributeNames => "mixed_attribute_names",
            DuplicateKey => "duplicate_key",
            FewCoPurchases => "few_co_purchases",
            MostlySingleItem => "mostly_single_item",
            IdentityUniquePerRow => "identity_unique_per_row",
            DominantUser => "dominant_user",
            IdentityNotInCatalog => "identity_not_in_catalog",
            OrdersAlreadySent => "orders_already_sent",
            NoUserIds => "no_user_ids",
            NoTimestamps => "no_timestamps",
            PartialTimestamps => "partial_timestamps",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No errors, no warnings (info allowed).
    Ok,
    /// Warnings but no errors: the service would accept it.
    Warnings,
    /// At least one error: the service would cancel the whole import.
    Errors,
}

/// Line endings seen in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEndings {
    /// `\n` only (also used for files with a single line and no ending).
    Lf,
    /// `\r\n` only.
    Crlf,
    /// Both.
    Mixed,
}

/// What was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Format (from the extension, else sniffed).
    pub format: Format,
    /// Line endings.
    pub line_endings: LineEndings,
    /// Whether the file starts with a UTF-8 BOM.
    pub bom: bool,
}

/// Distribution of distinct items per order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

/// A product and how many valid rows name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopProduct {
    /// The identity.
    pub identity: String,
    /// Valid rows with it.
    pub rows: u64,
}

/// Statistics over the file. See the README for exact definitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Physical records read.
    pub lines: u64,
    /// Data records (a detected header row is not a row).
    pub rows: u64,
    /// Rows without any error.
    pub valid_rows: u64,
    /// Rows with at least one error.
    pub invalid_rows: u64,
    /// Distinct non-empty order ids over valid rows.
    pub orders: u64,
    /// Orders with exactly one distinct identity.
    pub single_item_orders: u64,
    /// Orders with two or more distinct identities.
    pub multi_item_orders: u64,
    /// Sum over orders of k(k−1)/2 over k distinct identities.
    pub pairs: u64,
    /// Distinct identities per order.
    pub items_per_order: Distribution,
    /// Distinct identities.
    pub products: u64,
    /// Distinct non-empty user ids.
    pub users: u64,
    /// Valid rows with a user id.
    pub rows_with_user: u64,
    /// Valid rows with a timestamp.
    pub rows_with_timestamp: u64,
    /// Earliest created_at, normalised `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    pub first_purchase: Option<String>,
    /// Latest created_at, normalised.
    pub last_purchase: Option<String>,
    /// Most frequent identities (up to 10), most rows first.
    pub top_products: Vec<TopProduct>,
}

/// One occurrence of an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// 1-based line number.
    pub line: u64,
    /// 0-based byte offset of the start of the line (or of the offending byte where known).
    pub byte: u64,
    /// The offending text, at most 200 characters, control characters escaped.
    pub text: String,
}

/// One kind of problem, counted over the whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable code.
    pub code: Code,
    /// Severity (always `code.severity()`).
    pub severity: Severity,
    /// Occurrences (rows, lines or orders, as the message says).
    pub count: u64,
    /// Plain-words explanation.
    pub message: String,
    /// Up to `max_examples` occurrences.
    pub examples: Vec<Example>,
}

/// A row of a sampled order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRow {
    /// 1-based line number.
    pub line: u64,
    /// Identity.
    pub identity: String,
    /// User id, if any.
    pub user_id: Option<String>,
    /// created_at normalised, if any.
    pub created_at: Option<String>,
}

/// A multi-item order with all its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The order id.
    pub order_id: String,
    /// All its rows, in file order.
    pub rows: Vec<SampleRow>,
}

/// The validation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The file.
    pub file: FileInfo,
    /// Overall verdict.
    pub verdict: Verdict,
    /// Statistics.
    pub stats: Stats,
    /// Issues, errors first, then warnings, then info; within a severity in `Code::ALL` order.
    pub issues: Vec<Issue>,
    /// Sampled multi-item orders.
    pub samples: Vec<Sample>,
    /// When the report was made (UTC). Absent in reports from older versions and in bare
    /// validation runs; filled when a report is shown, saved or sent with an upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who made it (`user@host`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_by: Option<String>,
    /// The file's absolute path when it was validated (`file.path` is as given), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_absolute: Option<String>,
    /// The lbimport version that made it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lbimport_version: Option<String>,
    /// The file's identities compared with the tracker's catalog, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogCheck>,
    /// The file's orders compared with what was already sent to the tracker, when checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_sent: Option<AlreadySent>,
}

/// The file's identities compared with the tracker's catalog (see `identity_not_in_catalog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogCheck {
    /// Where the catalog came from (the export URL or an imported file).
    pub source: String,
    /// When it was fetched or imported, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Distinct identities in the catalog.
    pub catalog_identities: u64,
    /// Why the check was not made (an empty catalog), when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Valid rows compared.
    pub rows: u64,
    /// Valid rows whose identity is in the catalog.
    pub rows_matched: u64,
    /// Distinct identities of the file.
    pub identities: u64,
    /// Distinct identities of the file that are in the catalog.
    pub identities_matched: u64,
    /// `rows_matched / rows` (0 when there are no rows).
    pub row_match_rate: f64,
    /// `identities_matched / identities` (0 when there are none).
    pub identity_match_rate: f64,
    /// The unknown identities with the most rows, most first (at most 10).
    pub top_unknown: Vec<TopProduct>,
    /// Why identities are unknown, where a usual rewrite would find them: most rows first.
    pub diagnoses: Vec<CatalogDiagnosis>,
}

/// A rewrite that would make unknown identities match the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogDiagnosis {
    /// The rewrite.
    pub fix: super::lookup::IdentityFix,
    /// What it means, for people.
    pub description: String,
    /// The `normalize` option that applies it.
    pub flag: String,
    /// Unknown identities it would find, of those tried.
    pub identities: u64,
    /// Rows of those identities.
    pub rows: u64,
    /// Unknown identities tried (the ones with the most rows, at most 1,000).
    pub tried: u64,
    /// An identity it would find.
    pub example: String,
}

/// The file's orders compared with what was already sent to the tracker (see
/// `orders_already_sent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlreadySent {
    /// Distinct orders of the file that earlier uploads sent.
    pub orders: u64,
    /// Valid rows of those orders.
    pub rows: u64,
    /// Distinct orders of the file.
    pub file_orders: u64,
    /// Earlier uploads whose orders were compared.
    pub uploads_compared: u64,
    /// Why the orders were not compared (a damaged or unreadable record of sent orders), when
    /// they were not: the counts are then 0 and mean nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Per earlier upload that sent some of them: how many of the file's orders, most first.
    pub by_upload: Vec<SentBy>,
    /// Earlier uploads that count as sent but whose orders were never recorded (their orders
    /// could not be compared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<SentBy>,
}

/// An earlier upload in [`AlreadySent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentBy {
    /// The key of its stored set of orders.
    pub key: String,
    /// When it was sent (from the history), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The file it sent (from the history), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Orders of this file it sent (0 for an unrecorded upload).
    pub orders: u64,
}

impl Report {
    /// The issue with this code, if present.
    pub fn issue(&self, code: Code) -> Option<&Issue> {
        self.issues.iter().find(|i| i.code == code)
    }

    /// Number of distinct error codes present.
    pub fn error_codes(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count()
    }

    /// Total occurrences of error-severity issues.
    pub fn error_count(&self) -> u64 {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.count)
            .sum()
    }

    /// Whether the service would cancel the import.
    pub fn has_errors(&self) -> bool {
        self.verdict == Verdict::Errors
    }
}
