//! The alarm limits of a patient's session. The app's settings are the defaults; the session's
//! metadata (`limits`, written when the session starts and changed in the alarm limits window)
//! holds the session's own; `alarms --limits FILE` lays a file's over them to try other limits
//! on a past session.
//!
//! Limits are read key by key over the defaults: a value that cannot be used is reported and
//! the default kept for that key alone, so one bad value never loses the others. Keys no setting
//! has are reported (a misspelt key would otherwise be silently ignored) and kept in the
//! metadata when it is rewritten.

use serde_json::{Map, Value};

use super::citrate::{self, CitrateSettings};
use super::engine::AlarmSettings;
use crate::recording::meta::LimitsMeta;

/// The settings a session's rules run with, and what in the limits given could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLimits {
    pub settings: AlarmSettings,
    /// Why a value given could not be used; the default is used for it instead.
    pub problems: Vec<String>,
    /// Keys given that no setting has (`rule` or `rule.field`), ignored.
    pub unknown: Vec<String>,
}

impl SessionLimits {
    /// The session's limits from its metadata, over `defaults` (the app's settings).
    pub fn from_meta(defaults: &AlarmSettings, limits: Option<&LimitsMeta>) -> SessionLimits {
        match limits {
            Some(LimitsMeta(value)) => SessionLimits::from_json(defaults, value),
            None => SessionLimits {
                settings: *defaults,
                problems: Vec::new(),
                unknown: Vec::new(),
            },
        }
    }

    /// `value`'s limits over `defaults`: each key given replaces the default's; a rule's
    /// object may give some of its fields only.
    pub fn from_json(defaults: &AlarmSettings, value: &Value) -> SessionLimits {
        let mut out = SessionLimits {
            settings: *defaults,
            problems: Vec::new(),
            unknown: Vec::new(),
        };
        let Value::Object(given) = value else {
            out.problems
                .push(format!("limits {value} is not a JSON object of rules"));
            return out;
        };
        let Ok(Value::Object(mut merged)) = serde_json::to_value(defaults) else {
            return out;
        };
        for (key, value) in given {
            let Some(default) = merged.get(key) else {
                out.unknown.push(key.clone());
                continue;
            };
            if let (Value::Object(fields), Value::Object(given_fields)) = (default, value) {
                out.unknown.extend(
                    given_fields
                        .keys()
                        .filter(|k| !fields.contains_key(*k))
                        .map(|k| format!("{key}.{k}")),
                );
            }
            let mut candidate = merged.clone();
            candidate.insert(key.clone(), overlay(default, value));
            match serde_json::from_value::<AlarmSettings>(Value::Object(candidate.clone())) {
                Ok(_) => merged = candidate,
                Err(e) => out.problems.push(format!("limits {key}: {e}")),
            }
        }
        if let Ok(settings) = serde_json::from_value::<AlarmSettings>(Value::Object(merged)) {
            out.settings = settings;
        }
        out.check_citrate(defaults);
        out
    }

    /// Keeps the citrate rule's values within what a person may set; each one outside goes
    /// back to the default.
    fn check_citrate(&mut self, defaults: &AlarmSettings) {
        let limit = self.settings.citrate_high.limit;
        let (low, high) = citrate::LIMIT_RANGE;
        if !(low..=high).contains(&limit) {
            self.problems.push(format!(
                "citrate limit {limit} mL/min per L TBV is outside {low}–{high}"
            ));
            self.settings.citrate_high.limit = defaults.citrate_high.limit;
        }
        let given = self.settings.citrate;
        for problem in given.problems() {
            self.problems.push(problem);
        }
        let usable = |c: CitrateSettings| c.problems().is_empty();
        let average_only = CitrateSettings {
            anticoagulant: defaults.citrate.anticoagulant,
            ..given
        };
        if !usable(average_only) {
            self.settings.citrate.average_min = defaults.citrate.average_min;
        }
        if given.anticoagulant.problem().is_some() {
            self.settings.citrate.anticoagulant = defaults.citrate.anticoagulant;
        }
    }

    /// Everything that could not be used, one line each.
    pub fn complaints(&self) -> Vec<String> {
        let mut lines = self.problems.clone();
        lines.extend(
            self.unknown
                .iter()
                .map(|k| format!("limits: no setting is called `{k}`")),
        );
        lines
    }
}

/// `given` over `default`: a rule's fields one by one when both are objects, else `given`.
fn overlay(default: &Value, given: &Value) -> Value {
    match (default, given) {
        (Value::Object(default), Value::Object(given)) => {
            let mut merged = default.clone();
            for (k, v) in given {
                merged.insert(k.clone(), v.clone());
            }
            Value::Object(merged)
        }
        _ => given.clone(),
    }
}

/// The limits to store in a session's metadata: every setting of `settings`, over what
/// `existing` holds, so that keys this version does not know survive the rewrite.
pub fn limits_meta(settings: &AlarmSettings, existing: Option<&LimitsMeta>) -> LimitsMeta {
    let mut map = match existing {
        Some(LimitsMeta(Value::Object(map))) => map.clone(),
        _ => Map::new(),
    };
    if let Ok(Value::Object(values)) = serde_json::to_value(settings) {
        for (key, value) in values {
            let merged = map
                .get(&key)
                .map_or_else(|| value.clone(), |old| overlay(old, &value));
            map.insert(key, merged);
        }
    }
    LimitsMeta(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::citrate::Anticoagulant;
    use serde_json::json;

    #[test]
    fn no_limits_in_the_metadata_means_the_defaults() {
        let mut defaults = AlarmSettings::default();
        defaults.citrate_high.limit = 1.0;
        let limits = SessionLimits::from_meta(&defaults, None);
        assert_eq!(limits.settings, defaults);
        assert!(limits.complaints().is_empty());
    }

    #[test]
    fn a_session_gives_some_fields_and_keeps_the_defaults_for_the_rest() {
        let defaults = AlarmSettings::default();
        let limits = SessionLimits::from_json(
            &defaults,
            &json!({
                "citrate_acd_a_ml_min_per_l_tbv": { "limit": 1.0 },
                "citrate": { "anticoagulant": "ACD-B" },
                "access_low": { "limit": -180.0, "delay_s": 10.0 }
            }),
        );
        assert!(limits.complaints().is_empty(), "{:?}", limits.complaints());
        let s = limits.settings;
        assert_eq!(s.citrate_high.limit, 1.0);
        assert_eq!(s.citrate_high.delay_s, defaults.citrate_high.delay_s);
        assert!(s.citrate_high.enabled);
        assert_eq!(s.citrate.anticoagulant, Anticoagulant::AcdB);
        assert_eq!(s.citrate.average_min, 5.0);
        assert_eq!((s.access_low.limit, s.access_low.delay_s), (-180.0, 10.0));
        assert_eq!(s.return_high, defaults.return_high);
    }

    #[test]
    fn a_bad_value_is_reported_and_only_that_key_keeps_its_default() {
        let defaults = AlarmSettings::default();
        let limits = SessionLimits::from_json(
            &defaults,
            &json!({
                "return_high": { "limit": "high" },
                "citrate_acd_a_ml_min_per_l_tbv": { "limit": 9.0 },
                "citrate": { "average_min": 1, "anticoagulant": { "custom": { "citrate_mg_per_ml": 16.0 } } },
                "access_low": { "limit": -150.0, "dealy_s": 3 },
                "citrate_limit": 1.0
            }),
        );
        let s = limits.settings;
        assert_eq!(s.return_high, defaults.return_high);
        assert_eq!(s.citrate_high.limit, 1.2, "9 is outside 0.4–2.5");
        assert_eq!(
            s.citrate.average_min, 5.0,
            "1 min is under the 2 min minimum"
        );
        assert_eq!(
            s.citrate.anticoagulant,
            Anticoagulant::Custom {
                citrate_mg_per_ml: 16.0
            },
            "the valid part of the citrate settings is kept"
        );
        assert_eq!(s.access_low.limit, -150.0);
        assert_eq!(limits.problems.len(), 3, "{:?}", limits.problems);
        assert!(limits.problems[0].starts_with("limits return_high: "));
        assert_eq!(
            limits.problems[1..],
            [
                "citrate limit 9 mL/min per L TBV is outside 0.4–2.5",
                "citrate averaging 1 min is outside 2–15 min"
            ]
        );
        assert_eq!(limits.unknown, ["access_low.dealy_s", "citrate_limit"]);
        assert_eq!(
            limits.complaints()[3..],
            [
                "limits: no setting is called `access_low.dealy_s`",
                "limits: no setting is called `citrate_limit`"
            ]
        );
        let not_an_object = SessionLimits::from_json(&defaults, &json!([1.2]));
        assert_eq!(not_an_object.settings, defaults);
        assert_eq!(
            not_an_object.problems,
            ["limits [1.2] is not a JSON object of rules"]
        );
        let bad_custom = SessionLimits::from_json(
            &defaults,
            &json!({"citrate": {"anticoagulant": {"custom": {"citrate_mg_per_ml": 0.0}}}}),
        );
        assert_eq!(
            bad_custom.settings.citrate.anticoagulant,
            Anticoagulant::AcdA
        );
        assert_eq!(bad_custom.problems.len(), 1);
    }

    #[test]
    fn stored_limits_read_back_as_the_same_settings_and_keep_unknown_keys() {
        let mut settings = AlarmSettings::default();
        settings.citrate_high.limit = 1.1;
        settings.citrate.average_min = 3.0;
        settings.citrate.anticoagulant = Anticoagulant::TrisodiumCitrate4;
        settings.no_data.enabled = false;
        let existing = LimitsMeta(json!({
            "from_a_later_version": {"x": 1},
            "citrate": {"note": "kept", "average_min": 5}
        }));
        let stored = limits_meta(&settings, Some(&existing));
        assert_eq!(stored.0["from_a_later_version"], json!({"x": 1}));
        assert_eq!(stored.0["citrate"]["note"], "kept");
        assert_eq!(stored.0["citrate"]["average_min"], 3.0);
        let back = SessionLimits::from_meta(&AlarmSettings::default(), Some(&stored));
        assert_eq!(back.settings, settings);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.unknown, ["citrate.note", "from_a_later_version"]);
        // The old key of the mg/kg/min limit is not read as the new one.
        let old = SessionLimits::from_json(
            &AlarmSettings::default(),
            &json!({"citrate_high": {"limit": 2.0}}),
        );
        assert_eq!(old.settings.citrate_high.limit, 1.2);
        assert_eq!(old.unknown, ["citrate_high"]);
    }
}
