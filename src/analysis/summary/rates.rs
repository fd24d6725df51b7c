//! Rates over RUN time: sample-and-hold pieces of a flow within the RUN spans, their
//! time-weighted mean, and the highest mean over a sliding window.

use super::MAX_HOLD_S;

/// A stretch of RUN time over which a sample's value held: `(start_s, end_s, value)`.
pub type Piece = (f64, f64, f64);

/// The sample-and-hold pieces of `points` (sorted by time) that fall within `runs` (sorted,
/// disjoint `(start_s, end_s)` spans). An interval longer than [`MAX_HOLD_S`] is left out.
pub fn run_pieces(points: &[(f64, f64)], runs: &[(f64, f64)]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut first_run = 0;
    for pair in points.windows(2) {
        let ((x0, value), (x1, _)) = (pair[0], pair[1]);
        let dt = x1 - x0;
        if !(dt > 0.0 && dt <= MAX_HOLD_S) {
            continue;
        }
        while first_run < runs.len() && runs[first_run].1 <= x0 {
            first_run += 1;
        }
        for &(run_start, run_end) in runs[first_run..].iter().take_while(|r| r.0 < x1) {
            let (a, b) = (x0.max(run_start), x1.min(run_end));
            if b > a {
                pieces.push((a, b, value));
            }
        }
    }
    pieces
}

/// The time-weighted mean of the pieces, `None` when they cover no time.
pub fn time_weighted_mean(pieces: &[Piece]) -> Option<f64> {
    let (weighted, time) = pieces.iter().fold((0.0, 0.0), |(w, t), &(a, b, v)| {
        (w + v * (b - a), t + (b - a))
    });
    (time > 0.0).then(|| weighted / time)
}

/// The highest mean of the piecewise-constant function `pieces` (zero between them) over any
/// window of `window_s` seconds lying between the first piece's start and the last one's end.
///
/// The mean over a sliding window of a step function is piecewise linear in the window's
/// position, so its maximum is at a position where one edge of the window meets a step: only
/// those positions are tried.
pub fn peak_window_mean(pieces: &[Piece], window_s: f64) -> Option<f64> {
    let first = pieces.first()?.0;
    let last = pieces.last()?.1;
    if last - first < window_s {
        return None;
    }
    // integral_before[i]: the integral up to the start of piece i.
    let mut integral_before = Vec::with_capacity(pieces.len() + 1);
    let mut total = 0.0;
    for &(a, b, v) in pieces {
        integral_before.push(total);
        total += v * (b - a);
    }
    // The integral up to `t`, for `t` that only grow between calls (a cursor per edge).
    let integral_to = |cursor: &mut usize, t: f64| -> f64 {
        while *cursor < pieces.len() && pieces[*cursor].0 <= t {
            *cursor += 1;
        }
        if *cursor == 0 {
            return 0.0;
        }
        let (a, b, v) = pieces[*cursor - 1];
        integral_before[*cursor - 1] + v * (t.min(b) - a).max(0.0)
    };
    // Candidate window ends: every step edge, and every step edge plus the window. Pieces are
    // in order and do not overlap, so both lists are sorted; merged, the window's two edges
    // only move forward and the integrals are found with two cursors, in linear time.
    let edges: Vec<f64> = pieces.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    let (mut i, mut j) = (0, 0);
    let (mut end_cursor, mut start_cursor) = (0, 0);
    let tolerance = 1e-9;
    let mut best: Option<f64> = None;
    loop {
        let shifted = edges.get(j).map(|e| e + window_s);
        let end = match (edges.get(i), shifted) {
            (Some(&e), Some(s)) if e <= s => {
                i += 1;
                e
            }
            (_, Some(s)) => {
                j += 1;
                s
            }
            // Every shifted edge lies past its own edge, so the edges run out first: once the
            // shifted ones have too, every candidate has been tried.
            (_, None) => break,
        };
        if end - window_s >= first - tolerance && end <= last + tolerance {
            let mean = (integral_to(&mut end_cursor, end)
                - integral_to(&mut start_cursor, end - window_s))
                / window_s;
            best = Some(best.map_or(mean, |b| b.max(mean)));
        }
    }
    best
}
