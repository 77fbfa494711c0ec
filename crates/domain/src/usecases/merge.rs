//! One page of a list across several projects (a main account with its sub-accounts),
//! merged from each project's own newest-first list. Each project's list is read through
//! its own indexes in growing chunks, and a next chunk only when the merge has taken all
//! of the last one: a page reads about `offset + limit` rows plus a chunk per project,
//! however large the projects, in a statement or a few per project. One statement over
//! all of them could not use an index for its order and would sort every row of every
//! project.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;

use crate::account::{AccountPage, AccountSelection};
use crate::error::{Error, Result};
use crate::ids::ProjectId;
use crate::page::{Page, PageRequest, COUNT_CAP};
use crate::principal::Principal;

use super::UseCases;

/// How far into a list across several projects a page may reach (`offset + limit`):
/// each project's list is read up to there, so the bound keeps a deep page's reads and
/// memory bounded. Older rows are reached one project at a time, or by narrowing the
/// list (a time range).
pub const MAX_MERGED_ROWS: u64 = 10_000;

impl UseCases {
    /// A page of a list of `project` or, as `accounts` selects, of its main account or
    /// sub-accounts (see [`crate::account`]), once the caller may read `project`: the
    /// lists of the projects selected, merged by [`merged_page`] (`fetch`, `key` and `id`
    /// as there). Errors: `PermissionDenied`, `InvalidParameter` (a page too deep across
    /// several projects), `Unavailable`.
    pub(crate) async fn across_accounts<T, K, I, F, Fut>(
        &self,
        principal: &Principal,
        project: &ProjectId,
        (accounts, page): (AccountSelection, PageRequest),
        fetch: F,
        key: impl Fn(&T) -> K,
        id: impl Fn(&T) -> I,
    ) -> Result<AccountPage<T>>
    where
        K: Ord,
        I: Eq + Hash,
        F: FnMut(ProjectId, PageRequest) -> Fut,
        Fut: Future<Output = Result<Page<T>>>,
    {
        let view = self.account_view(principal, project).await?;
        let projects = self.account_scope(principal, &view, accounts).await?;
        let page = merged_page(&projects, page, fetch, key, id).await?;
        Ok(AccountPage { view, page })
    }
}

/// One project's list, read chunk by chunk.
struct Source<T, I> {
    project: ProjectId,
    rows: VecDeque<T>,
    /// Rows read so far: where the next chunk starts.
    read: u64,
    /// Rows the next chunk asks for.
    chunk: u32,
    more: bool,
    /// The rows already taken, so that one a change between two reads shifted into the
    /// next chunk is not taken twice.
    taken: HashSet<I>,
}

impl<T, I: Eq + Hash> Source<T, I> {
    fn new(project: ProjectId, chunk: u32) -> Self {
        Self {
            project,
            rows: VecDeque::new(),
            read: 0,
            chunk,
            more: true,
            taken: HashSet::new(),
        }
    }

    /// Takes a chunk asked at `self.read` for `self.chunk` rows (a short one is the
    /// list's end), but for the rows already taken.
    fn take(&mut self, chunk: Page<T>, id: &impl Fn(&T) -> I) {
        self.more = chunk.items.len() == self.chunk as usize;
        self.read += chunk.items.len() as u64;
        self.rows = chunk
            .items
            .into_iter()
            .filter(|row| !self.taken.contains(&id(row)))
            .collect();
    }
}

/// The page `page` of the lists of `projects` merged newest first by `key` (what each
/// list is ordered by, descending); `id` tells one row from another. Rows of one project
/// keep their list's order, and of rows with the same key the earlier project's come
/// first, so pages never overlap or skip. The total is the sum of the lists' totals,
/// exact if all of them are, else capped at [`COUNT_CAP`] like each of theirs.
///
/// `fetch(project, rows)` reads a window of one project's list. Each project is first
/// asked for its share of `offset + limit` rows, then, whenever the merge has taken all
/// it read of a project, for twice as many as last time (at most 1,000). A row that a
/// change between two reads moved into the next window is not taken twice; one that a
/// change moved back out of it may be missed, as with any page read by offset. One
/// project's list is served as it is.
///
/// Errors: `InvalidParameter` when more than one project would be read past
/// [`MAX_MERGED_ROWS`]; whatever `fetch` returns.
pub(crate) async fn merged_page<T, K, I, F, Fut>(
    projects: &[ProjectId],
    page: PageRequest,
    mut fetch: F,
    key: impl Fn(&T) -> K,
    id: impl Fn(&T) -> I,
) -> Result<Page<T>>
where
    K: Ord,
    I: Eq + Hash,
    F: FnMut(ProjectId, PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    match projects {
        [] => return Ok(Page::exact(0, Vec::new())),
        [only] => return fetch(only.clone(), page).await,
        _ => {}
    }
    let wanted = page.offset().saturating_add(u64::from(page.limit()));
    if wanted > MAX_MERGED_ROWS {
        return Err(Error::invalid(format!(
            "a list across sub-accounts serves its first {MAX_MERGED_ROWS} rows (offset + \
             limit, or page × size); list one project at a time (account_type absent), or \
             narrow the list, to reach older ones"
        )));
    }
    let share = wanted.div_ceil(projects.len() as u64);
    let first = u32::try_from(share)
        .unwrap_or(PageRequest::MAX_LIMIT)
        .clamp(1, PageRequest::MAX_LIMIT);
    let mut total = 0u64;
    let mut exact = true;
    let mut sources = Vec::with_capacity(projects.len());
    for project in projects {
        let mut source = Source::new(project.clone(), first);
        let chunk = fetch(project.clone(), PageRequest::rows(0, first)).await?;
        total = total.saturating_add(chunk.total);
        exact &= chunk.exact;
        source.take(chunk, &id);
        sources.push(source);
    }
    let mut items = Vec::with_capacity(page.limit() as usize);
    let mut taken = 0u64;
    let mut drained: Option<usize> = None;
    while taken < wanted {
        if let Some(source) = drained.take().and_then(|i| sources.get_mut(i)) {
            while source.rows.is_empty() && source.more {
                source.chunk = source.chunk.saturating_mul(2).min(PageRequest::MAX_LIMIT);
                let next = fetch(
                    source.project.clone(),
                    PageRequest::rows(source.read, source.chunk),
                );
                source.take(next.await?, &id);
            }
        }
        let newest = sources
            .iter()
            .enumerate()
            .filter_map(|(i, source)| source.rows.front().map(|row| (i, key(row))))
            .max_by(|(i, a), (j, b)| a.cmp(b).then_with(|| j.cmp(i)))
            .map(|(i, _)| i);
        let Some((index, source)) = newest.and_then(|i| Some((i, sources.get_mut(i)?))) else {
            break;
        };
        let Some(row) = source.rows.pop_front() else {
            break;
        };
        source.taken.insert(id(&row));
        if source.rows.is_empty() && source.more {
            drained = Some(index);
        }
        if taken >= page.offset() {
            items.push(row);
        }
        taken += 1;
    }
    Ok(Page {
        total: if exact { total } else { total.min(COUNT_CAP) },
        items,
        exact,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    fn project(name: &str) -> ProjectId {
        ProjectId::parse(name).unwrap()
    }

    /// Lists of (key, label) newest first per project, served in windows; every window
    /// asked for is recorded. A row may be set to arrive at the top of a project's list
    /// once its first window is served, as a change between two reads.
    struct Lists {
        rows: RefCell<HashMap<ProjectId, Vec<(u32, String)>>>,
        exact: bool,
        asked: RefCell<Vec<(String, u64, u32)>>,
        arriving: RefCell<Option<(ProjectId, (u32, String))>>,
    }

    impl Lists {
        fn new(lists: &[(&str, &[u32])]) -> Self {
            Self {
                rows: RefCell::new(
                    lists
                        .iter()
                        .map(|(name, keys)| {
                            let mut keys = keys.to_vec();
                            keys.sort_unstable_by(|a, b| b.cmp(a));
                            let rows = keys
                                .iter()
                                .enumerate()
                                .map(|(i, key)| (*key, format!("{name}#{i}")))
                                .collect();
                            (project(name), rows)
                        })
                        .collect(),
                ),
                exact: true,
                asked: RefCell::new(Vec::new()),
                arriving: RefCell::new(None),
            }
        }

        fn window(&self, project: &ProjectId, rows: PageRequest) -> Page<(u32, String)> {
            self.asked
                .borrow_mut()
                .push((project.to_string(), rows.offset(), rows.limit()));
            let mut lists = self.rows.borrow_mut();
            let all = lists.get_mut(project).unwrap();
            let window = Page {
                total: all.len() as u64,
                items: all
                    .iter()
                    .skip(rows.offset() as usize)
                    .take(rows.limit() as usize)
                    .cloned()
                    .collect(),
                exact: self.exact,
            };
            let mut arriving = self.arriving.borrow_mut();
            if arriving.as_ref().is_some_and(|(to, _)| to == project) {
                if let Some((_, row)) = arriving.take() {
                    all.insert(0, row);
                }
            }
            window
        }

        fn merged(&self, names: &[&str], page: PageRequest) -> Result<Page<(u32, String)>> {
            let projects: Vec<ProjectId> = names.iter().map(|n| project(n)).collect();
            futures_lite(merged_page(
                &projects,
                page,
                |project, rows| {
                    let window = self.window(&project, rows);
                    async move { Ok(window) }
                },
                |row| row.0,
                |row| row.1.clone(),
            ))
        }

        /// Every row of the projects, merged by brute force: key descending, then the
        /// earlier project, then the project's own order.
        fn expected(&self, names: &[&str]) -> Vec<(u32, String)> {
            let mut all: Vec<(usize, usize, (u32, String))> = names
                .iter()
                .enumerate()
                .flat_map(|(p, name)| {
                    self.rows.borrow()[&project(name)]
                        .clone()
                        .into_iter()
                        .enumerate()
                        .map(move |(i, row)| (p, i, row))
                })
                .collect();
            all.sort_by(|a, b| b.2 .0.cmp(&a.2 .0).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
            all.into_iter().map(|(_, _, row)| row).collect()
        }
    }

    /// Runs a future that never waits (the lists answer at once).
    fn futures_lite<F: Future>(future: F) -> F::Output {
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};
        let mut future = pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the lists answer at once"),
        }
    }

    #[test]
    fn every_window_of_the_merge_is_the_brute_force_order() {
        let lists = Lists::new(&[
            ("a", &[9, 7, 7, 5, 3, 1]),
            ("b", &[8, 7, 6, 2]),
            ("c", &[]),
            ("d", &[10, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ]);
        let names = ["a", "b", "c", "d"];
        let expected = lists.expected(&names);
        for offset in 0..=expected.len() as u64 + 1 {
            for limit in 1..=6 {
                let page = lists
                    .merged(&names, PageRequest::rows(offset, limit))
                    .unwrap();
                let want: Vec<_> = expected
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect();
                assert_eq!(page.items, want, "offset {offset} limit {limit}");
                assert_eq!(page.total, expected.len() as u64);
                assert!(page.exact);
            }
        }
    }

    #[test]
    fn one_project_is_served_as_it_is_and_none_is_an_empty_list() {
        let lists = Lists::new(&[("a", &[3, 2, 1])]);
        let page = lists.merged(&["a"], PageRequest::rows(20_000, 5)).unwrap();
        assert!(page.items.is_empty());
        assert_eq!(*lists.asked.borrow(), vec![("a".to_owned(), 20_000, 5)]);
        let none = lists.merged(&[], PageRequest::rows(0, 5)).unwrap();
        assert_eq!((none.total, none.items.len(), none.exact), (0, 0, true));
    }

    #[test]
    fn a_project_is_read_in_chunks_only_as_far_as_the_page() {
        let many: Vec<u32> = (0..3_000).collect();
        let lists = Lists::new(&[("a", &many), ("b", &[5_000])]);
        let page = lists.merged(&["a", "b"], PageRequest::rows(0, 10)).unwrap();
        assert_eq!(page.items.len(), 10);
        assert_eq!(page.total, 3_001);
        assert_eq!(
            *lists.asked.borrow(),
            vec![
                ("a".to_owned(), 0, 5),
                ("b".to_owned(), 0, 5),
                ("a".to_owned(), 5, 10)
            ]
        );
        let deep = Lists::new(&[("a", &many), ("b", &[])]);
        let page = deep
            .merged(&["a", "b"], PageRequest::rows(2_500, 500))
            .unwrap();
        assert_eq!(page.items, deep.expected(&["a", "b"])[2_500..].to_vec());
        assert_eq!(
            *deep.asked.borrow(),
            vec![
                ("a".to_owned(), 0, 1_000),
                ("b".to_owned(), 0, 1_000),
                ("a".to_owned(), 1_000, 1_000),
                ("a".to_owned(), 2_000, 1_000),
            ]
        );
    }

    #[test]
    fn a_row_a_change_shifts_into_the_next_window_is_not_taken_twice() {
        let keys: Vec<u32> = (91..=100).collect();
        let lists = Lists::new(&[("a", &keys), ("b", &[50])]);
        *lists.arriving.borrow_mut() = Some((project("a"), (200, "a#new".to_owned())));
        let page = lists.merged(&["a", "b"], PageRequest::rows(0, 12)).unwrap();
        let got: Vec<u32> = page.items.iter().map(|row| row.0).collect();
        assert_eq!(got, [100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 50]);
        assert_eq!(
            *lists.asked.borrow(),
            vec![
                ("a".to_owned(), 0, 6),
                ("b".to_owned(), 0, 6),
                ("a".to_owned(), 6, 12)
            ]
        );
    }

    #[test]
    fn a_page_past_the_bound_is_refused_before_anything_is_read() {
        let lists = Lists::new(&[("a", &[1]), ("b", &[2])]);
        let refused = lists.merged(&["a", "b"], PageRequest::rows(MAX_MERGED_ROWS, 1));
        assert!(
            matches!(&refused, Err(Error::InvalidParameter(m)) if m.contains("10000")),
            "{refused:?}"
        );
        assert!(lists.asked.borrow().is_empty());
        let last = lists.merged(&["a", "b"], PageRequest::rows(MAX_MERGED_ROWS - 1, 1));
        assert!(last.unwrap().items.is_empty());
    }

    #[test]
    fn counted_totals_add_up_to_the_cap_and_are_not_exact() {
        let mut lists = Lists::new(&[("a", &[1; 700]), ("b", &[2; 700])]);
        lists.exact = false;
        let page = lists.merged(&["a", "b"], PageRequest::rows(0, 3)).unwrap();
        assert_eq!((page.total, page.exact), (COUNT_CAP, false));
    }
}
