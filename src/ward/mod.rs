//! The unit's shared view through an MQTT broker: what a bedside publishes and the ward reads.
//!
//! Everything a bedside publishes lives under `apheresis/<bed>/` ([`topic`]), so a broker ACL
//! such as `pattern readwrite apheresis/%u/#` confines each bedside to its own subtree. The
//! messages ([`message`]) are versioned JSON, the one definition both sides use.
//!
//! **Architecture Invariant:** no patient identifier leaves the bedside unless a setting allows
//! it ([`message::BedStatus::patient`] is `None` by default); the bed name is the key.

pub mod bedside;
pub mod board;
#[cfg(feature = "ward")]
pub mod broker;
pub mod message;
#[cfg(feature = "ward")]
pub mod publish;
#[cfg(feature = "ward")]
pub mod subscribe;
pub mod topic;
