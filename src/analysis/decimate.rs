//! Min/max decimation over a level-of-detail pyramid, so drawing a six-hour, 10 Hz series costs
//! the same as drawing six minutes of it: work is proportional to the pixels, not the samples.

/// Values of one series, with a min/max pyramid over blocks of 2^k samples (k ≥ 1).
/// Missing values are NaN and ignored.
#[derive(Debug, Clone, Default)]
pub struct Column {
    values: Vec<f32>,
    /// `levels[k]` holds (min, max) of blocks of `2^(k+1)` consecutive values.
    levels: Vec<Vec<(f32, f32)>>,
    /// No pyramid is kept (for analysis that never draws): ranges are scanned instead.
    flat: bool,
}

impl Column {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<f32> {
        self.values.get(index).copied().filter(|v| !v.is_nan())
    }

    /// A column without the pyramid, for figures that are never drawn.
    pub fn flat() -> Column {
        Column {
            flat: true,
            ..Column::default()
        }
    }

    /// Appends a value (NaN for missing), updating the pyramid in amortised O(1).
    pub fn push(&mut self, value: f32) {
        self.values.push(value);
        if self.flat {
            return;
        }
        let mut index = self.values.len() - 1;
        let mut level = 0;
        // A block closes at level k when the index is odd at that level.
        while index % 2 == 1 {
            let pair = if level == 0 {
                let a = self.values[index - 1];
                let b = self.values[index];
                (nan_min(a, b), nan_max(a, b))
            } else {
                let below = &self.levels[level - 1];
                let a = below[index - 1];
                let b = below[index];
                (nan_min(a.0, b.0), nan_max(a.1, b.1))
            };
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(pair);
            index /= 2;
            level += 1;
        }
    }

    /// (min, max) of the `index`-th whole block of `2^level` values; `None` when all are
    /// missing (or the block is not complete).
    pub fn block(&self, level: usize, index: usize) -> Option<(f32, f32)> {
        if self.flat {
            let size = 1usize << level;
            return self.min_max(index * size..(index + 1) * size);
        }
        let (min, max) = if level == 0 {
            let v = *self.values.get(index)?;
            (v, v)
        } else {
            *self.levels.get(level - 1)?.get(index)?
        };
        (!min.is_nan()).then_some((min, max))
    }

    /// (min, max) of block `index` at pyramid `level` (level 0: the values themselves).
    #[inline]
    fn pair(&self, level: usize, index: usize) -> (f32, f32) {
        if level == 0 {
            let v = self.values[index];
            (v, v)
        } else {
            self.levels[level - 1][index]
        }
    }

    /// Min and max over `range` of indices, using the pyramid: bottom-up, taking the odd
    /// element at each edge and climbing a level, so O(log n) cheap steps.
    pub fn min_max(&self, range: std::ops::Range<usize>) -> Option<(f32, f32)> {
        let (mut lo, mut hi) = (range.start, range.end.min(self.values.len()));
        let (mut min, mut max) = (f32::NAN, f32::NAN);
        if self.flat {
            for &v in self.values.get(lo..hi).unwrap_or_default() {
                min = nan_min(min, v);
                max = nan_max(max, v);
            }
            return (!min.is_nan()).then_some((min, max));
        }
        let mut level = 0usize;
        // At each level only whole blocks exist, and `hi` never passes the last whole one:
        // it starts at most at the value count and is even before it is halved.
        while lo < hi {
            if lo & 1 == 1 {
                let (a, b) = self.pair(level, lo);
                min = nan_min(min, a);
                max = nan_max(max, b);
                lo += 1;
            }
            if hi & 1 == 1 && lo < hi {
                hi -= 1;
                let (a, b) = self.pair(level, hi);
                min = nan_min(min, a);
                max = nan_max(max, b);
            }
            lo >>= 1;
            hi >>= 1;
            level += 1;
        }
        (!min.is_nan()).then_some((min, max))
    }
}

fn nan_min(a: f32, b: f32) -> f32 {
    // `f32::min` returns the other operand when one is NaN.
    a.min(b)
}

fn nan_max(a: f32, b: f32) -> f32 {
    a.max(b)
}

/// Points to draw for `column` over the samples `range` (with times `xs`), at most about
/// `2 × columns` of them: raw points when they fit, else for each pixel column its min and max,
/// in the order of the trend so the line reads as an envelope.
pub fn decimate(
    xs: &[f64],
    column: &Column,
    range: std::ops::Range<usize>,
    columns: usize,
) -> Vec<[f64; 2]> {
    let range = range.start.min(xs.len())..range.end.min(xs.len()).min(column.len());
    let n = range.len();
    if n == 0 {
        return Vec::new();
    }
    let columns = columns.max(1);
    if n <= 2 * columns {
        return range
            .filter_map(|i| column.get(i).map(|v| [xs[i], f64::from(v)]))
            .collect();
    }
    // Buckets are whole pyramid blocks of 2^level samples, so each costs one lookup: the
    // work per frame depends on the pixels, not on the session's length. At most `columns`
    // whole buckets, plus the partial ones at each end.
    let level = (n.div_ceil(columns)).next_power_of_two().trailing_zeros() as usize;
    let size = 1usize << level;
    let mut out = Vec::with_capacity(2 * columns + 4);
    let mut push = |start: usize, end: usize, min_max: Option<(f32, f32)>| {
        let Some((min, max)) = min_max else {
            return;
        };
        let rising = match (column.get(start), column.get(end - 1)) {
            (Some(a), Some(b)) => b >= a,
            _ => true,
        };
        let (y0, y1) = if rising { (min, max) } else { (max, min) };
        out.push([xs[start], f64::from(y0)]);
        out.push([xs[end - 1], f64::from(y1)]);
    };
    let first_whole = range.start.next_multiple_of(size).min(range.end);
    let last_whole = range.end / size * size;
    if range.start < first_whole {
        push(
            range.start,
            first_whole,
            column.min_max(range.start..first_whole),
        );
    }
    let mut start = first_whole;
    while start + size <= last_whole {
        push(start, start + size, column.block(level, start / size));
        start += size;
    }
    if start < range.end {
        push(start, range.end, column.min_max(start..range.end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_column_keeps_no_pyramid_and_answers_from_its_values() {
        let mut flat = Column::flat();
        let mut full = Column::default();
        for v in [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0] {
            flat.push(v);
            full.push(v);
        }
        assert!(flat.levels.is_empty(), "a flat column built a pyramid");
        assert!(!full.levels.is_empty());
        assert_eq!(flat.min_max(1..7), Some((1.0, 9.0)));
        assert_eq!(flat.min_max(1..7), full.min_max(1..7));
    }

    fn column(values: &[f32]) -> Column {
        let mut c = Column::default();
        for v in values {
            c.push(*v);
        }
        c
    }

    #[test]
    fn pyramid_min_max_equals_a_scan_for_every_range() {
        let values: Vec<f32> = (0..300u32)
            .map(|i| {
                if i % 37 == 0 {
                    f32::NAN
                } else {
                    ((i * 7919) % 211) as f32 - 100.0
                }
            })
            .collect();
        let c = column(&values);
        for start in (0..300).step_by(7) {
            for end in (start..=300).step_by(11) {
                let scan = values[start..end].iter().filter(|v| !v.is_nan()).fold(
                    None,
                    |acc: Option<(f32, f32)>, &v| {
                        Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
                    },
                );
                assert_eq!(c.min_max(start..end), scan, "{start}..{end}");
            }
        }
    }

    #[test]
    fn a_flat_column_answers_like_a_pyramid() {
        let values: Vec<f32> = (0..1000u32).map(|i| ((i * 37) % 101) as f32).collect();
        let pyramid = column(&values);
        let mut flat = Column::flat();
        for v in &values {
            flat.push(*v);
        }
        for (a, b) in [(0, 1000), (3, 77), (512, 1000), (999, 1000)] {
            assert_eq!(flat.min_max(a..b), pyramid.min_max(a..b));
        }
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(
            decimate(&xs, &flat, 0..1000, 100),
            decimate(&xs, &pyramid, 0..1000, 100)
        );
    }

    #[test]
    fn decimation_keeps_extremes_and_bounds_the_point_count() {
        let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
        let mut values: Vec<f32> = (0..100_000).map(|i| (i % 100) as f32).collect();
        values[54_321] = 1e6;
        values[12_345] = -1e6;
        let c = column(&values);
        let points = decimate(&xs, &c, 0..xs.len(), 800);
        assert!(points.len() <= 1604, "{}", points.len());
        assert!(points.len() >= 800, "{}", points.len());
        // Unaligned ranges too.
        let points = decimate(&xs, &c, 777..99_001, 800);
        let ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
        assert!(ys.contains(&1e6) && ys.contains(&-1e6));
        assert_eq!(points.first().unwrap()[0], 777.0);
        assert_eq!(points.last().unwrap()[0], 99_000.0);
        let ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
        assert!(ys.contains(&1e6));
        assert!(ys.contains(&-1e6));
        // Few samples come back raw.
        assert_eq!(decimate(&xs, &c, 10..20, 800).len(), 10);
    }

    #[test]
    fn a_column_counts_its_values_missing_ones_included() {
        let mut c = Column::default();
        assert!(c.is_empty());
        c.push(1.0);
        c.push(f32::NAN);
        assert!(!c.is_empty());
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(0), Some(1.0));
        assert_eq!(c.get(1), None);
    }

    #[test]
    fn up_to_two_points_per_pixel_column_are_drawn_raw() {
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let c = column(&(0..20).map(|i| i as f32).collect::<Vec<_>>());
        // 10 pixel columns take up to 20 points: 15 and 20 samples come back as they are.
        let raw: Vec<[f64; 2]> = (0..15).map(|i| [f64::from(i), f64::from(i)]).collect();
        assert_eq!(decimate(&xs, &c, 0..15, 10), raw);
        assert_eq!(decimate(&xs, &c, 0..20, 10).len(), 20);
    }

    #[test]
    fn each_bucket_is_drawn_in_the_order_of_its_trend() {
        // Two buckets of 4 samples (8 samples, 2 pixel columns: 8 > 2 × 2, buckets of
        // 8 ÷ 2 = 4). The first falls from 4 to 3 (through 1): drawn max then min, at its first
        // and last sample times. The second is level at 9: min then max.
        let xs: Vec<f64> = (0..8).map(f64::from).collect();
        let c = column(&[4.0, 1.0, 2.0, 3.0, 9.0, 9.0, 9.0, 9.0]);
        assert_eq!(
            decimate(&xs, &c, 0..8, 2),
            [[0.0, 4.0], [3.0, 1.0], [4.0, 9.0], [7.0, 9.0]]
        );
        // A steady fall: each bucket from its max down to its min.
        let c = column(&[8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        assert_eq!(
            decimate(&xs, &c, 0..8, 2),
            [[0.0, 8.0], [3.0, 5.0], [4.0, 4.0], [7.0, 1.0]]
        );
    }

    #[test]
    fn an_unaligned_range_is_drawn_as_partial_and_whole_buckets_within_it() {
        // Values equal to their index, 0..20. The range 3..19 is 16 samples for 4 pixel
        // columns: buckets of 16 ÷ 4 = 4 samples. Whole buckets 4–7, 8–11, 12–15; a partial
        // one before (3) and after (16–18). Each rising bucket draws its first and last sample.
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let c = column(&(0..20).map(|i| i as f32).collect::<Vec<_>>());
        let expected: Vec<[f64; 2]> = [3, 3, 4, 7, 8, 11, 12, 15, 16, 18]
            .into_iter()
            .map(|i| [f64::from(i), f64::from(i)])
            .collect();
        assert_eq!(decimate(&xs, &c, 3..19, 4), expected);
    }
}
