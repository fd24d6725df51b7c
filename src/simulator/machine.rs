//! The simulated apheresis machine: a deterministic leukapheresis procedure as APH/1 sentences.
//!
//! IDLE → PRIME → RUN (with an access-pressure alarm and pause, a return-pressure alarm, a
//! comfort pause) → RINSEBACK → END. The operator runs the inlet so that the estimated citrate
//! rate stays near a chosen level (bounded to the pump's usual 15–70 mL/min), AC follows the
//! inlet:AC ratio, the collect pump starts about 20 minutes into the run, and every cumulative
//! volume is the integral of its flow. Same configuration and seed, same sentences.

use std::collections::VecDeque;

use crate::analysis::patient::{ACD_A_CITRATE_MG_PER_ML, Sex, nadler_tbv_ml};
use crate::model::{
    Alarm, MachineIdentity, MachineState, Payload, Priority, Quantity, Sample, Sentence,
};

use super::rng::Rng;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    pub weight_kg: f64,
    pub height_cm: f64,
    pub sex: Sex,
    /// Total blood volumes to process before rinseback.
    pub target_tbv: f64,
    /// The citrate rate the operator aims the inlet flow at, mg/kg/min.
    pub citrate_target_mg_kg_min: f64,
    /// Inlet:AC ratio (12 means 12:1).
    pub ac_ratio: f64,
    /// Time between samples.
    pub sample_interval_ms: u64,
    /// Access-pressure alarms that pause the run.
    pub access_alarms: usize,
    /// Return-pressure alarms (no pause).
    pub return_alarms: usize,
    /// Pauses for the patient's comfort.
    pub comfort_pauses: usize,
    pub identity: MachineIdentity,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            weight_kg: 80.0,
            height_cm: 178.0,
            sex: Sex::Male,
            target_tbv: 2.5,
            citrate_target_mg_kg_min: 1.1,
            ac_ratio: 12.0,
            sample_interval_ms: 1000,
            access_alarms: 1,
            return_alarms: 1,
            comfort_pauses: 1,
            identity: MachineIdentity {
                model: "SIM-OPTIA".into(),
                serial_no: "SN000123".into(),
                software_version: "1.0.0".into(),
                protocol: "APH/1".into(),
            },
        }
    }
}

impl SimConfig {
    /// Total blood volume of the simulated patient, mL.
    pub fn tbv_ml(&self) -> f64 {
        nadler_tbv_ml(self.sex, self.height_cm, self.weight_kg)
    }

    /// Whole blood to process, mL.
    pub fn target_wb_ml(&self) -> f64 {
        self.tbv_ml() * self.target_tbv
    }

    /// The inlet flow the operator sets, mL/min.
    pub fn base_inlet_ml_min(&self) -> f64 {
        (self.citrate_target_mg_kg_min * self.weight_kg / ACD_A_CITRATE_MG_PER_ML * self.ac_ratio)
            .clamp(15.0, 70.0)
    }
}

const IDLE_MS: u64 = 30_000;
const PRIME_MS: u64 = 8 * 60_000;
const RINSEBACK_MS: u64 = 4 * 60_000;
const COLLECT_START_RUN_MS: u64 = 20 * 60_000;
const IDENTITY_EVERY_MS: u64 = 60_000;
const RAMP_MS: f64 = 180_000.0;
const CENTRIFUGE_RPM: f64 = 1600.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Planned {
    AccessAlarm,
    ReturnAlarm,
    ComfortPause,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Episode {
    /// Access pressure sinking towards the alarm limit.
    AccessFalling { since_ms: u64 },
    /// Paused by the machine for low access pressure; resumes at `until_ms`.
    AccessPaused { until_ms: u64 },
    /// Return pressure rising; the machine slows the inlet until `until_ms`.
    ReturnHigh {
        since_ms: u64,
        until_ms: u64,
        raised: bool,
    },
    /// Paused by the nurse until `until_ms`.
    ComfortPaused { until_ms: u64 },
}

/// The simulated machine. Call [`SimMachine::next_sentence`] until it returns `None`.
#[derive(Debug, Clone)]
pub struct SimMachine {
    config: SimConfig,
    rng: Rng,
    seq: u32,
    t_ms: u64,
    state: MachineState,
    state_since_ms: u64,
    /// Time spent in RUN so far.
    run_ms: u64,
    /// When RUN last (re)started, for the inlet ramp.
    ramp_from_ms: u64,
    inlet_ml: f64,
    ac_ml: f64,
    collect_ml: f64,
    plasma_ml: f64,
    replace_ml: f64,
    /// The operator's slow drift of the inlet set-point, as a factor.
    drift: f64,
    collect_target_ml_min: f64,
    plan: Vec<(f64, Planned)>,
    episode: Option<Episode>,
    queue: VecDeque<Sentence>,
    next_identity_ms: u64,
    collecting_announced: bool,
    ended: bool,
    /// Say who and where we are at the next tick (a listener has just connected).
    announce_pending: bool,
}

impl SimMachine {
    pub fn new(config: SimConfig) -> SimMachine {
        let mut rng = Rng::new(config.seed);
        let mut plan = Vec::new();
        for _ in 0..config.access_alarms {
            plan.push((rng.range(0.2, 0.45), Planned::AccessAlarm));
        }
        for _ in 0..config.return_alarms {
            plan.push((rng.range(0.45, 0.65), Planned::ReturnAlarm));
        }
        for _ in 0..config.comfort_pauses {
            plan.push((rng.range(0.6, 0.85), Planned::ComfortPause));
        }
        plan.sort_by(|a, b| a.0.total_cmp(&b.0));
        let collect_target_ml_min = rng.range(1.1, 1.35);
        let mut machine = SimMachine {
            config,
            rng,
            seq: 0,
            t_ms: 0,
            state: MachineState::Idle,
            state_since_ms: 0,
            run_ms: 0,
            ramp_from_ms: 0,
            inlet_ml: 0.0,
            ac_ml: 0.0,
            collect_ml: 0.0,
            plasma_ml: 0.0,
            replace_ml: 0.0,
            drift: 1.0,
            collect_target_ml_min,
            plan,
            episode: None,
            queue: VecDeque::new(),
            next_identity_ms: IDENTITY_EVERY_MS,
            collecting_announced: false,
            ended: false,
            announce_pending: false,
        };
        machine.push(Payload::Identity(machine.config.identity.clone()));
        machine.push(Payload::State(MachineState::Idle));
        machine.push_sample(0);
        machine
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Whole blood processed so far, mL.
    pub fn wb_processed_ml(&self) -> f64 {
        self.inlet_ml - self.ac_ml
    }

    /// Runs the procedure forward to machine time `t_ms` without emitting what came before
    /// (a machine that kept running while nobody listened). A machine that reached `END`
    /// before `t_ms` still says so: its last sentences (the `END` state) are kept.
    pub fn skip_until(&mut self, t_ms: u64) {
        while self.t_ms < t_ms && !self.ended {
            self.queue.clear();
            self.tick();
        }
        if !self.ended {
            self.queue.retain(|s| s.t_ms >= t_ms);
        }
    }

    /// The next sentence, or `None` after `END`.
    pub fn next_sentence(&mut self) -> Option<Sentence> {
        while self.queue.is_empty() && !self.ended {
            self.tick();
        }
        self.queue.pop_front()
    }

    fn push(&mut self, payload: Payload) {
        let sentence = Sentence {
            seq: self.seq,
            t_ms: self.t_ms,
            payload,
            unknown_keys: 0,
        };
        self.seq = self.seq.wrapping_add(1);
        self.queue.push_back(sentence);
    }

    fn set_state(&mut self, state: MachineState) {
        self.state = state;
        self.state_since_ms = self.t_ms;
        if state == MachineState::Run {
            self.ramp_from_ms = self.t_ms;
        }
        self.push(Payload::State(state));
    }

    fn alarm(&mut self, code: &str, priority: Priority, active: bool, text: &str) {
        self.push(Payload::Alarm(Alarm {
            code: code.into(),
            priority,
            active,
            text: if active { text.into() } else { String::new() },
        }));
    }

    fn progress(&self) -> f64 {
        self.wb_processed_ml() / self.config.target_wb_ml()
    }

    /// A listener has (re)connected: at the next tick the machine sends its identity and its
    /// current state, as a machine does at connect, so a monitor that missed the last state
    /// change does not show a stale one.
    pub fn announce(&mut self) {
        self.announce_pending = true;
    }

    fn tick(&mut self) {
        let dt = self.config.sample_interval_ms;
        self.t_ms += dt;
        let mut identified = false;
        if self.t_ms >= self.next_identity_ms {
            self.next_identity_ms += IDENTITY_EVERY_MS;
            self.push(Payload::Identity(self.config.identity.clone()));
            identified = true;
        }
        if std::mem::take(&mut self.announce_pending) {
            if !identified {
                self.push(Payload::Identity(self.config.identity.clone()));
            }
            self.push(Payload::State(self.state));
        }
        self.advance_phase();
        if self.ended {
            return;
        }
        if self.state == MachineState::Run {
            self.run_ms += dt;
        }
        self.push_sample(dt);
    }

    fn in_state_ms(&self) -> u64 {
        self.t_ms - self.state_since_ms
    }

    fn advance_phase(&mut self) {
        match self.state {
            MachineState::Idle if self.in_state_ms() >= IDLE_MS => {
                self.set_state(MachineState::Prime);
            }
            MachineState::Prime if self.in_state_ms() >= PRIME_MS => {
                self.set_state(MachineState::Run);
            }
            MachineState::Run | MachineState::Pause => self.advance_run(),
            MachineState::Rinseback if self.in_state_ms() >= RINSEBACK_MS => {
                self.set_state(MachineState::End);
                self.ended = true;
            }
            _ => {}
        }
    }

    fn advance_run(&mut self) {
        let now = self.t_ms;
        match self.episode {
            Some(Episode::AccessFalling { since_ms }) if now - since_ms >= 25_000 => {
                self.alarm(
                    "ACCESS_PRESSURE_LOW",
                    Priority::High,
                    true,
                    "Access pressure low - check patient arm",
                );
                self.set_state(MachineState::Pause);
                let pause_ms = self.minutes(2.0, 4.0);
                self.episode = Some(Episode::AccessPaused {
                    until_ms: now + pause_ms,
                });
            }
            Some(Episode::AccessPaused { until_ms }) if now >= until_ms => {
                self.alarm("ACCESS_PRESSURE_LOW", Priority::High, false, "");
                self.set_state(MachineState::Run);
                self.episode = None;
            }
            Some(Episode::ReturnHigh {
                since_ms,
                until_ms,
                raised,
            }) => {
                if !raised && now - since_ms >= 15_000 {
                    self.alarm(
                        "RETURN_PRESSURE_HIGH",
                        Priority::Medium,
                        true,
                        "Return pressure high - check return line",
                    );
                    self.episode = Some(Episode::ReturnHigh {
                        since_ms,
                        until_ms,
                        raised: true,
                    });
                } else if now >= until_ms {
                    self.alarm("RETURN_PRESSURE_HIGH", Priority::Medium, false, "");
                    self.episode = None;
                }
            }
            Some(Episode::ComfortPaused { until_ms }) if now >= until_ms => {
                self.set_state(MachineState::Run);
                self.episode = None;
            }
            Some(_) => {}
            None => self.start_next_episode(),
        }
        if self.state == MachineState::Run
            && !self.collecting_announced
            && self.run_ms >= COLLECT_START_RUN_MS
        {
            self.collecting_announced = true;
            self.alarm(
                "COLLECT_STARTED",
                Priority::Info,
                true,
                "Collection phase started",
            );
        }
    }

    fn start_next_episode(&mut self) {
        if self.state != MachineState::Run {
            return;
        }
        let progress = self.progress();
        if progress >= 1.0 {
            self.alarm(
                "TARGET_REACHED",
                Priority::Info,
                true,
                "Target volume processed",
            );
            self.set_state(MachineState::Rinseback);
            return;
        }
        let Some(&(at, planned)) = self.plan.first() else {
            return;
        };
        if progress < at {
            return;
        }
        self.plan.remove(0);
        let now = self.t_ms;
        self.episode = Some(match planned {
            Planned::AccessAlarm => Episode::AccessFalling { since_ms: now },
            Planned::ReturnAlarm => Episode::ReturnHigh {
                since_ms: now,
                until_ms: now + self.minutes(1.0, 2.0),
                raised: false,
            },
            Planned::ComfortPause => {
                self.set_state(MachineState::Pause);
                Episode::ComfortPaused {
                    until_ms: now + self.minutes(4.0, 8.0),
                }
            }
        });
    }

    fn minutes(&mut self, low: f64, high: f64) -> u64 {
        let ms = self.rng.range(low, high) * 60_000.0;
        // Whole seconds; the value is a few minutes.
        (ms / 1000.0).round() as u64 * 1000
    }

    fn push_sample(&mut self, dt_ms: u64) {
        let dt_min = dt_ms as f64 / 60_000.0;
        let t = self.t_ms as f64;
        // The operator's set-point drifts slowly within ±6 %.
        self.drift = (self.drift + 0.002 * self.rng.normal() * dt_min.sqrt()).clamp(0.94, 1.06);
        let wave = 1.0 + 0.03 * (t / 2_400_000.0 * std::f64::consts::TAU).sin();
        let ramp = ((t - self.ramp_from_ms as f64) / RAMP_MS).clamp(0.0, 1.0);
        let slowed = matches!(self.episode, Some(Episode::ReturnHigh { raised: true, .. }));

        let (inlet, collect, return_flow, replace) = match self.state {
            MachineState::Run => {
                let mut inlet =
                    self.config.base_inlet_ml_min() * self.drift * wave * (0.5 + 0.5 * ramp);
                if slowed {
                    inlet *= 0.8;
                }
                let collect = if self.run_ms >= COLLECT_START_RUN_MS {
                    (self.collect_target_ml_min + 0.05 * self.rng.normal()).clamp(0.9, 1.6)
                } else {
                    0.0
                };
                (inlet, collect, (inlet - collect).max(0.0), 0.0)
            }
            MachineState::Rinseback => (0.0, 0.0, 50.0, 50.0),
            _ => (0.0, 0.0, 0.0, 0.0),
        };
        let ac = inlet / self.config.ac_ratio;
        self.inlet_ml += inlet * dt_min;
        self.ac_ml += ac * dt_min;
        self.collect_ml += collect * dt_min;
        self.replace_ml += replace * dt_min;

        let noise = |rng: &mut Rng, sd: f64| sd * rng.normal();
        let (access, ret) = match self.state {
            MachineState::Run => {
                let mut access = -(15.0 + 0.6 * inlet) + noise(&mut self.rng, 2.5);
                if let Some(Episode::AccessFalling { since_ms }) = self.episode {
                    let k = ((t - since_ms as f64) / 25_000.0).clamp(0.0, 1.0);
                    access += -230.0 * k;
                }
                let mut ret = 30.0 + 1.6 * return_flow + noise(&mut self.rng, 3.0);
                if let Some(Episode::ReturnHigh { since_ms, .. }) = self.episode {
                    let k = ((t - since_ms as f64) / 15_000.0).clamp(0.0, 1.0);
                    ret += if slowed { 180.0 } else { 230.0 * k };
                }
                (access, ret)
            }
            MachineState::Rinseback => (
                -5.0 + noise(&mut self.rng, 1.5),
                30.0 + 1.6 * return_flow + noise(&mut self.rng, 3.0),
            ),
            _ => (
                noise(&mut self.rng, 1.5) - 4.0,
                12.0 + noise(&mut self.rng, 1.5),
            ),
        };
        let centrifuge = match self.state {
            MachineState::Idle | MachineState::End => 0.0,
            MachineState::Prime => {
                CENTRIFUGE_RPM * (self.in_state_ms() as f64 / 120_000.0).clamp(0.0, 1.0)
            }
            MachineState::Run | MachineState::Pause => CENTRIFUGE_RPM + noise(&mut self.rng, 3.0),
            MachineState::Rinseback => {
                CENTRIFUGE_RPM * (1.0 - self.in_state_ms() as f64 / RINSEBACK_MS as f64).max(0.0)
            }
        };
        let flow_noise = |rng: &mut Rng, v: f64| {
            if v > 0.0 {
                (v + 0.15 * rng.normal()).max(0.0)
            } else {
                0.0
            }
        };
        let sample = Sample::default()
            .with(
                Quantity::InletMlMin,
                round(flow_noise(&mut self.rng, inlet), 1),
            )
            .with(Quantity::AcMlMin, round(ac, 2))
            .with(
                Quantity::ReturnMlMin,
                round(flow_noise(&mut self.rng, return_flow), 1),
            )
            .with(Quantity::CollectMlMin, round(collect, 2))
            .with(Quantity::PlasmaMlMin, 0.0)
            .with(Quantity::InletMl, round(self.inlet_ml, 1))
            .with(Quantity::AcMl, round(self.ac_ml, 1))
            .with(Quantity::CollectMl, round(self.collect_ml, 1))
            .with(Quantity::PlasmaMl, round(self.plasma_ml, 1))
            .with(Quantity::ReplaceMl, round(self.replace_ml, 1))
            .with(Quantity::AccessMmhg, round(access.clamp(-490.0, 290.0), 0))
            .with(Quantity::ReturnMmhg, round(ret.clamp(-290.0, 590.0), 0))
            .with(Quantity::CentrifugeRpm, round(centrifuge.max(0.0), 0))
            .with(Quantity::AcRatio, self.config.ac_ratio);
        self.push(Payload::Sample(sample));
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    let rounded = (value * k).round() / k;
    // No negative zero on the wire.
    if rounded == 0.0 { 0.0 } else { rounded }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_all(config: SimConfig) -> Vec<Sentence> {
        let mut machine = SimMachine::new(config);
        std::iter::from_fn(|| machine.next_sentence()).collect()
    }

    fn states(sentences: &[Sentence]) -> Vec<(MachineState, u64)> {
        sentences
            .iter()
            .filter_map(|s| match s.payload {
                Payload::State(state) => Some((state, s.t_ms)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_default_run_is_a_realistic_adult_leukapheresis() {
        let config = SimConfig::default();
        let target_wb = config.target_wb_ml();
        let sentences = run_all(config);
        let order: Vec<MachineState> = states(&sentences).iter().map(|s| s.0).collect();
        assert_eq!(
            order,
            [
                MachineState::Idle,
                MachineState::Prime,
                MachineState::Run,
                MachineState::Pause,
                MachineState::Run,
                MachineState::Pause,
                MachineState::Run,
                MachineState::Rinseback,
                MachineState::End
            ]
        );
        let end_ms = sentences.last().unwrap().t_ms;
        let hours = end_ms as f64 / 3_600_000.0;
        assert!((4.0..=6.0).contains(&hours), "{hours} h");

        let samples: Vec<(u64, Sample)> = sentences
            .iter()
            .filter_map(|s| match s.payload {
                Payload::Sample(sample) => Some((s.t_ms, sample)),
                _ => None,
            })
            .collect();
        let last = samples.last().unwrap().1;
        let wb = last.get(Quantity::InletMl).unwrap() - last.get(Quantity::AcMl).unwrap();
        assert!(
            wb >= target_wb && wb < target_wb * 1.02,
            "{wb} vs {target_wb}"
        );
        let product = last.get(Quantity::CollectMl).unwrap();
        assert!((150.0..=450.0).contains(&product), "{product} mL");

        // Run flows within the usual bounds; AC at 12:1; volumes never decrease.
        let mut previous = Sample::default();
        for (_, s) in &samples {
            let inlet = s.get(Quantity::InletMlMin).unwrap();
            assert!((0.0..=70.0).contains(&inlet));
            if inlet > 20.0 {
                let ratio = inlet / s.get(Quantity::AcMlMin).unwrap();
                assert!((11.0..13.0).contains(&ratio), "{ratio}");
            }
            for q in Quantity::ALL.into_iter().filter(|q| q.is_cumulative()) {
                assert!(s.get(q) >= previous.get(q), "{q:?} decreased");
            }
            previous = *s;
        }
        // Cumulative inlet agrees with the integral of the reported flow within 1 %.
        let integral: f64 = samples
            .windows(2)
            .map(|w| {
                w[1].1.get(Quantity::InletMlMin).unwrap() * (w[1].0 - w[0].0) as f64 / 60_000.0
            })
            .sum();
        let inlet_ml = last.get(Quantity::InletMl).unwrap();
        assert!(
            (integral - inlet_ml).abs() / inlet_ml < 0.01,
            "{integral} vs {inlet_ml}"
        );

        // Alarms: raised and cleared in pairs.
        let alarms: Vec<(String, bool)> = sentences
            .iter()
            .filter_map(|s| match &s.payload {
                Payload::Alarm(a) if a.priority != Priority::Info => {
                    Some((a.code.clone(), a.active))
                }
                _ => None,
            })
            .collect();
        assert_eq!(alarms.len(), 4, "{alarms:?}");
    }

    #[test]
    fn collect_starts_about_twenty_minutes_into_the_run() {
        let sentences = run_all(SimConfig::default());
        let run_start = states(&sentences)
            .iter()
            .find(|s| s.0 == MachineState::Run)
            .unwrap()
            .1;
        let first_collect = sentences
            .iter()
            .find_map(|s| match s.payload {
                Payload::Sample(sample) if sample.get(Quantity::CollectMlMin).unwrap() > 0.0 => {
                    Some(s.t_ms)
                }
                _ => None,
            })
            .unwrap();
        let minutes = (first_collect - run_start) as f64 / 60_000.0;
        assert!((19.0..=25.0).contains(&minutes), "{minutes}");
    }

    #[test]
    fn same_seed_same_session_other_seed_other_session() {
        let short = |seed| SimConfig {
            seed,
            target_tbv: 0.2,
            ..SimConfig::default()
        };
        assert_eq!(run_all(short(5)), run_all(short(5)));
        assert_ne!(run_all(short(5)), run_all(short(6)));
    }

    #[test]
    fn after_a_reconnection_the_machine_says_who_it_is_and_its_state() {
        let mut machine = SimMachine::new(SimConfig {
            target_tbv: 0.1,
            ..SimConfig::default()
        });
        machine.skip_until(600_000);
        machine.announce();
        // What was queued for this moment comes first; the next tick opens with the
        // introduction.
        let next: Vec<Payload> = (0..6)
            .filter_map(|_| machine.next_sentence())
            .map(|s| s.payload)
            .collect();
        let at = next
            .iter()
            .position(|p| *p == Payload::State(MachineState::Run))
            .expect("the state is announced");
        assert!(matches!(next[at - 1], Payload::Identity(_)), "{next:?}");
    }

    #[test]
    fn sequence_numbers_count_every_sentence() {
        let sentences = run_all(SimConfig {
            target_tbv: 0.1,
            ..SimConfig::default()
        });
        for (i, s) in sentences.iter().enumerate() {
            assert_eq!(s.seq as usize, i);
        }
    }

    #[test]
    fn a_machine_skipped_past_its_end_still_reports_end() {
        let config = SimConfig::default();
        let end_ms = states(&run_all(config.clone()))
            .last()
            .map(|&(state, t_ms)| {
                assert_eq!(state, MachineState::End);
                t_ms
            })
            .unwrap_or_default();
        let mut machine = SimMachine::new(config);
        machine.skip_until(end_ms + 3_600_000);
        let rest: Vec<Sentence> = std::iter::from_fn(|| machine.next_sentence()).collect();
        assert_eq!(states(&rest), vec![(MachineState::End, end_ms)]);
    }
}
