//! The money model (`crate::testing::model`) over the in-memory store: any interleaving of
//! requests, runs, settlements, charge-service answers and crashes leaves books that add up.
//! The store's own tests run the same model over SQLite and MariaDB.

use proptest::prelude::*;

use crate::testing::model::{self, play, step};
use crate::testing::{MemoryStore, StorePorts, World};

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn whatever_happens_the_books_add_up(steps in proptest::collection::vec(step(), 1..40)) {
        let store = MemoryStore::new();
        let world = World::over(StorePorts::memory(&store), model::policy(), model::plans(), model::start());
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(play(&world, steps));
    }
}
