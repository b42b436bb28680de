//! Small random helpers on the seeded generator: weighted picks, log-normal durations,
//! geometric counts and random tokens (click ids).

use rand::rngs::StdRng;
use rand::Rng;

/// Index of an item picked with probability proportional to `weight(item)`. Empty or
/// all-zero lists give 0.
pub(crate) fn pick_index<T>(rng: &mut StdRng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    if items.is_empty() || total <= 0.0 {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        x -= weight(item);
        if x < 0.0 {
            return i;
        }
    }
    items.len() - 1
}

/// An item picked with probability proportional to `weight(item)`; `items` must not be empty.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    &items[pick_index(rng, items, weight)]
}

/// A standard normal variate (Box–Muller).
pub(crate) fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal variate with the given median and shape.
pub(crate) fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Number of failures before the first success with success probability `p` (0 when p >= 1),
/// capped at `max`.
pub(crate) fn geometric(rng: &mut StdRng, p: f64, max: u32) -> u32 {
    let mut n = 0;
    while n < max && !rng.random_bool(p.clamp(0.0, 1.0)) {
        n += 1;
    }
    n
}

/// `n` random characters from `[A-Za-z0-9_-]`, as in ad click ids.
pub(crate) fn token(rng: &mut StdRng, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Rounds `x` up or down at random so that the expected value is `x`.
pub(crate) fn stochastic_round(rng: &mut StdRng, x: f64) -> u64 {
    if x <= 0.0 {
        return 0;
    }
    let floor = x.floor();
    floor as u64 + u64::from(rng.random::<f64>() < x - floor)
}
