//! Records over time, per kind, in buckets whose width grows with the time
//! covered, so that memory stays bounded whatever the span of the files:
//! at most [`MAX_BUCKETS`] buckets are kept; one more makes every bucket
//! the next width of [`WIDTHS`] wide.

use std::collections::BTreeMap;

use crate::record::Kind;

/// Bucket widths in seconds, finest first: 1 s, 10 s, 1 min, 5 min,
/// 15 min, 1 h, 6 h, 1 day, 7 days, 30 days, 365 days, then centuries
/// (so that any RFC 3339 year, 0 to 9999, fits in a few buckets).
pub(crate) const WIDTHS: [i64; 13] = [
    1,
    10,
    60,
    300,
    900,
    3_600,
    21_600,
    86_400,
    604_800,
    2_592_000,
    31_536_000,
    3_153_600_000,
    31_536_000_000,
];

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

/// The most buckets kept while counting.
pub(crate) const MAX_BUCKETS: usize = 4096;

/// Counts per kind (in [`Kind::ALL`] order) in one bucket.
pub(crate) type Counts = [u64; 4];

/// Records per kind per time bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timeline {
    /// Index into [`WIDTHS`].
    width: usize,
    /// Bucket start (Unix seconds, a multiple of the width) to counts.
    buckets: BTreeMap<i64, Counts>,
}

impl Timeline {
    /// Counts one record of `kind` made at `secs` (Unix seconds); a time
    /// outside RFC 3339's years (0 to 9999) is not counted (`false`).
    pub(crate) fn add(&mut self, secs: i64, kind: Kind) -> bool {
        if !(FIRST_SECOND..=LAST_SECOND).contains(&secs) {
            return false;
        }
        let start = bucket_start(secs, WIDTHS[self.width]);
        self.buckets.entry(start).or_default()[kind.index()] += 1;
        while self.buckets.len() > MAX_BUCKETS && self.width + 1 < WIDTHS.len() {
            self.coarsen(self.width + 1);
        }
        true
    }

    /// Adds `other`'s counts, both at the wider of the two widths.
    pub(crate) fn merge(&mut self, mut other: Timeline) {
        let width = self.width.max(other.width);
        self.coarsen(width);
        other.coarsen(width);
        for (start, counts) in other.buckets {
            add_counts(self.buckets.entry(start).or_default(), &counts);
        }
        while self.buckets.len() > MAX_BUCKETS && self.width + 1 < WIDTHS.len() {
            self.coarsen(self.width + 1);
        }
    }

    /// The counts as at most `max` consecutive buckets (empty ones
    /// included) of the finest width that allows it: the width in
    /// seconds and `(bucket start, counts)` in time order.
    pub(crate) fn columns(&self, max: usize) -> (i64, Vec<(i64, Counts)>) {
        let max = max.max(1) as i128;
        let (Some(first), Some(last)) = (
            self.buckets.keys().next().copied(),
            self.buckets.keys().next_back().copied(),
        ) else {
            return (WIDTHS[self.width], Vec::new());
        };
        let mut index = self.width;
        while index + 1 < WIDTHS.len() && span_columns(first, last, WIDTHS[index]) > max {
            index += 1;
        }
        let mut coarse = self.clone();
        coarse.coarsen(index);
        let width = WIDTHS[index];
        let mut columns = Vec::new();
        let mut start = bucket_start(first, width);
        for (&at, counts) in &coarse.buckets {
            while start < at {
                columns.push((start, Counts::default()));
                start += width;
            }
            columns.push((at, *counts));
            start = at + width;
        }
        (width, columns)
    }

    /// Re-buckets at the width `WIDTHS[index]` (wider than the current).
    fn coarsen(&mut self, index: usize) {
        if index <= self.width {
            return;
        }
        let width = WIDTHS[index];
        let mut buckets = BTreeMap::new();
        for (start, counts) in std::mem::take(&mut self.buckets) {
            add_counts(
                buckets.entry(bucket_start(start, width)).or_default(),
                &counts,
            );
        }
        self.buckets = buckets;
        self.width = index;
    }
}

fn add_counts(into: &mut Counts, from: &Counts) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.saturating_add(*b);
    }
}

/// The start of the bucket of width `width` holding `secs`.
fn bucket_start(secs: i64, width: i64) -> i64 {
    secs - secs.rem_euclid(width)
}

/// How many buckets of `width` lie from `first` to `last`.
fn span_columns(first: i64, last: i64, width: i64) -> i128 {
    (i128::from(last) - i128::from(first)) / i128::from(width) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_filled_and_gaps_are_zero() {
        let mut t = Timeline::default();
        for (secs, kind) in [(100, Kind::Audit), (100, Kind::Login), (103, Kind::Audit)] {
            assert!(t.add(secs, kind));
        }
        let (width, columns) = t.columns(10);
        assert_eq!(width, 1);
        assert_eq!(
            columns,
            vec![
                (100, [1, 0, 1, 0]),
                (101, [0; 4]),
                (102, [0; 4]),
                (103, [1, 0, 0, 0]),
            ]
        );
    }

    #[test]
    fn columns_widen_to_fit_the_maximum() {
        let mut t = Timeline::default();
        for s in 0..600 {
            assert!(t.add(s, Kind::Api));
        }
        let (width, columns) = t.columns(60);
        assert_eq!(width, 10);
        assert_eq!(columns.len(), 60);
        assert!(columns.iter().all(|(_, c)| c[Kind::Api.index()] == 10));
    }

    #[test]
    fn memory_stays_bounded_and_no_count_is_lost() {
        let mut t = Timeline::default();
        for i in 0..20_000i64 {
            assert!(t.add(i * 7, Kind::App));
        }
        assert!(t.buckets.len() <= MAX_BUCKETS);
        let total: u64 = t.buckets.values().map(|c| c[Kind::App.index()]).sum();
        assert_eq!(total, 20_000);
    }

    #[test]
    fn merge_equals_adding_everything_to_one() {
        let (mut a, mut b, mut all) = Default::default();
        for i in 0..10_000i64 {
            let secs = i * i % 1_000_003 - 500_000;
            let part: &mut Timeline = if i % 3 == 0 { &mut a } else { &mut b };
            assert!(part.add(secs, Kind::Audit));
            assert!(Timeline::add(&mut all, secs, Kind::Audit));
        }
        a.merge(b);
        assert_eq!(a.columns(50), all.columns(50));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut t = Timeline::default();
        assert!(!t.add(i64::MIN, Kind::Audit));
        assert!(!t.add(LAST_SECOND + 1, Kind::Audit));
        assert!(t.add(FIRST_SECOND, Kind::Audit));
        assert!(t.add(LAST_SECOND, Kind::Audit));
        let (_, columns) = t.columns(60);
        assert!((2..=60).contains(&columns.len()), "{}", columns.len());
    }
}
