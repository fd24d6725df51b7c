//! The machine's cumulative counters (`inlet_ml`, `ac_ml`, `collect_ml`, `plasma_ml`,
//! `replace_ml`) turned into session totals, by the one rule of the protocol. The live journal
//! (which records what happened as `link` rows) and the timeline (whose totals the screen,
//! replay and the summary show) both use [`Counters`], so the same stream gives the same totals
//! to the mL live and loaded from a file.
//!
//! The rule (docs/counters.md says why):
//! - each counter on its own: one counter falling says nothing about the others;
//! - a fall of [`JITTER_ML`] or less from the value sent before is reporting jitter: the value
//!   stays as sent, it is no restart, and the total holds at the highest value reached (it is
//!   never counted twice, and never counted down);
//! - a fall of more than [`JITTER_ML`] restarts that counter alone (a product-bag change zeroes
//!   `collect_ml` while the machine carries on): its total is the highest value it had reached
//!   plus the new count;
//! - the machine restarting restarts every counter that way. It has restarted when its time
//!   (`t_ms`) went back (a new procedure; `seq` going back alone is a new connection, not a
//!   restart), or when every counter the sample carries that had passed [`JITTER_ML`] fell by
//!   more than [`JITTER_ML`] at once, at least two of them. A counter absent from that sample
//!   starts a new count at its next value.
//!
//! Pure: no I/O, no clock; the machine's time is passed in.

use crate::model::{QUANTITY_COUNT, Quantity, Sample};

/// The largest fall of a counter that is reporting jitter rather than a restart, mL.
pub const JITTER_ML: f64 = 1.0;

/// Falls are compared to [`JITTER_ML`] with this margin, mL: far below any volume a machine
/// reports (0.1 mL), far above the rounding of a difference of two readings in `f64`, so a
/// fall of exactly 1 mL (e.g. 12.1 → 11.1) is jitter whatever the binary rounding.
const MARGIN_ML: f64 = 1e-6;

/// Whether a counter going from `from` to `to` fell by more than [`JITTER_ML`].
fn fell_beyond_jitter(from: f64, to: f64) -> bool {
    from - to > JITTER_ML + MARGIN_ML
}

/// What a counter's new value means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// The first value of a count: the session's first, or the first after the machine
    /// restarted.
    First,
    /// The same as before or more: the count goes on.
    Counted,
    /// Fell by [`JITTER_ML`] or less from `from`: reporting jitter, no restart.
    Jitter { from: f64 },
    /// The counter restarted, after `from`: it fell by more than [`JITTER_ML`] (alone), or
    /// the machine restarted. Its total carries the highest value of the count that ended.
    Restarted { from: f64 },
}

/// Why every counter restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineRestart {
    /// The machine's time went back: a new procedure.
    TimeWentBack { from_ms: u64, to_ms: u64 },
    /// Every counter the sample carries fell at once (see the module doc).
    CountersFell,
}

/// What one row from the machine means for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Verdict {
    /// Set when the machine restarted: every counter restarts.
    pub machine_restart: Option<MachineRestart>,
    /// For each counter the sample carries, what its value means (indexed by
    /// [`Quantity::index`]; `None` for the others).
    changes: [Option<Change>; QUANTITY_COUNT],
}

impl Verdict {
    /// The counters the sample carried, with what each value means, in column order.
    pub fn changes(&self) -> impl Iterator<Item = (Quantity, Change)> + '_ {
        Quantity::ALL
            .into_iter()
            .filter_map(|q| self.changes[q.index()].map(|c| (q, c)))
    }

    /// What `quantity`'s value means, if the sample carried it.
    pub fn change(&self, quantity: Quantity) -> Option<Change> {
        self.changes[quantity.index()]
    }
}

/// The rule, as one pure function: what a row from the machine at machine time `t_ms` (a
/// sample, or any other row: `None`) means for each counter, given the machine time before
/// (`last_t_ms`) and each counter's last value in its current count (`last`, `None` before its
/// first value or after the machine restarted).
pub fn judge(
    last_t_ms: Option<u64>,
    last: &[Option<f64>; QUANTITY_COUNT],
    t_ms: u64,
    sample: Option<&Sample>,
) -> Verdict {
    let mut verdict = Verdict::default();
    if let Some(from_ms) = last_t_ms
        && t_ms < from_ms
    {
        verdict.machine_restart = Some(MachineRestart::TimeWentBack {
            from_ms,
            to_ms: t_ms,
        });
    }
    let Some(sample) = sample else {
        return verdict;
    };
    let counters = || sample.iter().filter(|(q, _)| q.is_cumulative());
    let time_went_back = verdict.machine_restart.is_some();
    // Counters that had counted past the jitter: only they can show a restart by falling.
    let mut witnesses = 0;
    let mut all_fell = true;
    for (q, value) in counters() {
        if let Some(before) = last[q.index()].filter(|&b| b > JITTER_ML) {
            witnesses += 1;
            all_fell &= fell_beyond_jitter(before, value);
        }
    }
    if !time_went_back && witnesses >= 2 && all_fell {
        verdict.machine_restart = Some(MachineRestart::CountersFell);
    }
    let counters_fell = verdict.machine_restart == Some(MachineRestart::CountersFell);
    for (q, value) in counters() {
        let change = match last[q.index()] {
            None => Change::First,
            Some(_) if time_went_back => Change::First,
            Some(before) if counters_fell || fell_beyond_jitter(before, value) => {
                Change::Restarted { from: before }
            }
            Some(before) if value < before => Change::Jitter { from: before },
            Some(_) => Change::Counted,
        };
        verdict.changes[q.index()] = Some(change);
    }
    verdict
}

/// One counter's count so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Count {
    /// The last value sent in the current count; `None` before the first, or when the
    /// machine restarted and the counter has not been sent since.
    last: Option<f64>,
    /// The highest value of the current count.
    reached: f64,
    /// What the counts before this one reached, summed.
    carried: f64,
    /// Whether the counter was ever sent.
    seen: bool,
}

impl Count {
    fn restart(&mut self) {
        if self.last.take().is_some() {
            self.carried += self.reached;
            self.reached = 0.0;
        }
    }
}

/// The counters of one session: the machine's time and each counter's count, and so its
/// total. Feed it every row from the machine in order with [`Counters::observe`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    last_t_ms: Option<u64>,
    counts: [Count; QUANTITY_COUNT],
}

impl Counters {
    pub fn new() -> Counters {
        Counters::default()
    }

    /// Counters continuing a session whose machine time was last `last_t_ms` (resuming a
    /// recording), with the last value of each counter from the recording's last samples.
    pub fn resuming(last_t_ms: Option<u64>, last_values: &Sample) -> Counters {
        let mut counters = Counters {
            last_t_ms,
            ..Counters::default()
        };
        for (q, value) in last_values.iter().filter(|(q, _)| q.is_cumulative()) {
            counters.counts[q.index()] = Count {
                last: Some(value),
                reached: value,
                carried: 0.0,
                seen: true,
            };
        }
        counters
    }

    /// Takes in a row from the machine at machine time `t_ms` (`sample` if it is a sample):
    /// decides by [`judge`] what it means, counts it, and returns the verdict.
    pub fn observe(&mut self, t_ms: u64, sample: Option<&Sample>) -> Verdict {
        let last = self.counts.map(|c| c.last);
        let verdict = judge(self.last_t_ms, &last, t_ms, sample);
        self.last_t_ms = Some(t_ms);
        if verdict.machine_restart.is_some() {
            for count in &mut self.counts {
                count.restart();
            }
        }
        for (q, change) in verdict.changes() {
            let Some(value) = sample.and_then(|s| s.get(q)) else {
                continue;
            };
            let count = &mut self.counts[q.index()];
            // A restart of the machine has restarted every count already.
            if matches!(change, Change::Restarted { .. }) && verdict.machine_restart.is_none() {
                count.restart();
            }
            count.last = Some(value);
            count.reached = count.reached.max(value);
            count.seen = true;
        }
        verdict
    }

    /// The total of `quantity` so far: what its earlier counts reached plus the highest value
    /// of its current count. `None` if it was never sent.
    pub fn total(&self, quantity: Quantity) -> Option<f64> {
        let count = &self.counts[quantity.index()];
        count.seen.then_some(count.carried + count.reached)
    }

    /// The machine time of the last row observed.
    pub fn last_t_ms(&self) -> Option<u64> {
        self.last_t_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Quantity::{AcMl, CollectMl, InletMl, PlasmaMl, ReplaceMl};

    fn sample(values: &[(Quantity, f64)]) -> Sample {
        values
            .iter()
            .fold(Sample::default(), |s, &(q, v)| s.with(q, v))
    }

    fn last(values: &[(Quantity, f64)]) -> [Option<f64>; QUANTITY_COUNT] {
        let mut last = [None; QUANTITY_COUNT];
        for &(q, v) in values {
            last[q.index()] = Some(v);
        }
        last
    }

    /// One counter, before and now, at the same machine time: what the value means.
    #[test]
    fn a_single_counter_is_judged_by_its_fall_alone() {
        use Change::{Counted, First, Jitter, Restarted};
        let cases: [(Option<f64>, f64, Change); 15] = [
            (None, 5.0, First),
            (Some(5.0), 5.1, Counted),
            (Some(5.0), 5.0, Counted),
            // A 0.1 mL rounding dip.
            (Some(15.8), 15.7, Jitter { from: 15.8 }),
            // Exactly 1 mL, whatever the binary rounding of the difference: jitter.
            (Some(12.1), 11.1, Jitter { from: 12.1 }),
            (Some(2.3), 1.3, Jitter { from: 2.3 }),
            // 8.3 − 7.3 is 1.0000000000000009 in binary: still exactly 1 mL, still jitter.
            (Some(8.3), 7.3, Jitter { from: 8.3 }),
            (Some(50_000.0), 49_999.0, Jitter { from: 50_000.0 }),
            (Some(1.0), 0.0, Jitter { from: 1.0 }),
            // Just over 1 mL: a restart.
            (Some(12.1), 11.09, Restarted { from: 12.1 }),
            (Some(12.1), 11.099, Restarted { from: 12.1 }),
            (Some(50_000.0), 49_998.99, Restarted { from: 50_000.0 }),
            // A product-bag change.
            (Some(2.3), 0.0, Restarted { from: 2.3 }),
            (Some(300.0), 0.0, Restarted { from: 300.0 }),
            (Some(1.01), 0.0, Restarted { from: 1.01 }),
        ];
        for (before, now, expected) in cases {
            let last = match before {
                Some(b) => last(&[(CollectMl, b)]),
                None => [None; QUANTITY_COUNT],
            };
            let verdict = judge(Some(1000), &last, 2000, Some(&sample(&[(CollectMl, now)])));
            assert_eq!(
                verdict.change(CollectMl),
                Some(expected),
                "{before:?} → {now}"
            );
            assert_eq!(verdict.machine_restart, None, "{before:?} → {now}");
        }
    }

    #[test]
    fn the_machine_restarts_when_its_time_goes_back_and_not_when_it_stands_still() {
        let before = last(&[(InletMl, 140.0), (CollectMl, 2.3)]);
        let now = sample(&[(InletMl, 150.0), (CollectMl, 0.0)]);
        // Time went back by 1 ms: every counter starts a new count, even one that rose.
        let verdict = judge(Some(1000), &before, 999, Some(&now));
        assert_eq!(
            verdict.machine_restart,
            Some(MachineRestart::TimeWentBack {
                from_ms: 1000,
                to_ms: 999
            })
        );
        assert_eq!(verdict.change(InletMl), Some(Change::First));
        assert_eq!(verdict.change(CollectMl), Some(Change::First));
        // Time went back and every counter fell too: the time says why.
        let all_fell = sample(&[(InletMl, 0.0), (CollectMl, 0.0)]);
        let verdict = judge(Some(1000), &before, 0, Some(&all_fell));
        assert_eq!(
            verdict.machine_restart,
            Some(MachineRestart::TimeWentBack {
                from_ms: 1000,
                to_ms: 0
            })
        );
        assert_eq!(verdict.change(CollectMl), Some(Change::First));
        // The same time again: the counters are judged one by one.
        let verdict = judge(Some(1000), &before, 1000, Some(&now));
        assert_eq!(verdict.machine_restart, None);
        assert_eq!(verdict.change(InletMl), Some(Change::Counted));
        assert_eq!(
            verdict.change(CollectMl),
            Some(Change::Restarted { from: 2.3 })
        );
        // A row that is not a sample carries no counter but still tells the time.
        let verdict = judge(Some(1000), &before, 0, None);
        assert!(verdict.machine_restart.is_some());
        assert_eq!(verdict.changes().count(), 0);
        assert_eq!(judge(None, &before, 0, None), Verdict::default());
    }

    /// Every counter of the sample that had passed 1 mL fell by more than 1 mL: the machine
    /// restarted its totals, and the counters still under 1 mL restart with them.
    #[test]
    fn every_counter_falling_at_once_restarts_them_all() {
        use Change::{Counted, First, Jitter, Restarted};
        // (last values, new values, machine restart?, the changes)
        type Case = (
            Vec<(Quantity, f64)>,
            Vec<(Quantity, f64)>,
            bool,
            Vec<(Quantity, Change)>,
        );
        let cases: Vec<Case> = vec![
            // Inlet, AC and collect fall; replacement (0.5 mL) falls 0.5 and plasma stays at 0.
            (
                vec![
                    (InletMl, 140.0),
                    (AcMl, 11.7),
                    (CollectMl, 2.3),
                    (PlasmaMl, 0.0),
                    (ReplaceMl, 0.5),
                ],
                vec![
                    (InletMl, 0.0),
                    (AcMl, 0.0),
                    (CollectMl, 0.0),
                    (PlasmaMl, 0.0),
                    (ReplaceMl, 0.0),
                ],
                true,
                vec![
                    (InletMl, Restarted { from: 140.0 }),
                    (AcMl, Restarted { from: 11.7 }),
                    (CollectMl, Restarted { from: 2.3 }),
                    (PlasmaMl, Restarted { from: 0.0 }),
                    (ReplaceMl, Restarted { from: 0.5 }),
                ],
            ),
            // Exactly two counters past 1 mL, both fell: a restart of the machine.
            (
                vec![(InletMl, 140.0), (AcMl, 11.7), (ReplaceMl, 1.0)],
                vec![(InletMl, 2.0), (AcMl, 0.1), (ReplaceMl, 0.0)],
                true,
                vec![
                    (InletMl, Restarted { from: 140.0 }),
                    (AcMl, Restarted { from: 11.7 }),
                    (ReplaceMl, Restarted { from: 1.0 }),
                ],
            ),
            // A bag change and a 0.1 mL dip of AC in the same sample: inlet rose, so the machine
            // did not restart; the bag restarts alone and the dip is jitter.
            (
                vec![(InletMl, 140.0), (AcMl, 11.7), (CollectMl, 2.3)],
                vec![(InletMl, 150.0), (AcMl, 11.6), (CollectMl, 0.0)],
                false,
                vec![
                    (InletMl, Counted),
                    (AcMl, Jitter { from: 11.7 }),
                    (CollectMl, Restarted { from: 2.3 }),
                ],
            ),
            // Inlet fell far but AC only by jitter: not every counter fell.
            (
                vec![(InletMl, 140.0), (AcMl, 11.7)],
                vec![(InletMl, 0.0), (AcMl, 11.6)],
                false,
                vec![
                    (InletMl, Restarted { from: 140.0 }),
                    (AcMl, Jitter { from: 11.7 }),
                ],
            ),
            // Only one counter past 1 mL (AC at exactly 1 mL does not count): that one restarts
            // alone, and AC's exact 1 mL fall is jitter.
            (
                vec![(InletMl, 140.0), (AcMl, 1.0)],
                vec![(InletMl, 0.0), (AcMl, 0.0)],
                false,
                vec![
                    (InletMl, Restarted { from: 140.0 }),
                    (AcMl, Jitter { from: 1.0 }),
                ],
            ),
            // AC just past 1 mL counts: two fell, the machine restarted.
            (
                vec![(InletMl, 140.0), (AcMl, 1.01)],
                vec![(InletMl, 0.0), (AcMl, 0.0)],
                true,
                vec![
                    (InletMl, Restarted { from: 140.0 }),
                    (AcMl, Restarted { from: 1.01 }),
                ],
            ),
            // A sample carrying one counter only: however far it fell, it restarts alone.
            (
                vec![(InletMl, 140.0), (CollectMl, 2.3)],
                vec![(CollectMl, 0.0)],
                false,
                vec![(CollectMl, Restarted { from: 2.3 })],
            ),
            // A counter never seen before is a first value and no witness.
            (
                vec![(InletMl, 140.0)],
                vec![(InletMl, 0.0), (AcMl, 0.0)],
                false,
                vec![(InletMl, Restarted { from: 140.0 }), (AcMl, First)],
            ),
        ];
        for (before, now, restart, changes) in cases {
            let verdict = judge(Some(0), &last(&before), 1000, Some(&sample(&now)));
            let expected = restart.then_some(MachineRestart::CountersFell);
            assert_eq!(verdict.machine_restart, expected, "{before:?} → {now:?}");
            assert_eq!(
                verdict.changes().collect::<Vec<_>>(),
                changes,
                "{before:?} → {now:?}"
            );
        }
    }

    /// Feeds `(t_ms, counters)` rows and returns the totals of `quantity` after each.
    fn totals(rows: &[(u64, &[(Quantity, f64)])], quantity: Quantity) -> Vec<Option<f64>> {
        let mut counters = Counters::new();
        rows.iter()
            .map(|&(t_ms, values)| {
                counters.observe(t_ms, Some(&sample(values)));
                counters.total(quantity)
            })
            .collect()
    }

    #[test]
    fn a_bag_change_carries_the_bag_and_counts_the_new_one() {
        let rows: [(u64, &[(Quantity, f64)]); 5] = [
            (0, &[(CollectMl, 0.0)]),
            (10, &[(CollectMl, 2.3)]),
            // The bag is changed: 2.3 mL so far, then the new bag's 0, 0.5, 2.5.
            (20, &[(CollectMl, 0.0)]),
            (30, &[(CollectMl, 0.5)]),
            (40, &[(CollectMl, 2.5)]),
        ];
        assert_eq!(
            totals(&rows, CollectMl),
            [Some(0.0), Some(2.3), Some(2.3), Some(2.8), Some(4.8)]
        );
    }

    #[test]
    fn a_dip_is_neither_counted_twice_nor_counted_down() {
        // 15.8, a 0.1 mL dip to 15.7, then on to 17.5: the total holds at 15.8 through the
        // dip and is 17.5 after (not 15.8 + 17.5, nor 15.7).
        let rows: [(u64, &[(Quantity, f64)]); 4] = [
            (0, &[(AcMl, 15.8)]),
            (10, &[(AcMl, 15.7)]),
            (20, &[(AcMl, 15.75)]),
            (30, &[(AcMl, 17.5)]),
        ];
        assert_eq!(
            totals(&rows, AcMl),
            [Some(15.8), Some(15.8), Some(15.8), Some(17.5)]
        );
        // A dip on the last sample: the total is what was reached, 25.0.
        let rows: [(u64, &[(Quantity, f64)]); 2] = [(0, &[(AcMl, 25.0)]), (10, &[(AcMl, 24.9)])];
        assert_eq!(totals(&rows, AcMl), [Some(25.0), Some(25.0)]);
    }

    #[test]
    fn small_falls_one_after_another_are_each_jitter() {
        // Each fall is measured from the value sent before: 10 → 9.5 → 9.0 → 8.5 never falls
        // by more than 1 mL at once, so nothing restarts and the total holds at 10.
        let rows: [(u64, &[(Quantity, f64)]); 5] = [
            (0, &[(InletMl, 10.0)]),
            (1, &[(InletMl, 9.5)]),
            (2, &[(InletMl, 9.0)]),
            (3, &[(InletMl, 8.5)]),
            (4, &[(InletMl, 10.5)]),
        ];
        assert_eq!(
            totals(&rows, InletMl),
            [Some(10.0), Some(10.0), Some(10.0), Some(10.0), Some(10.5)]
        );
    }

    #[test]
    fn a_restart_after_a_dip_carries_the_value_reached() {
        // 10.0, a dip to 9.5, then a restart to 0.2: 10.0 carried (the highest value of the
        // count), + 0.2.
        let rows: [(u64, &[(Quantity, f64)]); 3] = [
            (0, &[(InletMl, 10.0)]),
            (1, &[(InletMl, 9.5)]),
            (2, &[(InletMl, 0.2)]),
        ];
        assert_eq!(totals(&rows, InletMl), [Some(10.0), Some(10.0), Some(10.2)]);
    }

    #[test]
    fn after_a_machine_restart_a_counter_absent_then_starts_a_new_count() {
        let mut c = Counters::new();
        c.observe(10_000, Some(&sample(&[(InletMl, 100.0), (PlasmaMl, 50.0)])));
        // The machine's time went back (a state row): every count ends.
        let verdict = c.observe(0, None);
        assert!(verdict.machine_restart.is_some());
        c.observe(1_000, Some(&sample(&[(InletMl, 3.0)])));
        assert_eq!(c.total(InletMl), Some(103.0));
        // Plasma was not in that sample; its next value, 60, is a new count although it is
        // more than 50: 50 + 60 = 110 (not 60).
        let verdict = c.observe(2_000, Some(&sample(&[(PlasmaMl, 60.0)])));
        assert_eq!(verdict.change(PlasmaMl), Some(Change::First));
        assert_eq!(c.total(PlasmaMl), Some(110.0));
        // Never sent: no total.
        assert_eq!(c.total(CollectMl), None);
        assert_eq!(c.last_t_ms(), Some(2_000));
    }

    #[test]
    fn every_counter_falling_at_once_carries_each_and_the_absent_ones_too() {
        let mut c = Counters::new();
        c.observe(
            0,
            Some(&sample(&[(InletMl, 140.0), (AcMl, 11.5), (ReplaceMl, 0.5)])),
        );
        c.observe(1_000, Some(&sample(&[(CollectMl, 2.5)])));
        // Inlet and AC fall to nothing, replacement with them, the machine's time goes on.
        let verdict = c.observe(
            2_000,
            Some(&sample(&[(InletMl, 1.5), (AcMl, 0.25), (ReplaceMl, 0.0)])),
        );
        assert_eq!(verdict.machine_restart, Some(MachineRestart::CountersFell));
        assert_eq!(c.total(InletMl), Some(141.5));
        assert_eq!(c.total(AcMl), Some(11.75));
        assert_eq!(c.total(ReplaceMl), Some(0.5));
        // Collect was absent: its next value starts a new count, 2.5 + 3.0 (values exact in binary, so the sums are too).
        c.observe(3_000, Some(&sample(&[(CollectMl, 3.0)])));
        assert_eq!(c.total(CollectMl), Some(5.5));
    }

    #[test]
    fn a_resumed_session_judges_the_first_sample_by_the_recorded_values() {
        let recorded = sample(&[
            (InletMl, 140.0),
            (CollectMl, 2.3),
            (Quantity::InletMlMin, 60.0),
        ]);
        let mut c = Counters::resuming(Some(50_000), &recorded);
        let verdict = c.observe(60_000, Some(&sample(&[(InletMl, 150.0), (CollectMl, 0.0)])));
        assert_eq!(verdict.machine_restart, None);
        assert_eq!(
            verdict.change(CollectMl),
            Some(Change::Restarted { from: 2.3 })
        );
        assert_eq!(verdict.change(InletMl), Some(Change::Counted));
        // Flows are no counters.
        assert_eq!(verdict.change(Quantity::InletMlMin), None);
        // The machine's time going back after the resume is seen too.
        let mut c = Counters::resuming(Some(50_000), &recorded);
        assert!(c.observe(1_000, None).machine_restart.is_some());
    }
}
