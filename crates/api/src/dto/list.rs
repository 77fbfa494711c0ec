//! List payloads: `{"total": N, "results": [...]}`.

use domain::page::{Page, PageRequest};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// A page of a list, and how many items the whole list has.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListJson<T: Serialize> {
    pub total: u64,
    pub results: Vec<T>,
}

impl<T: Serialize> ListJson<T> {
    /// A page of entities, each turned into its JSON form.
    pub fn from_page<E>(page: Page<E>) -> Self
    where
        T: for<'a> From<&'a E>,
    {
        Self {
            total: page.total,
            results: page.items.iter().map(T::from).collect(),
        }
    }

    /// A whole (unpaged) list.
    pub fn all(results: Vec<T>) -> Self {
        Self {
            total: results.len() as u64,
            results,
        }
    }
}

/// `page` and `size` query parameters; absent means the default, empty is invalid.
pub fn page_request(page: Option<&str>, size: Option<&str>) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::parse(page, size)?)
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

    #[derive(Serialize)]
    struct Tenfold(i32);

    impl From<&i32> for Tenfold {
        fn from(n: &i32) -> Self {
            Tenfold(n * 10)
        }
    }

    #[test]
    fn a_page_lists_total_and_converted_items() {
        let json = ListJson::<Tenfold>::from_page(Page {
            total: 7,
            items: vec![1, 2],
        });
        assert_eq!(
            serde_json::to_value(json).unwrap(),
            serde_json::json!({"total": 7, "results": [10, 20]})
        );
    }
}
