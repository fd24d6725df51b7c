//! The chain of identity of a collection: the patient's numbers and the collection's ID,
//! checked where they are typed so that one wrong digit is caught before the record travels
//! with the product.
//!
//! - An NHS number is ten digits whose last is a modulus 11 check digit.
//! - An ISBT 128 donation identification number (DIN) is a 5-character facility code, a
//!   2-digit year and a 6-digit sequence; its check character is ISO 7064 modulus 37-2 over
//!   those 13 characters. It may be typed with spaces, with or without the leading `=` and the
//!   two flag characters of the barcode, and with its eye-readable check character last.

use std::fmt;

/// An NHS number, checked: ten digits, valid check digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Reads an NHS number typed with or without spaces or dashes (`943 476 5919`).
    pub fn parse(text: &str) -> Result<NhsNumber, IdentityError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdentityError::NhsNotTenDigits);
        }
        let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = d[..9]
            .iter()
            .zip((2..=10).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err(IdentityError::NhsInvalid),
            c => c,
        };
        if check != d[9] {
            return Err(IdentityError::NhsCheckDigit);
        }
        Ok(NhsNumber(digits))
    }

    /// The ten digits, unspaced.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NhsNumber {
    /// As the NHS prints it: `943 476 5919`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

/// An ISBT 128 donation identification number, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Din {
    /// The 13 characters: facility, year, sequence.
    number: String,
    /// The eye-readable check character.
    check: char,
}

impl Din {
    /// Reads a DIN as printed (`G1234 98 654321 H`, with or without spaces), as scanned
    /// (`=G123498654321` followed by two flag characters), or as 13 characters alone (the check
    /// character is then computed). A check character that does not match is refused.
    pub fn parse(text: &str) -> Result<Din, IdentityError> {
        let compact: String = text
            .trim()
            .trim_start_matches('=')
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !compact.is_ascii() {
            return Err(IdentityError::DinShape);
        }
        let (number, typed_check) = match compact.len() {
            13 => (&compact[..], None),
            14 => (&compact[..13], compact[13..].chars().next()),
            // As scanned: 13 characters and two flag digits; flags 60–96 carry the check.
            15 => (&compact[..13], None),
            _ => return Err(IdentityError::DinLength),
        };
        let facility = &number[..5];
        if !facility.chars().all(|c| c.is_ascii_alphanumeric())
            || !facility.starts_with(|c: char| c.is_ascii_uppercase())
            || !number[5..].chars().all(|c| c.is_ascii_digit())
        {
            return Err(IdentityError::DinShape);
        }
        let check = mod37_2_check(number).ok_or(IdentityError::DinShape)?;
        if compact.len() == 15 {
            let flags: u32 = compact[13..].parse().map_err(|_| IdentityError::DinShape)?;
            if (60..=96).contains(&flags) && Some(flags - 60) != check_value(check) {
                return Err(IdentityError::DinCheck);
            }
        }
        if let Some(typed) = typed_check
            && typed != check
        {
            return Err(IdentityError::DinCheck);
        }
        Ok(Din {
            number: number.to_owned(),
            check,
        })
    }

    /// The eye-readable check character.
    pub fn check_character(&self) -> char {
        self.check
    }
}

impl fmt::Display for Din {
    /// As printed on a label: `G1234 98 654321 H`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.number;
        write!(f, "{} {} {} {}", &n[..5], &n[5..7], &n[7..], self.check)
    }
}

/// The characters of ISO 7064 modulus 37-2, in value order.
const MOD37_CHARS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

fn check_value(c: char) -> Option<u32> {
    MOD37_CHARS.find(c).map(|i| i as u32)
}

/// The ISO 7064 modulus 37-2 check character of `text`; `None` if a character has no value.
pub fn mod37_2_check(text: &str) -> Option<char> {
    let mut sum = 0u32;
    for c in text.chars() {
        sum = ((sum + check_value(c)?) * 2) % 37;
    }
    let check = (38 - sum) % 37;
    MOD37_CHARS.chars().nth(check as usize)
}

/// A collection's ID: an ISBT 128 DIN when it looks like one (checked), or the
/// manufacturer's own ID (letters, digits and `-`, `_`, `/`, `.`; 3 to 40 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionId {
    Din(Din),
    Manufacturer(String),
}

impl CollectionId {
    pub fn parse(text: &str) -> Result<CollectionId, IdentityError> {
        let trimmed = text.trim();
        let compact: String = trimmed
            .trim_start_matches('=')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        // Anything of a DIN's length and shape is checked as one: a mistyped DIN is never
        // taken as a manufacturer's ID.
        let din_like = (13..=15).contains(&compact.len())
            && compact.starts_with(|c: char| c.is_ascii_alphabetic())
            && compact.chars().skip(5).take(8).all(|c| c.is_ascii_digit());
        if trimmed.starts_with('=') || din_like {
            return Din::parse(trimmed).map(CollectionId::Din);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.');
        if !(3..=40).contains(&trimmed.len()) || !trimmed.chars().all(allowed) {
            return Err(IdentityError::CollectionIdShape);
        }
        Ok(CollectionId::Manufacturer(trimmed.to_owned()))
    }
}

impl fmt::Display for CollectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectionId::Din(din) => din.fmt(f),
            CollectionId::Manufacturer(id) => f.write_str(id),
        }
    }
}

/// Why an identifier is refused. The messages never repeat the identifier (they may be
/// logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("an NHS number has 10 digits")]
    NhsNotTenDigits,
    #[error("this is not an NHS number: no check digit can make it valid")]
    NhsInvalid,
    #[error("the NHS number's check digit does not match: a digit is mistyped")]
    NhsCheckDigit,
    #[error("a donation identification number has 13 characters and a check character")]
    DinLength,
    #[error("a donation identification number is a 5-character facility code, then 8 digits")]
    DinShape,
    #[error("the donation identification number's check character does not match")]
    DinCheck,
    #[error("a collection ID is 3 to 40 letters, digits, '-', '_', '/' or '.'")]
    CollectionIdShape,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_checked_by_modulus_11() {
        for (typed, result) in [
            ("9434765919", Ok("943 476 5919")),
            ("943 476 5919", Ok("943 476 5919")),
            ("943-476-5919", Ok("943 476 5919")),
            ("4010232137", Ok("401 023 2137")),
            // Check digit 11 → 0.
            ("0000000000", Ok("000 000 0000")),
            ("9434765918", Err(IdentityError::NhsCheckDigit)),
            // Two digits swapped: caught.
            ("9434765991", Err(IdentityError::NhsCheckDigit)),
            ("4934765919", Err(IdentityError::NhsCheckDigit)),
            ("943476591", Err(IdentityError::NhsNotTenDigits)),
            ("94347659190", Err(IdentityError::NhsNotTenDigits)),
            ("94347659A9", Err(IdentityError::NhsNotTenDigits)),
            ("", Err(IdentityError::NhsNotTenDigits)),
            // Remainder 1: check 10, no valid number.
            ("1000000010", Err(IdentityError::NhsInvalid)),
        ] {
            assert_eq!(
                NhsNumber::parse(typed).map(|n| n.to_string()),
                result.map(str::to_owned),
                "{typed}"
            );
        }
    }

    #[test]
    fn din_check_characters_follow_iso_7064_mod_37_2() {
        // The worked example of the UK transfusion guidelines (Red Book, annex 2).
        assert_eq!(mod37_2_check("G123498654321"), Some('H'));
        assert_eq!(mod37_2_check("G12349865432a"), None);
        for (typed, result) in [
            ("G1234 98 654321 H", Ok("G1234 98 654321 H")),
            ("g123498654321h", Ok("G1234 98 654321 H")),
            ("G123498654321", Ok("G1234 98 654321 H")),
            // Scanned: '=' and flag characters 60 + 17.
            ("=G12349865432177", Ok("G1234 98 654321 H")),
            ("=G12349865432100", Ok("G1234 98 654321 H")),
            ("=G12349865432176", Err(IdentityError::DinCheck)),
            ("G1234 98 654321 J", Err(IdentityError::DinCheck)),
            // One digit mistyped.
            ("G1234 98 654331 H", Err(IdentityError::DinCheck)),
            ("G1234 98 65432 H", Err(IdentityError::DinShape)),
            ("G1234 98 6543 H", Err(IdentityError::DinLength)),
            ("11234 98 654321 H", Err(IdentityError::DinShape)),
            ("G1234 9X 654321 H", Err(IdentityError::DinShape)),
            ("G1234 98 6543é1 H", Err(IdentityError::DinShape)),
        ] {
            assert_eq!(
                Din::parse(typed).map(|d| d.to_string()),
                result.map(str::to_owned),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_collection_id_is_a_checked_din_or_a_manufacturer_id() {
        assert!(matches!(
            CollectionId::parse("G1234 98 654321 H"),
            Ok(CollectionId::Din(_))
        ));
        // Shaped like a DIN but mistyped: refused, not taken as the manufacturer's.
        assert_eq!(
            CollectionId::parse("G1234 98 654331 H"),
            Err(IdentityError::DinCheck)
        );
        assert_eq!(
            CollectionId::parse("KTE-2026-00417").map(|c| c.to_string()),
            Ok("KTE-2026-00417".to_owned())
        );
        assert_eq!(
            CollectionId::parse("Gé234 98 654321 H"),
            Err(IdentityError::DinShape)
        );
        for bad in ["", "ab", "has space", "semi;colon", &"x".repeat(41)] {
            assert_eq!(
                CollectionId::parse(bad),
                Err(IdentityError::CollectionIdShape),
                "{bad}"
            );
        }
    }
}
