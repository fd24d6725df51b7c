//! The topics: `apheresis/<bed>/status` (retained, ≤ 1 Hz), `apheresis/<bed>/online`
//! (retained `true`, set `false` by the client's last will), `apheresis/<bed>/alarm` (events,
//! QoS 1) and `apheresis/<bed>/trend` (retained rolling window for the ward's trend view).

/// The root of every topic.
pub const ROOT: &str = "apheresis";

/// The longest bed name accepted.
pub const MAX_BED_LEN: usize = 32;

/// A bed's name, checked: 1 to 32 letters, digits, `-` or `_`. It is an MQTT topic level
/// and the broker user name in the reference ACL, so nothing else is allowed (`/`, `+`, `#`
/// and spaces would break the subtree the bed is confined to).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Bed(String);

/// Why a bed name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BedError {
    #[error("the bed name is empty")]
    Empty,
    #[error("the bed name is longer than {MAX_BED_LEN} characters")]
    TooLong,
    #[error(
        "the bed name {0:?} may hold only letters, digits, '-' and '_' (it is an MQTT topic level)"
    )]
    Character(String),
}

impl Bed {
    pub fn new(name: &str) -> Result<Bed, BedError> {
        if name.is_empty() {
            return Err(BedError::Empty);
        }
        if name.chars().count() > MAX_BED_LEN {
            return Err(BedError::TooLong);
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(BedError::Character(name.to_owned()));
        }
        Ok(Bed(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `apheresis/<bed>/status`.
    pub fn status(&self) -> String {
        format!("{ROOT}/{}/status", self.0)
    }

    /// `apheresis/<bed>/online`.
    pub fn online(&self) -> String {
        format!("{ROOT}/{}/online", self.0)
    }

    /// `apheresis/<bed>/alarm`.
    pub fn alarm(&self) -> String {
        format!("{ROOT}/{}/alarm", self.0)
    }

    /// `apheresis/<bed>/trend`.
    pub fn trend(&self) -> String {
        format!("{ROOT}/{}/trend", self.0)
    }
}

impl std::fmt::Display for Bed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Bed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bed, D::Error> {
        let name = String::deserialize(d)?;
        Bed::new(&name).map_err(serde::de::Error::custom)
    }
}

/// What a topic under [`ROOT`] is about: the bed and the kind, or `None` for a topic outside
/// the scheme (ignored by the ward).
pub fn parse(topic: &str) -> Option<(Bed, Kind)> {
    let mut levels = topic.split('/');
    if levels.next() != Some(ROOT) {
        return None;
    }
    let bed = Bed::new(levels.next()?).ok()?;
    let kind = match levels.next()? {
        "status" => Kind::Status,
        "online" => Kind::Online,
        "alarm" => Kind::Alarm,
        "trend" => Kind::Trend,
        _ => return None,
    };
    levels.next().is_none().then_some((bed, kind))
}

/// The kinds of topic of a bed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Status,
    Online,
    Alarm,
    Trend,
}

/// What the ward subscribes to: every bed's topics.
pub const WARD_FILTER: &str = "apheresis/+/+";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bed_names_are_single_safe_topic_levels() {
        let bed = Bed::new("bay-3_A").unwrap();
        assert_eq!(bed.status(), "apheresis/bay-3_A/status");
        assert_eq!(parse(&bed.online()), Some((bed.clone(), Kind::Online)));
        for bad in ["", "a/b", "+", "#", "bed 1", "bé", &"x".repeat(33)] {
            assert!(Bed::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse("apheresis/bay1/status/extra"), None);
        assert_eq!(parse("other/bay1/status"), None);
        assert_eq!(parse("apheresis/bay1/unknown"), None);
        let json: Result<Bed, _> = serde_json::from_str("\"a/b\"");
        assert!(json.is_err());
    }
}
