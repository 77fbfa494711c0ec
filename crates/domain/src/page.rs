//! Pagination of list queries: pages of a size (`page`/`size`, the seed 000 API) or a
//! window of rows (`offset`/`limit`, the seed 001 API). Both end up as rows to skip and
//! rows to return, which is all a repository sees.

use crate::error::{Error, Result};

/// Which rows of a list to return: `limit` rows after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    offset: u64,
    limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: Self::DEFAULT_SIZE,
        }
    }
}

impl PageRequest {
    /// Rows per page when the request names no size.
    pub const DEFAULT_SIZE: u32 = 30;
    /// The largest page served: a list never reads an unbounded number of rows.
    pub const MAX_SIZE: u32 = 100;
    /// Rows of a window when the request names an offset but no limit (51idc's default).
    pub const DEFAULT_LIMIT: u32 = 10;
    /// The largest window served.
    pub const MAX_LIMIT: u32 = 1_000;
    /// The largest offset accepted: as far as a signed 64-bit SQL `OFFSET` reaches.
    pub const MAX_OFFSET: u64 = i64::MAX as u64;

    /// Parses the `page` and `size` query parameters, applying the defaults when absent.
    /// Pages are 1 to `u32::MAX`, sizes 1 to [`PageRequest::MAX_SIZE`]. Out-of-range values
    /// are rejected rather than clamped, so a client bug shows.
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
            Some(text) => Self::bounded(text, "size", Self::MAX_SIZE)?,
        };
        Ok(Self {
            offset: u64::from(page - 1) * u64::from(size),
            limit: size,
        })
    }

    /// Parses the `offset` and `limit` query parameters: offset 0 to
    /// [`PageRequest::MAX_OFFSET`] (0 when absent), limit 1 to [`PageRequest::MAX_LIMIT`]
    /// ([`PageRequest::DEFAULT_LIMIT`] when absent).
    pub fn window(offset: Option<&str>, limit: Option<&str>) -> Result<Self> {
        let offset = match offset {
            None => 0,
            Some(text) => match text.parse::<u64>() {
                Ok(o) if o <= Self::MAX_OFFSET => o,
                _ => {
                    return Err(Error::invalid(format!(
                        "offset must be a whole number from 0 to {}",
                        Self::MAX_OFFSET
                    )))
                }
            },
        };
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(text) => Self::bounded(text, "limit", Self::MAX_LIMIT)?,
        };
        Ok(Self { offset, limit })
    }

    /// `limit` rows (1 to [`PageRequest::MAX_LIMIT`], clamped) after skipping `offset`,
    /// for a use case that reads a list window by window.
    pub(crate) fn rows(offset: u64, limit: u32) -> Self {
        Self {
            offset: offset.min(Self::MAX_OFFSET),
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }

    /// A whole number from 1 to `max`, or the error naming `name` and the range.
    fn bounded(text: &str, name: &str, max: u32) -> Result<u32> {
        match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Error::invalid(format!(
                "{name} must be a whole number from 1 to {max}"
            ))),
        }
    }

    /// Rows to return, 1 to [`PageRequest::MAX_LIMIT`].
    pub fn limit(self) -> u32 {
        self.limit
    }

    /// Rows to skip. Past the end the page is simply empty.
    pub fn offset(self) -> u64 {
        self.offset
    }
}

/// One page of a list plus the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// Rows in the whole list, so a client can tell how many pages there are; at most
    /// [`COUNT_CAP`] when not [`Page::exact`].
    pub total: u64,
    /// This page's rows, in the list's order.
    pub items: Vec<T>,
    /// Whether `total` is the exact size of the list. A list whose filter no kept total
    /// covers (a time range, a search word) is counted only up to [`COUNT_CAP`] rows, so
    /// that counting it never costs a scan of the project: past that, `total` is the cap
    /// and this is `false`.
    pub exact: bool,
}

/// How far a list that no kept total covers is counted (see [`Page::exact`]).
pub const COUNT_CAP: u64 = 1_000;

impl<T> Page<T> {
    /// A page of a list whose size is known exactly.
    pub fn exact(total: u64, items: Vec<T>) -> Self {
        Self {
            total,
            items,
            exact: true,
        }
    }

    /// A page of a list counted only up to [`COUNT_CAP`]: `counted` rows were found, the
    /// page's own (at `offset`) included.
    pub fn counted(counted: u64, items: Vec<T>) -> Self {
        Self {
            total: counted.min(COUNT_CAP),
            items,
            exact: counted <= COUNT_CAP,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn absent_page_and_size_default_to_the_first_page_of_thirty() {
        let request = PageRequest::parse(None, None).unwrap();
        assert_eq!((request.offset(), request.limit()), (0, 30));
        assert_eq!(request, PageRequest::default());
    }

    #[test]
    fn parses_pages_from_one_and_sizes_from_one_to_a_hundred() {
        let cases = [
            (Some("1"), Some("1"), (0, 1)),
            (Some("2"), Some("50"), (50, 50)),
            (Some("999"), Some("100"), (99_800, 100)),
            (Some("4294967295"), None, (u64::from(u32::MAX - 1) * 30, 30)),
            (None, Some("10"), (0, 10)),
        ];
        for (page, size, expected) in cases {
            let request = PageRequest::parse(page, size).unwrap();
            assert_eq!(
                (request.offset(), request.limit()),
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
    fn a_window_defaults_to_ten_rows_from_the_first() {
        let request = PageRequest::window(None, None).unwrap();
        assert_eq!((request.offset(), request.limit()), (0, 10));
        let request = PageRequest::window(Some("25"), None).unwrap();
        assert_eq!((request.offset(), request.limit()), (25, 10));
        let request = PageRequest::window(None, Some("1000")).unwrap();
        assert_eq!((request.offset(), request.limit()), (0, 1000));
        let request = PageRequest::window(Some("9223372036854775807"), Some("1")).unwrap();
        assert_eq!(request.offset(), i64::MAX as u64);
    }

    #[test]
    fn a_window_refuses_negative_offsets_and_limits_out_of_range() {
        for (offset, limit, message) in [
            (
                Some("-1"),
                None,
                "offset must be a whole number from 0 to 9223372036854775807",
            ),
            (
                Some(""),
                None,
                "offset must be a whole number from 0 to 9223372036854775807",
            ),
            (
                Some("9223372036854775808"),
                None,
                "offset must be a whole number from 0 to 9223372036854775807",
            ),
            (
                None,
                Some("0"),
                "limit must be a whole number from 1 to 1000",
            ),
            (
                None,
                Some("1001"),
                "limit must be a whole number from 1 to 1000",
            ),
            (
                None,
                Some(""),
                "limit must be a whole number from 1 to 1000",
            ),
            (
                None,
                Some("1.5"),
                "limit must be a whole number from 1 to 1000",
            ),
        ] {
            assert_eq!(
                PageRequest::window(offset, limit),
                Err(Error::invalid(message)),
                "{offset:?} {limit:?}"
            );
        }
    }

    #[test]
    fn a_count_past_the_cap_is_the_cap_and_not_exact() {
        let page = Page::counted(COUNT_CAP + 1, vec![1]);
        assert_eq!((page.total, page.exact), (COUNT_CAP, false));
        let page = Page::counted(COUNT_CAP, vec![1]);
        assert_eq!((page.total, page.exact), (COUNT_CAP, true));
        let page = Page::<u8>::counted(0, vec![]);
        assert_eq!((page.total, page.exact), (0, true));
    }

    #[test]
    fn offset_of_the_last_possible_page_does_not_overflow() {
        let request = PageRequest::parse(Some("4294967295"), Some("100")).unwrap();
        assert_eq!(request.offset(), (u64::from(u32::MAX) - 1) * 100);
    }
}
