//! The crash test: kill the stage's own binary with SIGKILL in the middle of writes.
//!
//! The test starts `<binary> --dir D --sync MODE shell`, streams random puts and deletes into it
//! and counts the `OK` replies. After a random number of them it kills the process — typically
//! in the middle of writing a record, since dozens of commands are in flight in the pipe. It then
//! opens the directory in-process and checks that the store equals the model after *some prefix*
//! of the commands sent that includes every acknowledged one. That is stronger than "nothing
//! acknowledged was lost": nothing unacknowledged may appear out of order, and no value may be
//! torn. Several rounds run on the same directory, so recovery also recovers from a recovery.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{collect, open};
use crate::{KvStore, Model, SyncMode};

const ROUNDS: u64 = 4;
const COMMANDS_PER_ROUND: usize = 400;

/// A tiny deterministic generator, so a failing round can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Put(String, String),
    Delete(String),
}

impl Mutation {
    fn line(&self) -> String {
        match self {
            Mutation::Put(k, v) if v.is_empty() => format!("put {k} \"\"\n"),
            Mutation::Put(k, v) => format!("put {k} {v}\n"),
            Mutation::Delete(k) => format!("del {k}\n"),
        }
    }

    fn apply(&self, model: &mut Model) {
        match self {
            Mutation::Put(k, v) => model.put(k.as_bytes(), v.as_bytes()),
            Mutation::Delete(k) => model.delete(k.as_bytes()),
        }
    }
}

fn commands(rng: &mut SplitMix, round: u64, model: &Model) -> Vec<Mutation> {
    let live: Vec<String> = model
        .scan(None, None)
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    (0..COMMANDS_PER_ROUND)
        .map(|i| {
            let roll = rng.below(100);
            if roll < 10 && !live.is_empty() {
                Mutation::Delete(live[rng.below(live.len() as u64) as usize].clone())
            } else {
                let key = if roll < 20 && !live.is_empty() {
                    live[rng.below(live.len() as u64) as usize].clone()
                } else {
                    format!("r{round}-k{i:05}")
                };
                let len = match rng.below(10) {
                    0 => 0,
                    1..=6 => rng.below(200),
                    _ => 1000 + rng.below(4000),
                } as usize;
                let fill = (b'a' + (rng.below(26) as u8)) as char;
                let value = format!("{key}-{}", fill.to_string().repeat(len));
                Mutation::Put(key, if len == 0 { String::new() } else { value })
            }
        })
        .collect()
}

/// How many rounds a crash test runs, and from which seed.
#[derive(Clone, Copy, Debug)]
pub struct CrashPlan {
    /// Rounds of start, write, SIGKILL, reopen and check, all on the same directory.
    pub rounds: u64,
    /// Seed of the generator that picks the commands and the kill points.
    pub seed: u64,
}

impl Default for CrashPlan {
    /// What [`crash_test`] runs: four rounds.
    fn default() -> Self {
        CrashPlan {
            rounds: ROUNDS,
            seed: 0x5EED,
        }
    }
}

/// Runs the crash test for `S` against its binary in the given sync mode.
pub fn crash_test<S: KvStore>(
    options: S::Options,
    binary: &Path,
    sync: SyncMode,
    cli_args: &[&str],
) {
    crash_test_with::<S>(
        options,
        binary,
        sync,
        cli_args,
        CrashPlan::default(),
        &mut |_, _, _| {},
    );
}

/// The crash test with a chosen [`CrashPlan`]. After each round's check, `after_reopen` gets
/// the directory, the reopened store and the model it was found equal to, for a stage's own
/// checks; if it writes to the store, it must apply the same writes to the model (the next
/// round checks them).
pub fn crash_test_with<S: KvStore>(
    options: S::Options,
    binary: &Path,
    sync: SyncMode,
    cli_args: &[&str],
    plan: CrashPlan,
    after_reopen: &mut dyn FnMut(&Path, &mut S, &mut Model),
) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut model = Model::new();
    let mut rng = SplitMix(plan.seed ^ (sync == SyncMode::Always) as u64);
    for round in 0..plan.rounds {
        let writes = commands(&mut rng, round, &model);
        let kill_after = 20 + rng.below(COMMANDS_PER_ROUND as u64 - 120) as usize;

        let mut child = Command::new(binary)
            .arg("--dir")
            .arg(dir.path())
            .arg("--sync")
            .arg(sync.to_string())
            .args(cli_args)
            .arg("shell")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut stdin = child.stdin.take().expect("child stdin");
        let input: String = writes.iter().map(Mutation::line).collect();
        // The writer blocks once the pipe is full, so only a pipe's worth of commands is ever in
        // flight; it fails with a broken pipe when the child dies, which is expected.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut replies = BufReader::new(child.stdout.take().expect("child stdout"));
        let mut acknowledged = 0;
        let mut line = String::new();
        while acknowledged < kill_after {
            line.clear();
            if replies.read_line(&mut line).expect("read a reply") == 0 {
                let mut stderr = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                panic!("round {round}: the shell exited after {acknowledged} replies: {stderr}");
            }
            assert_eq!(line.trim_end(), "OK", "round {round}: reply {acknowledged}");
            acknowledged += 1;
        }
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        // Replies already in the pipe were printed before the kill: they are acknowledged too.
        let mut rest = String::new();
        let _ = replies.read_to_string(&mut rest);
        acknowledged += rest.lines().filter(|l| *l == "OK").count();
        let _ = writer.join();

        let mut store = open::<S>(dir.path(), options.clone());
        let found = collect(&mut store, None, None);
        let mut candidate = model.clone();
        for write in &writes[..acknowledged] {
            write.apply(&mut candidate);
        }
        let mut applied = acknowledged;
        while candidate.scan(None, None) != found {
            assert!(
                applied < writes.len(),
                "round {round} ({sync}): after SIGKILL the store matches no prefix of the {} \
                 commands that includes the {acknowledged} acknowledged ones",
                writes.len()
            );
            writes[applied].apply(&mut candidate);
            applied += 1;
        }
        model = candidate;
        after_reopen(dir.path(), &mut store, &mut model);
        drop(store);
    }
}
