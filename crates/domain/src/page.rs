//! Pagination of list queries.

use crate::error::{Error, Result};

/// Which page of a list to return. Pages start at 1; sizes are 1 to 100.
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
    pub const DEFAULT_SIZE: u32 = 30;
    pub const MAX_SIZE: u32 = 100;

    /// Parses the `page` and `size` query parameters, applying the defaults when absent.
    /// Out-of-range values are rejected rather than clamped, so a client bug shows.
    pub fn parse(page: Option<&str>, size: Option<&str>) -> Result<Self> {
        let page = match page {
            None => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(p) if p >= 1 => p,
                _ => return Err(Error::invalid("page must be a whole number of at least 1")),
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

    pub fn page(self) -> u32 {
        self.page
    }

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
    pub total: u64,
    pub items: Vec<T>,
}
