//! Min/max decimation over a level-of-detail pyramid, so drawing a six-hour, 10 Hz series costs
//! the same as drawing six minutes of it: work is proportional to the pixels, not the samples.

/// Values of one series, with a min/max pyramid over blocks of 2^k samples (k ≥ 1).
/// Missing values are NaN and ignored.
#[derive(Debug, Clone, Default)]
pub struct Column {
    values: Vec<f32>,
    /// `levels[k]` holds (min, max) of blocks of `2^(k+1)` consecutive values.
    levels: Vec<Vec<(f32, f32)>>,
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

    /// Appends a value (NaN for missing), updating the pyramid in amortised O(1).
    pub fn push(&mut self, value: f32) {
        self.values.push(value);
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

    /// Min and max over `range` of indices, using the pyramid.
    pub fn min_max(&self, range: std::ops::Range<usize>) -> Option<(f32, f32)> {
        let (mut lo, hi) = (range.start, range.end.min(self.values.len()));
        let (mut min, mut max) = (f32::NAN, f32::NAN);
        while lo < hi {
            // The largest aligned block starting at `lo` that fits.
            let mut level = 0usize;
            while level < self.levels.len() {
                let size = 1usize << (level + 1);
                if lo % size != 0 || lo + size > hi {
                    break;
                }
                level += 1;
            }
            if level == 0 {
                let v = self.values[lo];
                min = nan_min(min, v);
                max = nan_max(max, v);
                lo += 1;
            } else {
                let size = 1usize << level;
                let (a, b) = self.levels[level - 1][lo / size];
                min = nan_min(min, a);
                max = nan_max(max, b);
                lo += size;
            }
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
    let mut out = Vec::with_capacity(2 * columns);
    let bucket = n.div_ceil(columns);
    let mut start = range.start;
    while start < range.end {
        let end = (start + bucket).min(range.end);
        if let Some((min, max)) = column.min_max(start..end) {
            let first = column.get(start);
            let last = column.get(end - 1);
            let rising = match (first, last) {
                (Some(a), Some(b)) => b >= a,
                _ => true,
            };
            let (x0, x1) = (xs[start], xs[end - 1]);
            let (y0, y1) = if rising { (min, max) } else { (max, min) };
            out.push([x0, f64::from(y0)]);
            out.push([x1, f64::from(y1)]);
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn decimation_keeps_extremes_and_bounds_the_point_count() {
        let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
        let mut values: Vec<f32> = (0..100_000).map(|i| (i % 100) as f32).collect();
        values[54_321] = 1e6;
        values[12_345] = -1e6;
        let c = column(&values);
        let points = decimate(&xs, &c, 0..xs.len(), 800);
        assert!(points.len() <= 1600, "{}", points.len());
        let ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
        assert!(ys.contains(&1e6));
        assert!(ys.contains(&-1e6));
        // Few samples come back raw.
        assert_eq!(decimate(&xs, &c, 10..20, 800).len(), 10);
    }
}
