//! Which record a YCSB request asks for: uniform, zipfian, or latest.
//!
//! Real traffic is skewed: a few keys are asked for far more often than the rest. YCSB models
//! that with a *zipfian* distribution, where the record of popularity rank `r` (0 = most popular)
//! is asked for with probability proportional to `1 / (r + 1)^θ`, with `θ = 0.99`.
//!
//! The generator below follows the method of Gray, Sundaresan, Englert, Baclawski and
//! Weinberger, *Quickly Generating Billion-Record Synthetic Databases* (SIGMOD 1994), section 4,
//! which is also what YCSB's `ZipfianGenerator` implements (Cooper et al., *Benchmarking Cloud
//! Serving Systems with YCSB*, SoCC 2010). With `ζ(n) = Σ_{i=1..n} 1/i^θ`, `α = 1/(1−θ)` and
//! `η = (1 − (2/n)^(1−θ)) / (1 − ζ(2)/ζ(n))`, draw `u` uniform in `[0, 1)`; then the rank is
//! `0` if `u·ζ(n) < 1`, `1` if `u·ζ(n) < 1 + 0.5^θ`, and `⌊n · (η·u − η + 1)^α⌋` otherwise.
//! Written here from those formulas; no code was copied.
//!
//! Two variants sit on top, as in YCSB:
//! - **scrambled zipfian**: the rank goes through a hash before it becomes a record number, so
//!   the popular records are spread over the key space instead of being the first keys;
//! - **latest**: rank 0 is the most recently inserted record (workload D: read what was just
//!   written).

use rkv_cli::load::SplitMix64;

/// YCSB's default skew.
pub const ZIPFIAN_THETA: f64 = 0.99;

/// How requests pick a record among the `n` that exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every record equally likely.
    Uniform,
    /// Scrambled zipfian: a few records, spread over the key space, are hot.
    Zipfian,
    /// The most recently inserted records are hot.
    Latest,
}

impl Distribution {
    /// The name YCSB uses (`requestdistribution=`).
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Zipfian => "zipfian",
            Distribution::Latest => "latest",
        }
    }
}

/// Zipfian ranks over `0..n`, where `n` may grow between draws (inserts add records).
#[derive(Clone, Debug)]
pub struct Zipfian {
    /// The skew θ.
    theta: f64,
    /// `1 / (1 − θ)`.
    alpha: f64,
    /// `ζ(2)`.
    zeta2: f64,
    /// How many items `zeta_n` sums over.
    n: u64,
    /// `ζ(n)`.
    zeta_n: f64,
    /// `η` for the current `n`.
    eta: f64,
}

impl Zipfian {
    /// A generator over `n` items (`n ≥ 1`) with skew `theta` (`0 < θ < 1`).
    pub fn new(n: u64, theta: f64) -> Self {
        let mut z = Zipfian {
            theta,
            alpha: 1.0 / (1.0 - theta),
            zeta2: 1.0 + 0.5f64.powf(theta),
            n: 0,
            zeta_n: 0.0,
            eta: 0.0,
        };
        z.grow_to(n.max(1));
        z
    }

    /// Extends `ζ(n)` term by term to a larger `n` (never shrinks: a smaller `n` only clamps).
    fn grow_to(&mut self, n: u64) {
        if n <= self.n {
            return;
        }
        for i in self.n + 1..=n {
            self.zeta_n += 1.0 / (i as f64).powf(self.theta);
        }
        self.n = n;
        self.eta =
            (1.0 - (2.0 / n as f64).powf(1.0 - self.theta)) / (1.0 - self.zeta2 / self.zeta_n);
    }

    /// A rank in `0..n` (0 is the most popular), drawn with `rng`.
    pub fn rank(&mut self, n: u64, rng: &mut SplitMix64) -> u64 {
        let n = n.max(1);
        self.grow_to(n);
        let u = unit(rng);
        let uz = u * self.zeta_n;
        let rank = if uz < 1.0 {
            0
        } else if uz < 1.0 + 0.5f64.powf(self.theta) {
            1
        } else {
            (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64
        };
        rank.min(n - 1)
    }
}

/// A uniform draw in `[0, 1)` with 53 bits of precision.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A 64-bit mixing function (the SplitMix64 finalizer), used to scatter zipfian ranks.
fn scatter(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Picks record numbers in `0..n` by one [`Distribution`].
#[derive(Clone, Debug)]
pub struct Chooser {
    /// Which distribution.
    distribution: Distribution,
    /// The zipfian generator (unused for uniform).
    zipfian: Zipfian,
    /// The random source.
    rng: SplitMix64,
}

impl Chooser {
    /// A chooser over (initially) `n` records, seeded with `seed`.
    pub fn new(distribution: Distribution, n: u64, seed: u64) -> Self {
        Chooser {
            distribution,
            zipfian: Zipfian::new(n, ZIPFIAN_THETA),
            rng: SplitMix64::new(seed),
        }
    }

    /// A record number in `0..n`, where `n` is the number of records that exist now.
    pub fn next(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        match self.distribution {
            Distribution::Uniform => self.rng.below(n),
            Distribution::Zipfian => scatter(self.zipfian.rank(n, &mut self.rng)) % n,
            Distribution::Latest => n - 1 - self.zipfian.rank(n, &mut self.rng),
        }
    }

    /// The random source, for choices that are not record numbers (operation mix, scan length).
    pub fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(distribution: Distribution, n: u64, draws: usize) -> Vec<u64> {
        let mut chooser = Chooser::new(distribution, n, 7);
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            counts[chooser.next(n) as usize] += 1;
        }
        counts
    }

    #[test]
    fn every_draw_is_in_range() {
        for d in [
            Distribution::Uniform,
            Distribution::Zipfian,
            Distribution::Latest,
        ] {
            let mut chooser = Chooser::new(d, 1, 1);
            for n in 1..200 {
                assert!(chooser.next(n) < n);
            }
        }
    }

    #[test]
    fn zipfian_rank_zero_gets_its_share() {
        // P(rank 0) = 1 / ζ(n); for n = 1000 and θ = 0.99, ζ(n) ≈ 7.4, so about 13.5 %.
        let mut z = Zipfian::new(1000, ZIPFIAN_THETA);
        let mut rng = SplitMix64::new(3);
        let zeros = (0..100_000).filter(|_| z.rank(1000, &mut rng) == 0).count();
        let expected = 100_000.0 / z.zeta_n;
        assert!(
            (zeros as f64 - expected).abs() < expected * 0.05,
            "{zeros} vs {expected}"
        );
    }

    #[test]
    fn growing_n_gives_the_same_zeta_as_starting_there() {
        let mut grown = Zipfian::new(10, ZIPFIAN_THETA);
        grown.grow_to(5000);
        let direct = Zipfian::new(5000, ZIPFIAN_THETA);
        assert!((grown.zeta_n - direct.zeta_n).abs() < 1e-9);
        assert!((grown.eta - direct.eta).abs() < 1e-9);
    }

    #[test]
    fn skewed_distributions_are_skewed_and_latest_favours_new_records() {
        let uniform = counts(Distribution::Uniform, 100, 50_000);
        let zipf = counts(Distribution::Zipfian, 100, 50_000);
        let latest = counts(Distribution::Latest, 100, 50_000);
        let max = |c: &[u64]| c.iter().copied().max().unwrap_or(0);
        assert!(max(&uniform) < 1_000);
        assert!(max(&zipf) > 5_000);
        assert_eq!(
            latest
                .iter()
                .enumerate()
                .max_by_key(|(_, c)| **c)
                .map(|(i, _)| i),
            Some(99)
        );
    }
}
