//! Education: exams with committed answers, grading and certificates.
//!
//! Owns `StateKey::Exam` and `ExamEntry` (ADR 0008). Commitments are taken
//! from the opening time until the deadline and reveals from the deadline
//! on, both judged against block time. A reveal anchors the answers as a
//! record through `records::anchor_record`, and its commitment must be the
//! committed one. A pass issues the exam's certificate through
//! `credentials::issue`, in the grading transaction.

use crate::credentials::{Issuance, Moment, issue, load_type};
use crate::events::Event;
use crate::governance::require_any_role;
use crate::ledger::OpContext;
use crate::outcome::{Rejection, reject};
use crate::records::anchor_record;
use crate::view::Layer;
use cityledger_types::credential::{Field, FieldText, FieldValue, Fields};
use cityledger_types::education::{
    EducationOp, ExamEntry, ExamRecord, ExamTerms, Grade, Revealed, exam_id,
};
use cityledger_types::genesis::{ROLE_ADMIN, ROLE_EXAMS_GRADE, ROLE_EXAMS_MANAGE};
use cityledger_types::limits::{EXAM_OPEN_MS_MAX, VALIDITY_MS_MAX};
use cityledger_types::record::Anchor;
use cityledger_types::records::StateKey;
use cityledger_types::{Address, Digest, FieldName, Height, PublicKey, RejectCode, RoleName};

/// Applies one education operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &EducationOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        EducationOp::CreateExam(terms) => create_exam(layer, context, height, terms, events),
        EducationOp::Commit { exam, commitment } => {
            commit(layer, context, height, exam, commitment, events)
        }
        EducationOp::Reveal { exam, anchor } => {
            reveal(layer, context, height, exam, anchor, events)
        }
        EducationOp::Grade {
            exam,
            student,
            score,
        } => grade(layer, context, height, exam, student, *score, events),
    }
}

fn role(name: &str) -> RoleName {
    RoleName::new(name).expect("role constants are valid names")
}

fn bad_terms(detail: impl Into<String>) -> Rejection {
    reject(RejectCode::BadExamTerms, detail)
}

fn check_terms(layer: &Layer<'_>, now_ms: u64, terms: &ExamTerms) -> Result<(), Rejection> {
    if terms.deadline_ms <= terms.opens_at_ms {
        return Err(bad_terms(format!(
            "the deadline {} must be after the opening time {}",
            terms.deadline_ms, terms.opens_at_ms
        )));
    }
    if terms.deadline_ms <= now_ms {
        return Err(bad_terms(format!(
            "the deadline {} must be after block time {now_ms}",
            terms.deadline_ms
        )));
    }
    if terms.deadline_ms - now_ms > EXAM_OPEN_MS_MAX {
        return Err(bad_terms(format!(
            "the deadline is more than EXAM_OPEN_MS_MAX ({EXAM_OPEN_MS_MAX} ms) after block time"
        )));
    }
    if terms.max_score == 0 || terms.pass_mark > terms.max_score {
        return Err(bad_terms(format!(
            "max_score {} must be above 0 and pass_mark {} at most max_score",
            terms.max_score, terms.pass_mark
        )));
    }
    if let Some(certificate) = &terms.certificate {
        load_type(layer, &terms.org, &certificate.credential_type)?;
        if certificate.valid_ms == 0 || certificate.valid_ms > VALIDITY_MS_MAX {
            return Err(bad_terms(format!(
                "a certificate is valid for 1 ms to VALIDITY_MS_MAX ({VALIDITY_MS_MAX} ms), not {}",
                certificate.valid_ms
            )));
        }
    }
    Ok(())
}

fn create_exam(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    terms: &ExamTerms,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let roles = [role(ROLE_EXAMS_MANAGE), role(ROLE_ADMIN)];
    require_any_role(layer, &terms.org, context.signer, &roles, "define exams")?;
    check_terms(layer, context.timestamp_ms, terms)?;
    let id = exam_id(context.tx_hash);
    layer.store(
        &StateKey::Exam(id),
        &ExamRecord {
            terms: terms.clone(),
            created_by: *context.signer,
            created_height: height,
        },
    );
    events.push(Event::ExamCreated {
        exam: id,
        org: terms.org.clone(),
        course: terms.course.clone(),
        opens_at_ms: terms.opens_at_ms,
        deadline_ms: terms.deadline_ms,
    });
    Ok(())
}

fn load_exam(layer: &Layer<'_>, id: &Digest) -> Result<ExamRecord, Rejection> {
    layer
        .load(&StateKey::Exam(*id))
        .ok_or_else(|| reject(RejectCode::UnknownExam, format!("exam {id} does not exist")))
}

fn load_entry(
    layer: &Layer<'_>,
    exam: &Digest,
    student: &PublicKey,
) -> Result<ExamEntry, Rejection> {
    layer
        .load(&StateKey::ExamEntry(*exam, *student))
        .ok_or_else(|| {
            reject(
                RejectCode::NoCommitment,
                format!("{student} committed no answers to exam {exam}"),
            )
        })
}

fn commit(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    commitment: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let exam = load_exam(layer, id)?;
    let now_ms = context.timestamp_ms;
    if now_ms < exam.terms.opens_at_ms {
        return Err(reject(
            RejectCode::ExamNotOpen,
            format!(
                "exam {id} takes commitments from {}; block time is {now_ms}",
                exam.terms.opens_at_ms
            ),
        ));
    }
    if now_ms >= exam.terms.deadline_ms {
        return Err(reject(
            RejectCode::ExamClosed,
            format!(
                "exam {id}'s deadline {} has passed (block time {now_ms}): a late commitment is refused",
                exam.terms.deadline_ms
            ),
        ));
    }
    let student = context.signer;
    layer.store(
        &StateKey::ExamEntry(*id, *student),
        &ExamEntry {
            commitment: *commitment,
            committed_height: height,
            committed_at_ms: now_ms,
            revealed: None,
            grade: None,
        },
    );
    events.push(Event::AnswersCommitted {
        exam: *id,
        org: exam.terms.org,
        student: Address::of_key(student),
        student_key: *student,
        commitment: *commitment,
    });
    Ok(())
}

fn reveal(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    anchor: &Anchor,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let exam = load_exam(layer, id)?;
    let student = context.signer;
    let now_ms = context.timestamp_ms;
    if now_ms < exam.terms.deadline_ms {
        return Err(reject(
            RejectCode::ExamNotClosed,
            format!(
                "exam {id} takes reveals from its deadline {}; block time is {now_ms}",
                exam.terms.deadline_ms
            ),
        ));
    }
    let mut entry = load_entry(layer, id, student)?;
    if let Some(revealed) = &entry.revealed {
        return Err(reject(
            RejectCode::AlreadyRevealed,
            format!(
                "{student} revealed exam {id} at height {} already",
                revealed.height.0
            ),
        ));
    }
    if anchor.commitment != entry.commitment {
        return Err(reject(
            RejectCode::CommitmentMismatch,
            format!(
                "the revealed answers' commitment {} is not the one committed at height {} ({})",
                anchor.commitment, entry.committed_height.0, entry.commitment
            ),
        ));
    }
    if anchor.org.is_some() || anchor.owner != *student {
        return Err(reject(
            RejectCode::BadRecord,
            "the answers are the student's own record: no organisation, owned by the signer",
        ));
    }
    let record = anchor_record(layer, context, height, anchor, events)?;
    entry.revealed = Some(Revealed {
        record,
        height,
        at_ms: now_ms,
    });
    layer.store(&StateKey::ExamEntry(*id, *student), &entry);
    events.push(Event::AnswersRevealed {
        exam: *id,
        org: exam.terms.org,
        student: Address::of_key(student),
        record,
    });
    Ok(())
}

fn claims(exam: &Digest, record: &ExamRecord, score: u32) -> Fields {
    let text = |value: &str| {
        FieldValue::Text(FieldText::new(value).expect("course names and hex ids are printable"))
    };
    let field = |name: &str, value| Field {
        name: FieldName::new(name).expect("built-in field names are valid"),
        value,
    };
    Fields::new(vec![
        field("course", text(record.terms.course.as_str())),
        field("exam", text(&exam.to_hex())),
        field("score", FieldValue::Integer(i64::from(score))),
        field(
            "max_score",
            FieldValue::Integer(i64::from(record.terms.max_score)),
        ),
    ])
    .expect("four distinct claims are within bounds")
}

fn grade(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    student: &PublicKey,
    score: u32,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let exam = load_exam(layer, id)?;
    let teacher = require_any_role(
        layer,
        &exam.terms.org,
        context.signer,
        &[role(ROLE_EXAMS_GRADE)],
        "grade exams",
    )?;
    let mut entry = load_entry(layer, id, student)?;
    if entry.revealed.is_none() {
        return Err(reject(
            RejectCode::NotRevealed,
            format!("{student} has not revealed the answers to exam {id}"),
        ));
    }
    if let Some(grade) = &entry.grade {
        return Err(reject(
            RejectCode::AlreadyGraded,
            format!(
                "{student}'s answers to exam {id} were graded at height {} already",
                grade.height.0
            ),
        ));
    }
    if score > exam.terms.max_score {
        return Err(reject(
            RejectCode::BadExamTerms,
            format!(
                "score {score} is above the exam's maximum {}",
                exam.terms.max_score
            ),
        ));
    }
    let passed = score >= exam.terms.pass_mark;
    let credential = match (&exam.terms.certificate, passed) {
        (Some(certificate), true) => {
            let claims = claims(id, &exam, score);
            let valid_until_ms = context
                .timestamp_ms
                .checked_add(certificate.valid_ms)
                .ok_or_else(|| bad_terms("the certificate's validity overflows block time"))?;
            let issuance = Issuance {
                org: &exam.terms.org,
                credential_type: &certificate.credential_type,
                holder: student,
                claims: &claims,
                valid_until_ms,
                application: None,
                role: teacher,
            };
            let moment = Moment { context, height };
            Some(issue(layer, &moment, &issuance, events)?)
        }
        _ => None,
    };
    entry.grade = Some(Grade {
        score,
        passed,
        by: *context.signer,
        height,
        at_ms: context.timestamp_ms,
        credential,
    });
    layer.store(&StateKey::ExamEntry(*id, *student), &entry);
    events.push(Event::ExamGraded {
        exam: *id,
        org: exam.terms.org,
        student: Address::of_key(student),
        score,
        passed,
        credential,
    });
    Ok(())
}
