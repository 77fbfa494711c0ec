//! Pagination of list queries.

use crate::error::{Error, Result};

/// Which page of a list to return. Pages are 1 to `u32::MAX`; sizes are 1 to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            size: Self::DEFAULT_SIZE,
        }
    }
}

impl PageRequest {
    /// Rows per page when the request names no size.
    pub const DEFAULT_SIZE: u32 = 30;
    /// The largest page served: a list never reads an unbounded number of rows.
    pub const MAX_SIZE: u32 = 100;

    /// Parses the `page` and `size` query parameters, applying the defaults when absent.
    /// Out-of-range values are rejected rather than clamped, so a client bug shows.
    pub fn parse(page: Option<&str>, size: Option<&str>) -> Result<Self> {
        let page = match page {
            None => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(p) if p >= 1 => p,
                _ => {
                    return Err(Error::invalid(format!(
                        "page must be a whole number from 1 to {}",
                        u32::MAX
                    )))
                }
            },
        };
        let size = match size {
            None => Self::DEFAULT_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(s) if (1..=Self::MAX_SIZE).contains(&s) => s,
                _ => {
                    return Err(Error::invalid(format!(
                        "size must be a whole number from 1 to {}",
                        Self::MAX_SIZE
                    )))
                }
            },
        };
        Ok(Self { page, size })
    }

    /// The page number, from 1.
    pub fn page(self) -> u32 {
        self.page
    }

    /// Rows per page, 1 to [`PageRequest::MAX_SIZE`].
    pub fn size(self) -> u32 {
        self.size
    }

    /// Rows to skip. Past the end the page is simply empty.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

/// One page of a list plus the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// Rows in the whole list, so a client can tell how many pages there are.
    pub total: u64,
    /// This page's rows, in the list's order.
    pub items: Vec<T>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn absent_page_and_size_default_to_the_first_page_of_thirty() {
        let request = PageRequest::parse(None, None).unwrap();
        assert_eq!((request.page(), request.size()), (1, 30));
        assert_eq!(request, PageRequest::default());
    }

    #[test]
    fn parses_pages_from_one_and_sizes_from_one_to_a_hundred() {
        let cases = [
            (Some("1"), Some("1"), (1, 1)),
            (Some("2"), Some("50"), (2, 50)),
            (Some("999"), Some("100"), (999, 100)),
            (Some("4294967295"), None, (u32::MAX, 30)),
            (None, Some("10"), (1, 10)),
        ];
        for (page, size, expected) in cases {
            let request = PageRequest::parse(page, size).unwrap();
            assert_eq!(
                (request.page(), request.size()),
                expected,
                "{page:?} {size:?}"
            );
        }
    }

    #[test]
    fn rejects_page_zero_negative_or_not_a_whole_number() {
        for page in ["0", "-1", "", " 1", "1.5", "abc", "4294967296"] {
            assert!(
                matches!(
                    PageRequest::parse(Some(page), None),
                    Err(Error::InvalidParameter(_))
                ),
                "{page:?}"
            );
        }
    }

    #[test]
    fn rejects_size_zero_above_a_hundred_or_not_a_whole_number() {
        for size in ["0", "101", "500", "-1", "", "ten", "30.0"] {
            assert!(
                matches!(
                    PageRequest::parse(None, Some(size)),
                    Err(Error::InvalidParameter(_))
                ),
                "{size:?}"
            );
        }
    }

    #[test]
    fn a_page_too_large_for_the_range_says_the_range() {
        for page in ["4294967296", "99999999999", "0", "x"] {
            assert_eq!(
                PageRequest::parse(Some(page), None),
                Err(Error::invalid(
                    "page must be a whole number from 1 to 4294967295"
                )),
                "{page}"
            );
        }
    }

    #[test]
    fn offset_skips_the_previous_pages() {
        let offset =
            |page: &str, size: &str| PageRequest::parse(Some(page), Some(size)).unwrap().offset();
        assert_eq!(offset("1", "30"), 0);
        assert_eq!(offset("2", "30"), 30);
        assert_eq!(offset("3", "7"), 14);
    }

    #[test]
    fn offset_of_the_last_possible_page_does_not_overflow() {
        let request = PageRequest::parse(Some("4294967295"), Some("100")).unwrap();
        assert_eq!(request.offset(), (u64::from(u32::MAX) - 1) * 100);
    }
}
