//! The validity period of an X.509 certificate, read from its DER.
//!
//! Operators need one fact from their certificate, when it expires, to be
//! warned before it does (the outage that takes Fabric networks down). A
//! full X.509 parser is a dozen crates for that; the path to `notAfter` is
//! five fixed steps through the `TBSCertificate` (RFC 5280 §4.1), so this
//! reads just that, bounds-checked at every step. rustls has already
//! refused a malformed certificate before this runs, and a certificate
//! this cannot read only loses the expiry metric, never the API.

use cityledger_types::civil;

/// When a certificate stops being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// `notAfter`, in seconds since the Unix epoch (UTC).
    pub not_after_unix_s: i64,
    /// The same instant as RFC 3339 text, for logs and `config check`.
    pub not_after_text: String,
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_INTEGER: u8 = 0x02;
const TAG_VERSION: u8 = 0xa0;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
/// Longest length field read: four bytes is 4 GiB, far past any certificate.
const LENGTH_BYTES_MAX: usize = 4;

/// The expiry of the certificate `der`, or `None` when it is not shaped as
/// RFC 5280 says.
pub fn expiry(der: &[u8]) -> Option<Expiry> {
    let (certificate, _) = element(der, TAG_SEQUENCE)?;
    let (tbs, _) = element(certificate, TAG_SEQUENCE)?;
    let mut rest = tbs;
    if rest.first() == Some(&TAG_VERSION) {
        rest = element(rest, TAG_VERSION)?.1;
    }
    let (_serial, rest) = element(rest, TAG_INTEGER)?;
    let (_signature_algorithm, rest) = element(rest, TAG_SEQUENCE)?;
    let (_issuer, rest) = element(rest, TAG_SEQUENCE)?;
    let (validity, _) = element(rest, TAG_SEQUENCE)?;
    let (_not_before, after) = time(validity)?;
    let (not_after, _) = time(after)?;
    Some(not_after)
}

/// The content of the element at the start of `input`, which must carry
/// `tag`, and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        // 0x80 is BER's indefinite length, which DER forbids.
        if count == 0 || count > LENGTH_BYTES_MAX || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().try_fold(0usize, |length, &b| {
            length.checked_mul(256)?.checked_add(usize::from(b))
        })?
    };
    if rest.len() < length {
        return None;
    }
    Some(rest.split_at(length))
}

/// A UTCTime or GeneralizedTime at the start of `input`, and what follows.
fn time(input: &[u8]) -> Option<(Expiry, &[u8])> {
    let (&tag, _) = input.split_first()?;
    let (text, rest) = element(input, tag)?;
    // RFC 5280 §4.1.2.5: both forms in UTC ("Z"), with seconds, no fraction.
    let digits = text.strip_suffix(b"Z")?;
    let year = match (tag, digits.len()) {
        (TAG_UTC_TIME, 12) => {
            let yy = number(&digits[..2])?;
            if yy >= 50 { 1900 + yy } else { 2000 + yy }
        }
        (TAG_GENERALIZED_TIME, 14) => number(&digits[..4])?,
        _ => return None,
    };
    let fields = &digits[digits.len() - 10..];
    let month = number(&fields[0..2])?;
    let day = number(&fields[2..4])?;
    let hour = number(&fields[4..6])?;
    let minute = number(&fields[6..8])?;
    let second = number(&fields[8..10])?;
    // Years come from four digits at most, so they fit any calendar type.
    let (year_u32, month_u32) = (year as u32, month as u32);
    let valid = (1..=12).contains(&month)
        && (1..=i64::from(civil::days_in_month(year_u32, month_u32))).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = civil::days_from_civil(year, month_u32, day as u32);
    let not_after_unix_s = days * 86_400 + hour * 3_600 + minute * 60 + second;
    let not_after_text =
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    Some((
        Expiry {
            not_after_unix_s,
            not_after_text,
        },
        rest,
    ))
}

fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + i64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            let length = (content.len() as u32).to_be_bytes();
            let skip = length.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (4 - skip) as u8);
            out.extend_from_slice(&length[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    fn certificate(not_before: &[u8], not_after: &[u8], with_version: bool) -> Vec<u8> {
        let mut tbs = Vec::new();
        if with_version {
            tbs.extend(tlv(TAG_VERSION, &tlv(TAG_INTEGER, &[2])));
        }
        tbs.extend(tlv(TAG_INTEGER, &[0x01, 0x23]));
        tbs.extend(tlv(TAG_SEQUENCE, &[0x06, 0x03, 0x2b, 0x65, 0x70]));
        // A long issuer, so that lengths in the long form are read too.
        tbs.extend(tlv(TAG_SEQUENCE, &[0x31; 300]));
        let mut validity = not_before.to_vec();
        validity.extend_from_slice(not_after);
        tbs.extend(tlv(TAG_SEQUENCE, &validity));
        tbs.extend(tlv(TAG_SEQUENCE, &[0; 40]));
        let mut certificate = tlv(TAG_SEQUENCE, &tbs);
        certificate.extend(tlv(TAG_SEQUENCE, &[0x06, 0x03, 0x2b, 0x65, 0x70]));
        certificate.extend(tlv(0x03, &[0; 65]));
        tlv(TAG_SEQUENCE, &certificate)
    }

    #[test]
    fn reads_not_after_in_both_time_forms() {
        let before = tlv(TAG_UTC_TIME, b"260101000000Z");
        let der = certificate(
            &before,
            &tlv(TAG_GENERALIZED_TIME, b"20270301123456Z"),
            true,
        );
        let found = expiry(&der).expect("a well-formed certificate");
        assert_eq!(found.not_after_text, "2027-03-01T12:34:56Z");
        // `date -u -d 2027-03-01T12:34:56Z +%s`
        assert_eq!(found.not_after_unix_s, 1_803_904_496);

        let der = certificate(&before, &tlv(TAG_UTC_TIME, b"491231235959Z"), false);
        assert_eq!(
            expiry(&der).map(|e| e.not_after_unix_s),
            Some(2_524_607_999)
        );
        let der = certificate(&before, &tlv(TAG_UTC_TIME, b"700101000000Z"), false);
        assert_eq!(expiry(&der).map(|e| e.not_after_unix_s), Some(0));
    }

    #[test]
    fn refuses_what_rfc_5280_does_not_allow() {
        let before = tlv(TAG_UTC_TIME, b"260101000000Z");
        for after in [
            tlv(TAG_UTC_TIME, b"270230000000Z"),         // 30 February
            tlv(TAG_UTC_TIME, b"271301000000Z"),         // month 13
            tlv(TAG_UTC_TIME, b"270101246000Z"),         // 24:60
            tlv(TAG_UTC_TIME, b"2701010000Z"),           // no seconds
            tlv(TAG_UTC_TIME, b"270101000000+0100"),     // not UTC
            tlv(TAG_GENERALIZED_TIME, b"270101000000Z"), // two-digit year
            tlv(TAG_INTEGER, b"270101000000Z"),          // not a time
        ] {
            assert_eq!(
                expiry(&certificate(&before, &after, true)),
                None,
                "{after:?}"
            );
        }
    }

    #[test]
    fn never_reads_past_the_input() {
        let before = tlv(TAG_UTC_TIME, b"260101000000Z");
        let der = certificate(&before, &tlv(TAG_UTC_TIME, b"270101000000Z"), true);
        assert!(expiry(&der).is_some());
        for cut in 0..der.len() {
            assert_eq!(expiry(&der[..cut]), None, "cut at {cut}");
        }
        // Indefinite and oversized lengths.
        assert_eq!(expiry(&[TAG_SEQUENCE, 0x80, 0, 0]), None);
        assert_eq!(expiry(&[TAG_SEQUENCE, 0x85, 1, 0, 0, 0, 0]), None);
        assert_eq!(expiry(&[TAG_SEQUENCE, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
