//! List payloads: `{"total": N, "totalExact": true, "results": [...]}`.

use domain::page::{Page, PageRequest};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// A page of a list, and how many items the whole list has.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListJson<T: Serialize> {
    /// Items in the whole list; at most 1,000 when `totalExact` is false.
    pub total: u64,
    /// Whether `total` is exact. A list filtered by a time range or a search word is
    /// counted only up to 1,000 items, so that counting never scans a whole project;
    /// past that, `total` is 1,000 and this is false (page on until a page is short).
    #[serde(rename = "totalExact")]
    pub total_exact: bool,
    pub results: Vec<T>,
}

impl<T: Serialize> ListJson<T> {
    /// A page of entities, each turned into its JSON form.
    pub fn from_page<E>(page: Page<E>) -> Self
    where
        T: for<'a> From<&'a E>,
    {
        Self::mapped(&page, |item| T::from(item))
    }

    /// A page of entities, each turned into its JSON form by `show`.
    pub fn mapped<E>(page: &Page<E>, show: impl FnMut(&E) -> T) -> Self {
        Self {
            total: page.total,
            total_exact: page.exact,
            results: page.items.iter().map(show).collect(),
        }
    }

    /// A whole (unpaged) list.
    pub fn all(results: Vec<T>) -> Self {
        Self {
            total: results.len() as u64,
            total_exact: true,
            results,
        }
    }
}

/// `page` and `size` query parameters; absent means the default, empty is invalid.
pub fn page_request(page: Option<&str>, size: Option<&str>) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::parse(page, size)?)
}

/// The rows a list returns, asked for either as `page`/`size` (default: 30 rows from the
/// first) or as `offset`/`limit` (default: 10 rows from the first, as 51idc's API), never
/// both: a mix would leave one pair silently ignored.
pub fn page_or_window(
    page: Option<&str>,
    size: Option<&str>,
    offset: Option<&str>,
    limit: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let paged = page.is_some() || size.is_some();
    let windowed = offset.is_some() || limit.is_some();
    if paged && windowed {
        return Err(ApiError::invalid(
            "page/size and offset/limit are two ways to ask for rows: give one of them",
        ));
    }
    if windowed {
        Ok(PageRequest::window(offset, limit)?)
    } else {
        page_request(page, size)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn page_and_size_default_to_1_and_30() {
        assert_eq!(page_request(None, None).unwrap(), PageRequest::default());
    }

    #[test]
    fn an_empty_page_or_size_is_invalid_not_the_default() {
        for (page, size) in [(Some(""), None), (None, Some(""))] {
            assert!(page_request(page, size).is_err(), "{page:?} {size:?}");
        }
    }

    #[test]
    fn page_0_and_size_101_are_invalid_parameters() {
        for (page, size) in [
            (Some("0"), None),
            (None, Some("101")),
            (Some("x"), None),
            (None, Some("0")),
        ] {
            let error = page_request(page, size).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid parameters:"),
                "{page:?} {size:?}"
            );
        }
    }

    #[test]
    fn offset_and_limit_ask_for_a_window_of_ten_rows_by_default() {
        let window = page_or_window(None, None, Some("20"), None).unwrap();
        assert_eq!((window.offset(), window.limit()), (20, 10));
        let window = page_or_window(None, None, None, Some("1000")).unwrap();
        assert_eq!((window.offset(), window.limit()), (0, 1000));
        let paged = page_or_window(Some("2"), None, None, None).unwrap();
        assert_eq!((paged.offset(), paged.limit()), (30, 30));
        assert_eq!(
            page_or_window(None, None, None, None).unwrap(),
            PageRequest::default()
        );
    }

    #[test]
    fn page_or_size_with_offset_or_limit_is_refused() {
        for (page, size, offset, limit) in [
            (Some("1"), None, Some("0"), None),
            (None, Some("10"), None, Some("10")),
            (Some("1"), Some("10"), Some("0"), Some("10")),
        ] {
            let error = page_or_window(page, size, offset, limit).unwrap_err();
            assert!(error.to_string().contains("give one of them"), "{error}");
        }
    }

    #[test]
    fn a_negative_offset_and_limits_0_and_1001_are_invalid() {
        for (offset, limit) in [(Some("-1"), None), (None, Some("0")), (None, Some("1001"))] {
            let error = page_or_window(None, None, offset, limit).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid parameters:"),
                "{offset:?} {limit:?}: {error}"
            );
        }
    }

    #[derive(Serialize)]
    struct Tenfold(i32);

    impl From<&i32> for Tenfold {
        fn from(n: &i32) -> Self {
            Tenfold(n * 10)
        }
    }

    #[test]
    fn a_page_lists_total_and_converted_items() {
        let json = ListJson::<Tenfold>::from_page(Page::exact(7, vec![1, 2]));
        assert_eq!(
            serde_json::to_value(json).unwrap(),
            serde_json::json!({"total": 7, "totalExact": true, "results": [10, 20]})
        );
    }
}
