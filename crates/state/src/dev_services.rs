//! The citizen services and credential types of the development chain's
//! agencies: transport renews driver licences, immigration renews
//! passports and decides visas, health licenses professionals, education
//! issues library cards and exam certificates.
//!
//! Data, not code: a real consortium writes its own in its genesis or
//! defines them later by transaction.

use cityledger_types::credential::{FieldSpec, FieldSpecs, FieldType};
use cityledger_types::genesis::{
    GenesisCredentialType, GenesisFee, GenesisService, ROLE_APPLICATIONS_DECIDE,
    ROLE_CREDENTIALS_ISSUE, ROLE_CREDENTIALS_RENEW, ROLE_CREDENTIALS_REVOKE,
    ROLE_CREDENTIALS_SUSPEND, ROLE_EXAMS_GRADE,
};
use cityledger_types::limits::DAY_MS;
use cityledger_types::{
    Amount, CredentialType, CurrencyCode, FieldName, KindName, RoleName, ServiceName,
};

/// The obligation kind every dev service's fee is raised as.
pub const DEV_FEE_KIND: &str = "application_fee";

const YEAR_MS: u64 = 365 * DAY_MS;

/// A service of the dev chain, as plain text.
struct Service {
    service: &'static str,
    fee_minor: u128,
    evidence: &'static [&'static str],
    fields: &'static [(&'static str, FieldType, bool)],
    credential_type: &'static str,
    validity_ms_max: u64,
}

const TRANSPORT: &[Service] = &[Service {
    service: "driver_licence_renewal",
    fee_minor: 4_000,
    evidence: &["photo", "medical_certificate"],
    fields: &[
        ("licence_class", FieldType::Text, true),
        ("licence_number", FieldType::Commitment, true),
    ],
    credential_type: "driver_licence",
    validity_ms_max: 10 * YEAR_MS,
}];

const IMMIGRATION: &[Service] = &[
    Service {
        service: "passport_renewal",
        fee_minor: 8_500,
        evidence: &["photo", "old_passport"],
        fields: &[("passport_number", FieldType::Commitment, true)],
        credential_type: "passport",
        validity_ms_max: 10 * YEAR_MS,
    },
    Service {
        service: "visa_application",
        fee_minor: 6_000,
        evidence: &["passport_copy", "invitation_letter"],
        fields: &[
            ("visa_category", FieldType::Text, true),
            ("entries", FieldType::Integer, true),
            ("passport_number", FieldType::Commitment, true),
        ],
        credential_type: "visa",
        validity_ms_max: YEAR_MS,
    },
];

const HEALTH: &[Service] = &[Service {
    service: "professional_licence",
    fee_minor: 12_000,
    evidence: &["diploma", "registration"],
    fields: &[("profession", FieldType::Text, true)],
    credential_type: "professional_licence",
    validity_ms_max: 5 * YEAR_MS,
}];

const EDUCATION: &[Service] = &[Service {
    service: "library_card",
    fee_minor: 0,
    evidence: &["proof_of_address"],
    fields: &[],
    credential_type: "library_card",
    validity_ms_max: 5 * YEAR_MS,
}];

fn services_of(org: &str) -> &'static [Service] {
    match org {
        "transport" => TRANSPORT,
        "immigration" => IMMIGRATION,
        "health" => HEALTH,
        "education" => EDUCATION,
        _ => &[],
    }
}

fn role(text: &str) -> RoleName {
    RoleName::new(text).expect("built-in role names are valid")
}

/// The citizen services a city organisation decides, by its name.
pub fn dev_services(org: &str) -> Vec<GenesisService> {
    services_of(org)
        .iter()
        .map(|s| GenesisService {
            service: ServiceName::new(s.service).expect("built-in service names are valid"),
            decide_roles: vec![role(ROLE_APPLICATIONS_DECIDE)],
            fee: (s.fee_minor > 0).then(|| GenesisFee {
                amount: Amount(s.fee_minor),
                currency: CurrencyCode::new("CITY").expect("CITY is a valid code"),
                obligation_kind: KindName::new(DEV_FEE_KIND).expect("a valid kind name"),
                due_ms: 30 * DAY_MS,
            }),
            evidence: s
                .evidence
                .iter()
                .map(|name| FieldName::new(*name).expect("built-in evidence names are valid"))
                .collect(),
            fields: FieldSpecs::new(
                s.fields
                    .iter()
                    .map(|(name, field_type, required)| FieldSpec {
                        name: FieldName::new(*name).expect("built-in field names are valid"),
                        field_type: *field_type,
                        required: *required,
                    })
                    .collect(),
            )
            .expect("built-in field specifications are within bounds"),
            credential_type: CredentialType::new(s.credential_type)
                .expect("built-in credential types are valid"),
            validity_ms_max: s.validity_ms_max,
        })
        .collect()
}

/// The credential type an exam pass issues at the dev school.
pub const DEV_EXAM_CERTIFICATE: &str = "exam_certificate";

/// Credential types an organisation issues outside any service: the
/// school's exam certificates, issued when a teacher grades a pass.
fn credential_types_without_service(org: &str) -> &'static [&'static str] {
    match org {
        "education" => &[DEV_EXAM_CERTIFICATE],
        _ => &[],
    }
}

/// Roles the dev admin of an organisation holds besides the common ones:
/// the school's admin is also its teacher, so it grades exams.
pub fn dev_org_roles(org: &str) -> Vec<RoleName> {
    match org {
        "education" => vec![role(ROLE_EXAMS_GRADE)],
        _ => Vec::new(),
    }
}

/// The credential types a city organisation issues: those of its services
/// and those issued outside a service, each once, with every credential
/// role of the dev admin.
pub fn dev_credential_types(org: &str) -> Vec<GenesisCredentialType> {
    let mut types: Vec<&str> = services_of(org).iter().map(|s| s.credential_type).collect();
    types.extend(credential_types_without_service(org));
    types.dedup();
    types
        .into_iter()
        .map(|name| GenesisCredentialType {
            credential_type: CredentialType::new(name)
                .expect("built-in credential types are valid"),
            issue_roles: vec![role(ROLE_CREDENTIALS_ISSUE)],
            renew_roles: vec![role(ROLE_CREDENTIALS_RENEW)],
            suspend_roles: vec![role(ROLE_CREDENTIALS_SUSPEND)],
            revoke_roles: vec![role(ROLE_CREDENTIALS_REVOKE)],
        })
        .collect()
}

/// The roles a dev admin holds to decide applications and manage
/// credentials.
pub fn dev_service_roles() -> Vec<RoleName> {
    [
        ROLE_APPLICATIONS_DECIDE,
        ROLE_CREDENTIALS_ISSUE,
        ROLE_CREDENTIALS_RENEW,
        ROLE_CREDENTIALS_SUSPEND,
        ROLE_CREDENTIALS_REVOKE,
    ]
    .into_iter()
    .map(role)
    .collect()
}
