//! A CityLedger credential as a signed VC 2.0 document, and an issuer's
//! status list credential, through sign, verify and the status bit.

use cityledger_types::credential::{
    CredentialRecord, Field, FieldText, FieldValue, Fields, StatusChange, StatusChangeKind,
    StatusHistory, commitment,
};
use cityledger_types::{CredentialType, Digest, FieldName, Height, OrgName, RoleName, SecretKey};
use cityledger_vc::document::date_time;
use cityledger_vc::multibase::did_key;
use cityledger_vc::{
    Bitstring, StatusPurpose, credential_document, sign, status_list_document, verify,
};

fn licence(issuer: &SecretKey, holder: &SecretKey) -> CredentialRecord {
    let field = |name: &str, value| Field {
        name: FieldName::new(name).unwrap(),
        value,
    };
    CredentialRecord {
        credential_type: CredentialType::new("driver_licence").unwrap(),
        issuer: OrgName::new("transport").unwrap(),
        holder: holder.public_key(),
        claims: Fields::new(vec![
            field(
                "licence_class",
                FieldValue::Text(FieldText::new("B").unwrap()),
            ),
            field("entries", FieldValue::Integer(3)),
            field(
                "licence_number",
                FieldValue::Commitment(commitment(&[7; 32], "D-1234567")),
            ),
        ])
        .unwrap(),
        application: None,
        status_index: 131_075,
        history: StatusHistory::new(vec![StatusChange {
            height: Height(3),
            at_ms: 1_800_000_000_000,
            by: issuer.public_key(),
            role: RoleName::new("applications.decide").unwrap(),
            kind: StatusChangeKind::Issued {
                valid_from_ms: 1_800_000_000_000,
                valid_until_ms: 2_100_000_000_000,
            },
            reason: None,
        }])
        .unwrap(),
    }
}

#[test]
fn a_credential_exports_as_a_signed_vc_whose_status_entries_point_at_its_bits() {
    let issuer = SecretKey::from_seed([1; 32]);
    let holder = SecretKey::from_seed([2; 32]);
    let record = licence(&issuer, &holder);
    let id = Digest([9; 32]);
    let document =
        credential_document(&id, &record, &issuer.public_key(), "http://127.0.0.1:8080/");
    assert_eq!(
        document["@context"][0],
        "https://www.w3.org/ns/credentials/v2"
    );
    assert_eq!(document["type"][1], "DriverLicenceCredential");
    assert_eq!(document["issuer"]["id"], did_key(&issuer.public_key()));
    assert_eq!(
        document["credentialSubject"]["id"],
        did_key(&holder.public_key())
    );
    assert_eq!(document["credentialSubject"]["licence_class"], "B");
    assert_eq!(document["credentialSubject"]["entries"], 3);
    assert_eq!(
        document["credentialSubject"]["licence_number"]["type"],
        "SaltedCommitment"
    );
    assert_eq!(document["validFrom"], date_time(1_800_000_000_000));
    let revocation = &document["credentialStatus"][0];
    assert_eq!(revocation["type"], "BitstringStatusListEntry");
    assert_eq!(revocation["statusPurpose"], "revocation");
    assert_eq!(
        revocation["statusListIndex"], "3",
        "position 131,075 is bit 3 of list 1"
    );
    assert_eq!(
        revocation["statusListCredential"],
        "http://127.0.0.1:8080/v1/status-lists/transport/revocation/1"
    );
    assert_eq!(
        document["credentialStatus"][1]["statusPurpose"],
        "suspension"
    );

    let signed = sign(&document, &issuer, &date_time(1_800_000_100_000)).unwrap();
    assert_eq!(verify(&signed).unwrap(), issuer.public_key());
    let mut forged = signed.clone();
    forged["validUntil"] = "2099-01-01T00:00:00Z".into();
    assert!(
        verify(&forged).is_err(),
        "a holder cannot extend the validity"
    );

    let mut bits = Bitstring::default();
    bits.set(3).unwrap();
    let list = status_list_document(
        &record.issuer,
        &issuer.public_key(),
        StatusPurpose::Revocation,
        1,
        &bits,
        "http://127.0.0.1:8080",
        1_800_000_200_000,
    );
    assert_eq!(list["id"], revocation["statusListCredential"]);
    let signed_list = sign(&list, &issuer, &date_time(1_800_000_200_000)).unwrap();
    assert_eq!(verify(&signed_list).unwrap(), issuer.public_key());
    let encoded = signed_list["credentialSubject"]["encodedList"]
        .as_str()
        .unwrap();
    let decoded = Bitstring::decode(encoded).unwrap();
    let index: usize = revocation["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(decoded.get(index).unwrap(), "the revocation bit is set");
    assert!(!decoded.get(index + 1).unwrap());
}
