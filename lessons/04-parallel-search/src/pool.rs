//! A fixed set of worker threads that live as long as the store: the threads are started once,
//! when the store opens, and every `get` hands them work instead of starting threads of its own.
//!
//! Why not spawn threads per `get`? Starting a thread costs tens of microseconds (a kernel task,
//! a stack, a scheduler decision) — more than probing a few indexed tables whose pages are in
//! memory. A pool pays that once. What is left per `get` is a *hand-off*: putting a job on a
//! channel, waking a sleeping thread, and waiting for its reply. That is still not free — about
//! 25 µs on the two-core virtual machine the chapter's numbers come from.
//!
//! The pool is deliberately plain — `std::thread` and `std::sync::mpsc`, no crate:
//! - every worker owns the receiving end of its **own** channel, so the caller decides which
//!   worker runs which job (one run of tables per worker, see [`parallel`](crate::parallel)),
//!   and no lock is shared between workers: there is no mutex to poison;
//! - a job is a boxed closure; whatever it must report, it sends on a channel it carries;
//! - a job that panics is caught, so a buggy table cannot kill a worker for every later `get`
//!   (its reply channel is dropped while the panic unwinds, and the caller sees a job that never
//!   answered — an error, not a hang);
//! - dropping the pool closes every channel, each worker leaves its loop, and `Drop` joins them
//!   all: when the store is gone, so are its threads.

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};

use rkv_contract::{Error, Result};

/// A piece of work for a worker.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Worker threads running in this process, in every pool. A test reads it to prove that
/// dropping a store ends its threads.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// How many pool workers are running in this process right now (all pools together).
pub fn running_workers() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

// ANCHOR: pool
/// A fixed set of threads, each waiting on its own channel for jobs.
pub struct WorkerPool {
    /// The running workers; `workers[i]` is named `rkv-search-{i + 1}`.
    workers: Vec<Worker>,
}

/// One thread of the pool and the sending end of its channel.
struct Worker {
    /// Where jobs for this worker go. `None` once the pool is shutting down.
    jobs: Option<Sender<Job>>,
    /// The thread, joined when the pool is dropped.
    thread: Option<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts up to `threads` workers. If the operating system refuses a thread, the pool keeps
    /// the ones it has (possibly none — then every search runs on the caller's thread).
    pub fn new(threads: usize) -> Self {
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            match Worker::start(format!("rkv-search-{}", i + 1)) {
                Ok(worker) => workers.push(worker),
                Err(_) => break,
            }
        }
        WorkerPool { workers }
    }

    /// Runs `job` on worker `index`. Fails if that worker is gone, which only a bug can cause:
    /// the caller turns it into an error for this `get`, never a panic.
    pub fn submit(&self, index: usize, job: Job) -> Result<()> {
        let sent = self
            .workers
            .get(index)
            .and_then(|worker| worker.jobs.as_ref())
            .map(|jobs| jobs.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(worker_lost(index)),
        }
    }
}

impl Worker {
    fn start(name: String) -> io::Result<Worker> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        RUNNING.fetch_add(1, Ordering::SeqCst);
        let spawned = thread::Builder::new().name(name).spawn(move || {
            let _running = RunningGuard;
            // Ends when every `Sender` is gone, that is, when the pool is dropped.
            for job in inbox {
                // A panicking job must not take the worker down with it.
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
            }
        });
        match spawned {
            Ok(thread) => Ok(Worker {
                jobs: Some(jobs),
                thread: Some(thread),
            }),
            Err(e) => {
                RUNNING.fetch_sub(1, Ordering::SeqCst);
                Err(e)
            }
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        // First close every channel, so that all workers wind down at the same time…
        for worker in &mut self.workers {
            worker.jobs = None;
        }
        // …then wait for each. A worker finishes the job it is running, finds its channel
        // closed, and returns. (A join error would mean the thread panicked outside a job; there
        // is nothing left to clean up either way, and a destructor must not panic.)
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}
// ANCHOR_END: pool

impl WorkerPool {
    /// How many workers the pool has.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// True when the pool could not start any worker.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers.len())
            .finish()
    }
}

/// Counts a worker as running for as long as its thread function has not returned — even if it
/// returns by unwinding.
struct RunningGuard;

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The error for a search job that never reported back.
pub(crate) fn worker_lost(index: usize) -> Error {
    Error::io(
        format!("<search worker rkv-search-{}>", index + 1),
        io::Error::other(
            "the search job stopped without an answer (it panicked or its worker is gone)",
        ),
    )
}
