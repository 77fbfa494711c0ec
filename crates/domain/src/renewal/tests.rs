//! Tests of the renewal rules.
