//! Validation: checks, statistics and the report. One streaming pass over the file.
