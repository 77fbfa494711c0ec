//! The base urls of remote services and webhook receivers.

use url::Url;

use super::{invalid, ConfigError};

/// An absolute `http` or `https` url with a host and no credentials, without its trailing
/// slashes (paths are appended to it). The value itself is not repeated in the error: a
/// receiver's url may carry a token.
pub(super) fn http_url(key: &str, text: &str) -> Result<String, ConfigError> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| invalid(key, format!("not a url ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(key, "must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(key, "must name a host"));
    }
    // Credentials in a url end up in logs and error messages; tokens have their own keys.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(key, "must not carry a user or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(key, "must not have a query or fragment"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn http_and_https_urls_are_kept_without_trailing_slashes() {
        assert_eq!(
            http_url("k", "https://df.example.com:8443/").unwrap(),
            "https://df.example.com:8443"
        );
        assert_eq!(
            http_url("k", " http://10.0.0.1/prefix// ").unwrap(),
            "http://10.0.0.1/prefix"
        );
    }

    #[test]
    fn anything_else_is_refused_naming_the_key_not_the_value() {
        for bad in [
            "",
            "df.example.com",
            "ftp://df.example.com",
            "http://",
            "https://user:secret-pw@df.example.com",
            "https://df.example.com/?token=secret-pw",
            "https://df.example.com/#secret-pw",
        ] {
            let error = http_url("regions[0].plan_service", bad)
                .unwrap_err()
                .to_string();
            assert!(error.contains("regions[0].plan_service"), "{bad}: {error}");
            assert!(!error.contains("secret-pw"), "{bad}: {error}");
        }
    }
}
