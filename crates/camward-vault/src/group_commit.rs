//! Group commit: writes that arrive while one is in progress wait and are then made together, as
//! one write.
//!
//! The OS keychain serves one call at a time and every write makes it rewrite its keyring file
//! (`cargo bench -p camward-vault --bench keychain_costs`: ~6–9 ms a write on gnome-keyring), so
//! a hundred cameras each storing a new password before sending it would queue behind each
//! other for most of a second. Databases solve the same problem for their log syncs this way: the
//! first writer writes alone; whoever arrives meanwhile queues, and the next free writer takes the
//! whole queue in one go. No writer waits for more than the write in progress plus its own batch,
//! and a lone writer (one camera) never waits at all.
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// A queue of items to write, made in batches by [`GroupCommit::submit`].
pub(crate) struct GroupCommit<T, E> {
    state: Mutex<State<T, E>>,
    turn: Condvar,
}

struct State<T, E> {
    /// A batch is being written now.
    writing: bool,
    /// Items waiting for the next batch, with their tickets.
    queue: Vec<(u64, T)>,
    next_ticket: u64,
    /// How the batches written so far ended, for the members that have not looked yet.
    done: HashMap<u64, Ended<E>>,
}

/// How a member's batch ended.
enum Ended<E> {
    Written,
    Failed(E),
    /// The write panicked; there is no error value to share.
    Lost,
}

impl<T, E> Default for GroupCommit<T, E> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                writing: false,
                queue: Vec::new(),
                next_ticket: 0,
                done: HashMap::new(),
            }),
            turn: Condvar::new(),
        }
    }
}

impl<T, E> GroupCommit<T, E> {
    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        // The state is consistent between statements, so a panic elsewhere leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `item`, together with every item submitted while the write before it was in
    /// progress. Blocks until the batch holding `item` is written. Whichever member of a batch
    /// finds the writer free calls `write` with the whole batch (in the order submitted). The
    /// leader gets `write`'s result; the other members get `Ok`, or `share(Some(&error))` when it
    /// failed, or `share(None)` when it panicked.
    pub(crate) fn submit(
        &self,
        item: T,
        write: impl FnOnce(Vec<T>) -> Result<(), E>,
        share: impl Fn(Option<&E>) -> E,
    ) -> Result<(), E> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, item));
        loop {
            match state.done.remove(&ticket) {
                Some(Ended::Written) => return Ok(()),
                Some(Ended::Failed(e)) => return Err(e),
                Some(Ended::Lost) => return Err(share(None)),
                None => {}
            }
            if !state.writing {
                // This member leads: its own item is in the queue it takes (an item leaves the
                // queue only in a batch, and a batch's members all get a result before the
                // writer is free again).
                state.writing = true;
                let (tickets, batch): (Vec<u64>, Vec<T>) = state.queue.drain(..).unzip();
                drop(state);
                let mut leading = Leading {
                    commit: self,
                    others: tickets.into_iter().filter(|&t| t != ticket).collect(),
                    finished: false,
                };
                let result = write(batch);
                leading.finish(result.as_ref().err(), &share);
                return result;
            }
            state = self
                .turn
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

/// The batch a member is writing. If the write panics, the batch's other members are woken with
/// [`Ended::Lost`] instead of waiting forever, and the writer is free again.
struct Leading<'a, T, E> {
    commit: &'a GroupCommit<T, E>,
    /// The tickets of the batch's other members.
    others: Vec<u64>,
    finished: bool,
}

impl<T, E> Leading<'_, T, E> {
    /// Hands every other member its result: written, or (a copy of) the write's error.
    fn finish(&mut self, error: Option<&E>, share: &impl Fn(Option<&E>) -> E) {
        let mut state = self.commit.lock();
        for &ticket in &self.others {
            let ended = match error {
                None => Ended::Written,
                Some(e) => Ended::Failed(share(Some(e))),
            };
            state.done.insert(ticket, ended);
        }
        state.writing = false;
        self.finished = true;
        drop(state);
        self.commit.turn.notify_all();
    }
}

impl<T, E> Drop for Leading<'_, T, E> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.commit.lock();
        for &ticket in &self.others {
            state.done.insert(ticket, Ended::Lost);
        }
        state.writing = false;
        drop(state);
        self.commit.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::*;

    type Commit = GroupCommit<u32, String>;

    fn share(e: Option<&String>) -> String {
        e.map_or_else(|| "lost".to_owned(), |e| format!("shared: {e}"))
    }

    type Write = dyn Fn(Vec<u32>) -> Result<(), String> + Send + Sync;

    /// Items `0..n` submitted at once, item 0 first and the others 10 ms later (while its write,
    /// which `write` makes last 30 ms, is in progress). Each submitter's result, or its panic.
    fn at_once(n: u32, write: Arc<Write>) -> Vec<std::thread::Result<Result<(), String>>> {
        let commit = Arc::new(Commit::default());
        let start = Arc::new(Barrier::new(n as usize));
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (commit, start, write) = (commit.clone(), start.clone(), write.clone());
                std::thread::spawn(move || {
                    start.wait();
                    if i > 0 {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        commit.submit(
                            i,
                            |batch| {
                                std::thread::sleep(Duration::from_millis(30));
                                write(batch)
                            },
                            share,
                        )
                    }))
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        // And the writer is free again, whatever happened.
        commit.submit(99, |_| Ok(()), share).unwrap();
        results
    }

    #[test]
    fn a_lone_item_is_written_alone_at_once() {
        let commit = Commit::default();
        let mut batches = Vec::new();
        commit
            .submit(
                7,
                |batch| {
                    batches.push(batch);
                    Ok(())
                },
                share,
            )
            .unwrap();
        assert_eq!(batches, vec![vec![7]]);
    }

    /// Sixteen writers at once against a write that takes 30 ms: the first writes alone, the
    /// fifteen that arrive meanwhile go in the next batch, and each item is written exactly once.
    #[test]
    fn items_arriving_during_a_write_go_together_in_the_next_one() {
        let batches = Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
        let seen = batches.clone();
        let results = at_once(
            16,
            Arc::new(move |batch| {
                seen.lock().unwrap().push(batch);
                Ok(())
            }),
        );
        assert!(results.iter().all(|r| matches!(r, Ok(Ok(())))));
        let batches = batches.lock().unwrap();
        assert_eq!(batches[0], vec![0], "{batches:?}");
        assert_eq!(
            batches.len(),
            2,
            "the fifteen later ones in one batch: {batches:?}"
        );
        let mut all: Vec<u32> = batches.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..16).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_write_fails_every_member_of_its_batch_and_no_other() {
        let writes = AtomicUsize::new(0);
        let results = at_once(
            6,
            Arc::new(move |batch| {
                // The first batch (item 0 alone) is written; the second fails.
                if writes.fetch_add(1, Ordering::SeqCst) == 0 {
                    Ok(())
                } else {
                    Err(format!("keychain refused {} items", batch.len()))
                }
            }),
        );
        let results: Vec<Result<(), String>> = results.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(results[0], Ok(()));
        let failed: Vec<&String> = results[1..]
            .iter()
            .map(|r| r.as_ref().unwrap_err())
            .collect();
        // One of them led the failed batch and got the error itself; the others a copy.
        assert_eq!(
            failed
                .iter()
                .filter(|e| **e == "keychain refused 5 items")
                .count(),
            1,
            "{failed:?}"
        );
        assert_eq!(
            failed
                .iter()
                .filter(|e| **e == "shared: keychain refused 5 items")
                .count(),
            4,
            "{failed:?}"
        );
    }

    #[test]
    fn a_panicking_write_wakes_its_batch_and_frees_the_writer() {
        let results = at_once(
            4,
            Arc::new(|batch| {
                assert!(batch.len() == 1, "a batch of {} panics", batch.len());
                Ok(())
            }),
        );
        assert_eq!(results[0].as_ref().unwrap(), &Ok(()));
        let panicked = results.iter().filter(|r| r.is_err()).count();
        let lost = results
            .iter()
            .filter(|r| matches!(r, Ok(Err(e)) if e == "lost"))
            .count();
        assert_eq!(
            (panicked, lost),
            (1, 2),
            "the leader panicked, its two followers were told"
        );
    }
}
